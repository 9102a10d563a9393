"""What every asset shares: the project partitions, the retry policy, the error boundary.

Every failure is built as one `Problem` and turned into a `dg.Failure` here. Two kinds are never
retried, wherever in a step they happen: a full disk (a retry fails the same way until space is
freed) and a cancel (Dagster would otherwise turn the terminate interrupt into a step retry when
the step has a RetryPolicy, dagster#15026), nor is any error raised while the run is canceling.
`step_boundary` puts a whole asset body inside this boundary.
"""

import contextlib
import errno
import functools
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg

from pipeline.failure import Problem
from pipeline.providers.errors import InvalidModelOutput, PermanentProviderError, ProviderError, RateLimited
from pipeline.render.ffmpeg import DiskFull, MissingTool, RenderError

projects = dg.DynamicPartitionsDefinition(name="projects")

RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

ASSET_DEFAULTS = dict(partitions_def=projects, retry_policy=RETRY)

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
INTERRUPTS = (dg.DagsterExecutionInterruptedError, KeyboardInterrupt)


def is_disk_full(error: BaseException) -> bool:
    """Whether an error means the disk (or the user's quota) is full: Python's OSError or ffmpeg's."""
    return isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in FULL_DISK)


def disk_full(error: OSError | DiskFull, where: str, folder: Path) -> Problem:
    """A full disk, with the path it happened on (the data folder when the write did not name one)."""
    if isinstance(error, DiskFull):
        reason, path, during = error.reason.lower(), error.path, f" while {error.what}"
    else:
        reason = "disk quota exceeded" if error.errno == errno.EDQUOT else "no space left on device"
        path, during = error.filename, ""
    return Problem(
        message=f"disk full ({reason}){during}, writing {path or f'into {folder}'}",
        where=where,
        hint=f"free space on the filesystem of {folder}: old projects (`pipeline delete PROJECT`), "
             f"{folder / 'cache'}/ (rebuilt when needed); then run the step again",
        details={"path": str(path or folder), "data_folder": str(folder)},
    )


def canceled(where: str) -> Problem:
    return Problem(message="canceled: the run was terminated", where=where,
                   hint="finished items are kept: re-execute the run from failure to go on")


def failure(problem: Problem) -> dg.Failure:
    """The Dagster failure of a Problem: retried by the step's RetryPolicy only if it is retryable."""
    return dg.Failure(description=problem.text(), metadata=problem.metadata(), allow_retries=problem.retryable)


def interrupted(error: BaseException | None) -> bool:
    """Whether an error is a cancel's interrupt, or was raised while one was handled (e.g. by the close of
    a file the interrupt left half-written), which would otherwise hide it."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, INTERRUPTS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def retried(error: BaseException) -> bool:
    """Whether a step's RetryPolicy retries it after this error (as Dagster's own boundary decides)."""
    if isinstance(error, dg.Failure):
        return error.allow_retries
    return isinstance(error, Exception) and not isinstance(error, dg.DagsterError)


@contextlib.contextmanager
def failures(what: str, folder: Path | None = None, canceling: Callable[[], bool] | None = None) -> Iterator[None]:
    """Turn errors into Dagster failures: permanent ones, a cancel and a full disk are not retried.

    A full disk is reported with the data folder, to say what to free: without `folder` it goes on
    to the step boundary (`step_boundary`), which knows it. `canceling` (the step boundary's) tells
    whether the run is being canceled: then an error that would be retried is a cancel instead.
    """
    try:
        yield
    except BaseException as e:
        outcome = _outcome(e, what, folder, canceling)
        if outcome is None:
            raise
        raise outcome from e


def _outcome(error: BaseException, what: str, folder: Path | None,
             canceling: Callable[[], bool] | None) -> dg.Failure | dg.RetryRequested | None:
    """What the boundary raises instead of `error`; None lets `error` through unchanged."""
    if not isinstance(error, (Exception, *INTERRUPTS)):
        return None  # GeneratorExit (a body closed while an interrupt unwinds), SystemExit
    if isinstance(error, dg.Failure) and not error.allow_retries:
        return None  # final already, e.g. built by an inner boundary
    if interrupted(error):
        return failure(canceled(what))
    if is_disk_full(error):
        return failure(disk_full(error, what, folder)) if folder is not None else None  # type: ignore[arg-type]
    if canceling is not None and retried(error) and canceling():
        return failure(canceled(what))
    if isinstance(error, RateLimited):
        # The server said how long to wait: the step retry waits that long, not the policy's backoff.
        wait = error.retry_after if error.retry_after is not None else RETRY.delay or 2
        return dg.RetryRequested(max_retries=RETRY.max_retries, seconds_to_wait=wait)
    if isinstance(error, (PermanentProviderError, InvalidModelOutput, MissingTool)):
        return failure(Problem(str(error), where=what))
    if isinstance(error, (ProviderError, RenderError)):
        return failure(Problem(str(error), where=what, retryable=True))
    return None


F = TypeVar("F", bound=Callable[..., Any])
STOPPING = (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)


def step_boundary(body: F) -> F:
    """Run a whole asset body (generator or not) inside `failures(<asset>, <its data folder>, <canceling>)`.

    Put it under `@dg.asset`: a cancel or a full disk anywhere in the step then fails it once, with
    its cause, instead of being retried; so does any error raised while the run is being canceled.
    The data folder is the body's `DataFolder` resource.
    """
    name = body.__name__

    def boundary(args: tuple[Any, ...], kwargs: dict[str, Any]) -> contextlib.AbstractContextManager[None]:
        from pipeline.defs.resources import DataFolder  # resources use this module's boundary

        folder = next((v.root for v in kwargs.values() if isinstance(v, DataFolder)), None)
        context = args[0] if args and isinstance(args[0], dg.AssetExecutionContext) else None

        def canceling() -> bool:
            run = context.instance.get_run_by_id(context.run_id) if context is not None else None
            return run is not None and run.status in STOPPING

        return failures(name, folder, canceling)

    if inspect.isgeneratorfunction(body):
        @functools.wraps(body)
        def steps(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with boundary(args, kwargs):
                yield from body(*args, **kwargs)

        return steps  # type: ignore[return-value]

    @functools.wraps(body)
    def step(*args: Any, **kwargs: Any) -> Any:
        with boundary(args, kwargs):
            return body(*args, **kwargs)

    return step  # type: ignore[return-value]
