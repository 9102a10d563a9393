"""What every asset shares: the project partitions, the retry policy, the error boundary."""

import contextlib
from collections.abc import Iterator

import dagster as dg

from pipeline.providers.errors import InvalidModelOutput, PermanentProviderError, ProviderError, RateLimited
from pipeline.render.ffmpeg import MissingTool, RenderError

projects = dg.DynamicPartitionsDefinition(name="projects")

RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

ASSET_DEFAULTS = dict(partitions_def=projects, retry_policy=RETRY)


@contextlib.contextmanager
def failures(what: str) -> Iterator[None]:
    """Turn provider and render errors into Dagster failures: permanent ones are not retried."""
    try:
        yield
    except (PermanentProviderError, InvalidModelOutput, MissingTool) as e:
        raise dg.Failure(description=f"{what}: {e}", allow_retries=False) from e
    except RateLimited as e:
        # The server said how long to wait: the step retry waits that long, not the policy's backoff.
        wait = e.retry_after if e.retry_after is not None else RETRY.delay or 2
        raise dg.RetryRequested(max_retries=RETRY.max_retries, seconds_to_wait=wait) from e
    except (ProviderError, RenderError) as e:
        raise dg.Failure(description=f"{what}: {e}") from e
