"""Runs whose projection fails for a reason other than Redis: recorded, retried on every pass, cleared.

One run that cannot be projected (an event the view cannot handle, a bug) must not hold back the
others. Its error is kept in the projection state (durable) and, best effort, in Redis under
`{prefix}projection:error:{project}`, where `pipeline status PROJECT` reads it.
"""

import json
import logging

import redis

from pipeline.events.entries import iso
from pipeline.events.keys import Keys
from pipeline.events.redis_sink import RedisSink
from pipeline.events.state import ProjectionState, RunError

log = logging.getLogger(__name__)

MAX_ERROR = 2000


def projection_error(client: redis.Redis, prefix: str, project: str) -> dict | None:
    """Why the project's events stopped reaching Redis, or None when they reach it.

    Returns:
        `{"run_id", "error", "at", "since", "attempts"}`: the run whose projection fails, the error
        (type and message), the last and the first failure (ISO 8601, UTC) and how many passes failed.
    """
    raw = client.get(Keys(prefix).error(project))
    return json.loads(raw) if raw else None


class Faults:
    """The failing runs of one projector, mirrored in its state and, best effort, in Redis."""

    def __init__(self, state: ProjectionState, sink: RedisSink):
        self.state = state
        self.sink = sink
        self.failing: dict[str, RunError] = {e.run_id: e for e in state.errors()}

    def failed(self, run_id: str, project: str, error: Exception) -> None:
        """Record that projecting the run failed; warn when the error is new."""
        text = f"{type(error).__name__}: {error}"[:MAX_ERROR]
        previous = self.failing.get(run_id)
        record = self.state.record_error(run_id, project, text)
        self.failing[run_id] = record
        if previous is None or previous.error != text:
            log.warning("projecting run %s of %r failed; retried on every pass, other runs go on: %s",
                        run_id, project, text, exc_info=error)
        if project:
            self._best_effort(lambda: self.sink.client.set(self.sink.keys.error(project), json.dumps(
                {"run_id": run_id, "error": text, "at": iso(record.at), "since": iso(record.first_at),
                 "attempts": record.attempts})))

    def succeeded(self, run_id: str) -> None:
        """The run projected fine: clear its record, if it had one."""
        record = self.failing.pop(run_id, None)
        if record is None:
            return
        self.state.clear_error(run_id)
        log.info("run %s of %r projects again after %d failed passes", run_id, record.project, record.attempts)
        if record.project:
            self._best_effort(lambda: self._clear_redis(record))

    def _clear_redis(self, record: RunError) -> None:
        key = self.sink.keys.error(record.project)
        shown = self.sink.client.get(key)
        if shown and json.loads(shown).get("run_id") == record.run_id:  # another failing run may show there
            self.sink.client.delete(key)

    @staticmethod
    def _best_effort(write) -> None:  # type: ignore[no-untyped-def]
        try:
            write()
        except (redis.RedisError, OSError) as e:
            log.debug("projection error not shown in Redis: %s", e)
