"""What the HTTP client did during one provider call (requests, cache hits, attempts), for verbose logs.

Whoever reports a call (pipeline/calls.py) opens a trace around it; the client notes into the trace
open in its thread, if any. Nothing here ever holds a request's content, a header or a key.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class CallTrace:
    requests: int = 0  # HTTP requests answered, from the network or the response cache
    cached: int = 0  # of which from the response cache
    attempt: int = 0  # the highest attempt (1 = first try) any request needed

    @property
    def cache(self) -> str:
        """`hit` when every answer came from the cache, `miss` when one did not, `none` without HTTP."""
        if not self.requests:
            return "none"
        return "hit" if self.cached == self.requests else "miss"


_current: contextvars.ContextVar[CallTrace | None] = contextvars.ContextVar("provider_call_trace", default=None)


@contextlib.contextmanager
def traced() -> Iterator[CallTrace]:
    """A trace of the HTTP requests made in this thread until the block ends."""
    trace = CallTrace()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def note_cached() -> None:
    """An answer came from the response cache."""
    if (trace := _current.get()) is not None:
        trace.requests += 1
        trace.cached += 1


def note_attempt(attempt: int, answered: bool) -> None:
    """Attempt `attempt` (1 = first try) of a request went out; `answered` when it got its reply."""
    if (trace := _current.get()) is not None:
        trace.attempt = max(trace.attempt, attempt)
        trace.requests += 1 if answered else 0
