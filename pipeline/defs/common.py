"""What every asset shares: the project partitions, the retry policy, the error boundary.

Every failure is built as one `Problem` with a stable code (pipeline/codes.py) and turned into a
`dg.Failure` here, so the step's Dagster failure metadata carries `error_code`, `where`, `hint` and
`retryable`. Two kinds are never retried, wherever in a step they happen: a full disk (a retry
fails the same way until space is freed) and a cancel (Dagster would otherwise turn the terminate
interrupt into a step retry when the step has a RetryPolicy, dagster#15026), nor is any error
raised while the run is canceling. `step_boundary` puts a whole asset body inside this boundary.
"""

import contextlib
import errno
import functools
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg

from pipeline.codes import KINDS, ROLES, provider_code
from pipeline.failure import Problem
from pipeline.objects.s3 import StoreUnavailable
from pipeline.providers.errors import (
    InvalidModelOutput,
    MissingEngine,
    PermanentProviderError,
    ProviderError,
    RateLimited,
)
from pipeline.render.ffmpeg import DiskFull, MissingTool, RenderError

projects = dg.DynamicPartitionsDefinition(name="projects")

RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

ASSET_DEFAULTS = dict(partitions_def=projects, retry_policy=RETRY)

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
INTERRUPTS = (dg.DagsterExecutionInterruptedError, KeyboardInterrupt)

# The provider role a step calls: the role of an error that does not say its own (a provider written elsewhere).
STEP_ROLES = {"outline": "text", "chapters": "text", "script": "text", "narration": "speech", "images": "images",
              "presenter": "avatar", "publication": "publisher"}
TOOLS_HINT = ("install it (`make setup` as root installs ffmpeg, espeak-ng, fontconfig and the fonts), then run "
              "the step again")
# What to do about a provider failure whose error gives no hint of its own.
KIND_HINTS = {
    "auth": "check the provider's credentials",
    "rate_limited": "the step waits as long as the server asks and tries again; lower the provider's "
                    "MAX_IN_FLIGHT if it keeps happening",
    "quota": "add credit or raise the quota of the provider account",
    "content_policy": "rephrase the input the provider refused",
    "timeout": "raise the provider's timeout, or run the step again later",
    "server_error": "the step is tried again; if it keeps failing, check the provider's status",
    "bad_request": "check the provider's model and settings",
    "invalid_output": "run the step again, or choose a model that keeps to the format",
}


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
        code="DISK_FULL",
        hint=f"free space on the filesystem of {folder}: old projects (`pipeline delete PROJECT`), "
             f"{folder / 'cache'}/ (rebuilt when needed); then run the step again",
        details={"path": str(path or folder), "data_folder": str(folder)},
    )


def canceled(where: str) -> Problem:
    return Problem(message="canceled: the run was terminated", where=where, code="CANCELED",
                   hint="finished items are kept: re-execute the run from failure to go on")


def unreadable(error: ValueError, where: str) -> Problem:
    """A file the brief names (a context file, the logo) that no longer reads as it did when the brief was checked."""
    return Problem(str(error), where=where, code="INPUT_UNREADABLE",
                   hint="fix or replace the file in the data folder (or change the brief), then run the step again")


def step_role() -> str | None:
    """The provider role of the step running now (None outside a step, or for a step that calls none)."""
    try:
        return STEP_ROLES.get(dg.OpExecutionContext.get().op_def.name)
    except dg.DagsterInvariantViolationError:
        return None


def provider_problem(error: ProviderError, where: str, role: str | None = None) -> Problem:
    """A provider's failure: <ROLE>_<KIND> (the error's role, else `role`, else the step's), SCRIPT_INVALID for
    the script, RENDER_TOOL_MISSING for a local engine that is not installed."""
    role = error.role or role or step_role()
    if isinstance(error, MissingEngine):
        code = "RENDER_TOOL_MISSING"  # its hint says how to install it
    elif isinstance(error, InvalidModelOutput) and error.task == "script":
        code = "SCRIPT_INVALID"
    elif role in ROLES and error.kind in KINDS:
        code = provider_code(role, error.kind)
    else:
        code = "STEP_FAILED"
    details: dict[str, Any] = {"provider": error.provider}
    if error.status is not None:
        details["http_status"] = error.status
    if isinstance(error, RateLimited) and error.retry_after is not None:
        details["retry_after"] = error.retry_after
    return Problem(str(error), where=where, code=code, hint=error.hint or KIND_HINTS.get(error.kind, ""),
                   retryable=not isinstance(error, (PermanentProviderError, InvalidModelOutput)), details=details)


def problem_of(error: BaseException, where: str) -> Problem | None:
    """The Problem of a provider's or a render tool's error (None for any other)."""
    if isinstance(error, ProviderError):
        return provider_problem(error, where)
    if isinstance(error, MissingTool):
        return Problem(str(error), where=where, code="RENDER_TOOL_MISSING", hint=TOOLS_HINT)
    if isinstance(error, RenderError):
        return Problem(str(error), where=where, code="RENDER_FAILED", retryable=True)
    if isinstance(error, StoreUnavailable):
        return Problem(str(error), where=where, code="STORAGE_UNAVAILABLE", retryable=True,
                       hint="check the bucket, endpoint and credentials (PIPELINE_S3_*, AWS_*); the step is tried again")
    return None


def unexpected(error: BaseException, where: str) -> Problem:
    """An error no rule knows (a bug, most likely): retried by the step's RetryPolicy, as Dagster would."""
    return Problem(f"{type(error).__name__}: {error}", where=where, code="STEP_FAILED", retryable=True,
                   hint="an unexpected error: the run's logs hold its traceback; the step is tried again")


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
def failures(what: str, folder: Path | None = None, canceling: Callable[[], bool] | None = None,
             last: bool = False) -> Iterator[None]:
    """Turn errors into Dagster failures with their codes: permanent ones, a cancel and a full disk are not retried.

    A full disk is reported with the data folder, to say what to free: without `folder` it goes on
    to the step boundary (`step_boundary`), which knows it. `canceling` (the step boundary's) tells
    whether the run is being canceled: then an error that would be retried is a cancel instead.
    `last` (the step boundary) turns any other error into STEP_FAILED; an inner boundary lets it through.
    """
    try:
        yield
    except BaseException as e:
        outcome = _outcome(e, what, folder, canceling, last)
        if outcome is None:
            raise
        if isinstance(outcome, dg.RetryRequested):
            raise outcome  # caused by its final failure, which `e` caused
        raise outcome from e


def _outcome(error: BaseException, what: str, folder: Path | None, canceling: Callable[[], bool] | None,
             last: bool = False) -> dg.Failure | dg.RetryRequested | None:
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
    problem = problem_of(error, what)
    if problem is None and last and retried(error) and not isinstance(error, (dg.Failure, dg.RetryRequested)):
        problem = unexpected(error, what)
    if problem is None:
        return None  # a retryable failure of an inner boundary, a step retry, Dagster's own errors
    final = failure(problem)
    if not isinstance(error, RateLimited):
        return final
    # The server said how long to wait: the step retry waits that long, not the policy's backoff. Once
    # max_retries is exceeded Dagster reports the retry's cause as the step's failure: the final failure.
    final.__cause__ = error
    retry = dg.RetryRequested(max_retries=RETRY.max_retries,
                              seconds_to_wait=error.retry_after if error.retry_after is not None else RETRY.delay or 2)
    retry.__cause__ = final
    return retry


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
            run = context.instance.get_run_by_id(context.run.run_id) if context is not None else None
            return run is not None and run.status in STOPPING

        return failures(name, folder, canceling, last=True)

    from pipeline.defs.ops.parallel import in_body  # a cancel lands in the body only, never in Dagster's handling

    if inspect.isgeneratorfunction(body):
        @functools.wraps(body)
        def steps(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with boundary(args, kwargs):
                outputs = body(*args, **kwargs)
                while True:
                    with in_body():  # while Dagster handles a yielded output, the body is not running
                        try:
                            item = next(outputs)
                        except StopIteration:
                            return
                    yield item

        return steps  # type: ignore[return-value]

    @functools.wraps(body)
    def step(*args: Any, **kwargs: Any) -> Any:
        with boundary(args, kwargs), in_body():
            return body(*args, **kwargs)

    return step  # type: ignore[return-value]
