"""The projector: reads Dagster's event log run by run and publishes it to Redis, in order, once.

One projector leads per instance on a machine (it holds an abstract Unix socket); every Dagster
process pokes it with the run id after storing an event, and it also sweeps recently updated runs,
so events written while Redis was down are published once it is back. A Redis that comes back empty
(it keeps nothing on disk here) is noticed by a missing epoch key, and recent runs are projected
again from the start.
"""

import logging
import time
import uuid
from pathlib import Path

import dagster as dg
import redis
from dagster._core.storage.event_log.base import EventLogCursor

from pipeline.events.entries import RunView
from pipeline.launch.guard import REFUSED_TAG  # a launch refused as a duplicate: never projected
from pipeline.events.redis_sink import Published, RedisSink
from pipeline.events.state import ProjectionState
from pipeline.store import ARTIFACTS, ProjectFiles, default_data_dir

log = logging.getLogger(__name__)

REBUILD_WINDOW = 7 * 24 * 3600
BATCH = 500
SAVE_EVERY = 0.5  # seconds between durable cursor writes of a running run


def job_outputs(project: str) -> dict[str, str]:
    """The artifacts a project has on disk, for job_result."""
    files = ProjectFiles(default_data_dir(), project)
    names = {"outline": "outline", "manuscript": "manuscript", "video": "video", "thumbnail": "thumbnail",
             "subtitles": "subtitles"}
    return {name: str(files.path(ARTIFACTS[key])) for name, key in names.items()
            if files.path(ARTIFACTS[key]).exists()}


class Projector:
    """Projects runs of one Dagster instance into Redis through a RedisSink."""

    def __init__(self, instance: dg.DagsterInstance, state: ProjectionState, sink: RedisSink):
        self.instance = instance
        self.state = state
        self.sink = sink
        self.views: dict[str, tuple[RunView, int]] = {}  # run id -> (view, storage id it has applied)
        self.runs: dict[str, dg.DagsterRun | None] = {}
        self._swept_until = time.time() - 3600
        self._saved: dict[str, float] = {}  # run id -> when its cursor was last made durable

    def check_epoch(self) -> bool:
        """True when Redis lost what was projected (restarted empty); schedules recent runs again."""
        key = self.sink.key("projection:epoch")
        known = self.state.get(f"epoch:{self.sink.prefix}")
        current = self.sink.client.get(key)
        if current is not None and current == known:
            return False
        token = uuid.uuid4().hex
        wiped = known is not None and current != known
        if wiped:
            runs = [p.run_id for p in self.state.recent(time.time() - REBUILD_WINDOW)]
            log.warning("Redis lost the projection (epoch changed); projecting %d recent runs again", len(runs))
            self.state.reset(runs)
            self.views.clear()
        self.sink.client.set(key, token)
        self.state.put(f"epoch:{self.sink.prefix}", token)
        return wiped

    def _run(self, run_id: str) -> dg.DagsterRun | None:
        """The run, cached once it was submitted (its tags, e.g. refused, are final by then)."""
        if run_id in self.runs:
            return self.runs[run_id]
        run = self.instance.get_run_by_id(run_id)
        if run is not None and run.status != dg.DagsterRunStatus.NOT_STARTED:
            self.runs[run_id] = run
        return run

    def project_run(self, run_id: str) -> int:
        """Publish the run's events not yet published; returns how many were new in Redis."""
        view, cursor = self.views.get(run_id, (None, -1))
        if view is None:
            position = self.state.position(run_id)
            cursor = position.cursor if position else -1
        run = self._run(run_id)
        if run is None or "dagster/partition" not in run.tags:
            return 0
        if run.status == dg.DagsterRunStatus.NOT_STARTED:
            return 0  # not submitted yet: it may still be refused; its first events wait in the log
        if run.tags.get(REFUSED_TAG):
            self.state.advance(run_id, run.tags["dagster/partition"], cursor, True)
            return 0
        if view is None:
            view = self._replay(run, cursor)
        published = 0
        while True:
            records = self.instance.event_log_storage.get_records_for_run(
                run_id, cursor=EventLogCursor.from_storage_id(cursor).to_string() if cursor >= 0 else None,
                limit=BATCH).records
            if not records:
                break
            items = []
            for record in records:
                change = view.apply(record)
                result = None
                if change.final_status:
                    result = {"project": view.project, "run_id": run_id, "status": change.final_status,
                              "outputs": job_outputs(view.project)}
                items.append(Published(run_id, record.storage_id, view.project, view.batch, change, result))
            try:
                published += self.sink.publish(items)
            except BaseException:
                self.views.pop(run_id, None)  # rebuilt by replay from the durable cursor next time
                raise
            cursor = records[-1].storage_id
            self.views[run_id] = (view, cursor)
            done = view.status in ("succeeded", "failed", "canceled")
            # The durable cursor may lag: what it re-publishes, Redis skips. Save at most twice a second.
            if done or time.monotonic() - self._saved.get(run_id, 0.0) > SAVE_EVERY:
                self.save(run_id)
        return published

    def save(self, run_id: str) -> None:
        """Make the run's position durable."""
        view, cursor = self.views[run_id]
        done = view.status in ("succeeded", "failed", "canceled")
        self.state.advance(run_id, view.project, cursor, done)
        self._saved[run_id] = time.monotonic()
        if done:
            self.runs.pop(run_id, None)

    def _replay(self, run: dg.DagsterRun, cursor: int) -> RunView:
        """The run's view after the events already published (up to `cursor`)."""
        view = RunView.for_run(run)
        if cursor >= 0:
            records = self.instance.event_log_storage.get_records_for_run(run.run_id).records
            for record in records:
                if record.storage_id > cursor:
                    break
                view.apply(record)
        return view

    def sweep(self) -> int:
        """Project every run with events that may be unpublished: pending ones and recently updated ones."""
        started = time.time()
        runs = set(self.state.pending())
        for run in self.instance.get_runs(dg.RunsFilter(updated_after=_dt(self._swept_until - 5)), limit=1000):
            if "dagster/partition" in run.tags:
                runs.add(run.run_id)
        published = sum(self.project_run(run_id) for run_id in sorted(runs))
        for run_id in list(self.views):
            if self._saved.get(run_id, 0.0) < time.monotonic() - SAVE_EVERY:
                self.save(run_id)
        self._swept_until = started
        return published

    def resync(self, project: str) -> int:
        """Project every run of `project` again; only what Redis lacks is written.

        Per run, Redis keeps how far each stream got; when a stream is gone (deleted, or Redis
        emptied) its positions are dropped, so that stream alone is rebuilt from the event log.
        """
        client, key = self.sink.client, self.sink.key
        runs = list(reversed(self.instance.get_runs(dg.RunsFilter(tags={"dagster/partition": project}))))
        stale = []
        if not client.exists(key(f"events:{project}")):
            stale += [key(f"projection:pos:{r.run_id}") for r in runs] + [key(f"generation_logs:{project}")]
        if not client.exists(key("events")):
            stale += [key(f"projection:gpos:{r.run_id}") for r in runs]
        if stale:
            client.delete(*stale)
        self.state.reset([r.run_id for r in runs])
        self.views.clear()
        return sum(self.project_run(r.run_id) for r in runs)


def _dt(ts: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


def state_for(instance: dg.DagsterInstance) -> ProjectionState:
    """The projection state store beside the instance's storage."""
    from pipeline.storage.backends import postgres_url, storage_backend

    if storage_backend() == "postgres":
        return ProjectionState(postgres_url())
    storage = instance.event_log_storage
    folder = Path(getattr(storage, "_base_dir", None) or Path(instance.root_directory) / "storage")
    folder.mkdir(parents=True, exist_ok=True)
    return ProjectionState.sqlite(str(folder))


def is_redis_down(error: BaseException) -> bool:
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError, OSError))
