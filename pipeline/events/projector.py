"""The projector: reads Dagster's event log run by run and publishes it to Redis, in order, once.

One projector leads per instance on a machine (it holds an abstract Unix socket); every Dagster
process pokes it with the run id after storing an event, and it also sweeps recently updated runs,
so events written while Redis was down are published once it is back. A Redis that comes back empty
(it keeps nothing on disk here) is noticed by a missing epoch key, and recent runs are projected
again from the start.

A run is projected on its own: one that cannot be (its partition is not a project id, or an error
other than Redis being down) is set aside without holding back the others (see faults.py).
"""

import logging
import time
import uuid
from pathlib import Path

import dagster as dg
import redis
from dagster._core.storage.event_log.base import EventLogCursor

from pipeline.events.entries import FINAL_STATES, RunView
from pipeline.events.faults import Faults
from pipeline.events.redis_sink import Published, RedisSink
from pipeline.events.state import ProjectionState
from pipeline.events.target import Target
from pipeline.ids import project_id_problem
from pipeline.tags import PROJECT, REFUSED  # a refused launch is never projected
from pipeline.workers.settings import SettingsError, distributed

log = logging.getLogger(__name__)

REBUILD_WINDOW = 7 * 24 * 3600
BATCH = 500
# With steps on several hosts, two writers' events can commit out of storage-id order; an event
# younger than this is left for the next pass, so a later id never overtakes an earlier one.
SETTLE_SECONDS = 0.5
SAVE_EVERY = 0.5  # seconds between durable cursor writes of a running run


# job_result outputs: (asset, metadata key) of each artifact, as the step that made it recorded it, on
# whichever worker it ran; never this process's own data folder, which may not be the workers'.
OUTPUTS = {"outline": ("outline", "stored"), "manuscript": ("manuscript", "path"), "video": ("video", "path"),
           "thumbnail": ("thumbnail", "path"), "subtitles": ("video", "subtitles")}


def job_outputs(instance: dg.DagsterInstance, project: str) -> dict[str, str]:
    """The artifacts a project has, for job_result: the paths its latest materialisations recorded."""
    outputs: dict[str, str] = {}
    latest: dict[str, dict] = {}
    for name, (asset, key) in OUTPUTS.items():
        if asset not in latest:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[project]), limit=1).records
            materialization = records[0].asset_materialization if records else None
            latest[asset] = dict(materialization.metadata) if materialization is not None else {}
        value = latest[asset].get(key)
        if value is not None:
            outputs[name] = str(getattr(value, "value", value))
    return outputs


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
        self.faults = Faults(state, sink)
        self._ignored: set[str] = set()  # runs whose partition is no project id, warned about
        self.settle = _distributed()  # events of one run come from several hosts

    def check_epoch(self) -> bool:
        """True when Redis lost what was projected (restarted empty); schedules recent runs again."""
        key = self.sink.keys.epoch(self.state.target)  # one per target sharing this Redis
        known = self.state.get(f"epoch:{self.state.target}")
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
        self.state.put(f"epoch:{self.state.target}", token)
        return wiped

    def _run(self, run_id: str) -> dg.DagsterRun | None:
        """The run, cached once it was submitted (its tags, e.g. refused, are final by then)."""
        if run_id in self.runs:
            return self.runs[run_id]
        run = self.instance.get_run_by_id(run_id)
        if run is not None and run.status != dg.DagsterRunStatus.NOT_STARTED:
            self.runs[run_id] = run
        return run

    def project(self, run_id: str) -> int:
        """`project_run`, isolated: an error other than Redis being down is recorded, retried on later passes."""
        try:
            published = self.project_run(run_id)
        except Exception as e:  # noqa: BLE001 - one run's fault must not hold back the others; it is recorded
            if is_redis_down(e):
                raise  # the leader backs off; events wait in the log
            run = self.runs.get(run_id)
            self.faults.failed(run_id, run.tags.get(PROJECT, "") if run else "", e)
            return 0
        self.faults.succeeded(run_id)
        return published

    def project_run(self, run_id: str) -> int:
        """Publish the run's events not yet published; returns how many were new in Redis."""
        run = self._run(run_id)
        if run is None or PROJECT not in run.tags:
            return 0
        problem = project_id_problem(run.tags[PROJECT])
        if problem is not None:
            self._ignore(run, problem)
            return 0
        if run.status == dg.DagsterRunStatus.NOT_STARTED:
            return 0  # not submitted yet: it may still be refused; its first events wait in the log
        view, cursor = self.views.get(run_id, (None, -1))
        if view is None:
            position = self.state.position(run_id)
            cursor = position.cursor if position else -1
        if run.tags.get(REFUSED):
            self.state.advance(run_id, run.tags[PROJECT], cursor, True)
            return 0
        try:
            return self._publish(run, view if view is not None else self._replay(run, cursor), cursor)
        except BaseException:
            self.views.pop(run_id, None)  # rebuilt by replay from the durable cursor next time
            raise

    def _publish(self, run: dg.DagsterRun, view: RunView, cursor: int) -> int:
        """Publish the run's events after `cursor`, batch by batch, keeping the view and cursor in step."""
        published = 0
        while True:
            records = self.instance.event_log_storage.get_records_for_run(
                run.run_id, cursor=EventLogCursor.from_storage_id(cursor).to_string() if cursor >= 0 else None,
                limit=BATCH).records
            if self.settle:
                records = _settled(records)
            if not records:
                break
            published += self.sink.publish([self._item(view, record) for record in records])
            cursor = records[-1].storage_id
            self.views[run.run_id] = (view, cursor)
            done = view.status in FINAL_STATES
            # The durable cursor may lag: what it re-publishes, Redis skips. Save at most twice a second.
            if done or time.monotonic() - self._saved.get(run.run_id, 0.0) > SAVE_EVERY:
                self.save(run.run_id)
            if len(records) < BATCH:
                break  # that was all there is; an event stored since pokes again (and a sweep would find it)
        return published

    def _item(self, view: RunView, record: dg.EventLogRecord) -> Published:
        change = view.apply(record)
        result = None
        if change.final_status:
            result = {"project": view.project, "run_id": view.run_id, "status": change.final_status,
                      "outputs": job_outputs(self.instance, view.project)}
            if view.failure is not None and change.final_status != "succeeded":
                result["error"] = view.failure.record()
        return Published(view.run_id, record.storage_id, view.project, view.batch, change, result)

    def _ignore(self, run: dg.DagsterRun, problem: str) -> None:
        """A run whose partition is no project id is never projected: marked done, and warned about once."""
        partition = run.tags[PROJECT]
        position = self.state.position(run.run_id)
        if position is None or not position.done:
            self.state.advance(run.run_id, partition, position.cursor if position else -1, True)
        self.runs.pop(run.run_id, None)
        if run.run_id not in self._ignored:
            self._ignored.add(run.run_id)
            log.warning("run %s is never projected to Redis: its partition %r is not a valid project id: %s",
                        run.run_id, partition, problem)

    def save(self, run_id: str) -> None:
        """Make the run's position durable."""
        view, cursor = self.views[run_id]
        done = view.status in FINAL_STATES
        self.state.advance(run_id, view.project, cursor, done)
        self._saved[run_id] = time.monotonic()
        if done:
            self.runs.pop(run_id, None)

    def _replay(self, run: dg.DagsterRun, cursor: int) -> RunView:
        """The run's view after the events already published (up to `cursor`)."""
        view = RunView.for_run(run, self.instance)
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
        runs = set(self.state.pending()) | set(self.faults.failing)
        for run in self.instance.get_runs(dg.RunsFilter(updated_after=_dt(self._swept_until - 5)), limit=1000):
            if PROJECT in run.tags:
                runs.add(run.run_id)
        published = sum(self.project(run_id) for run_id in sorted(runs))
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
        client, keys = self.sink.client, self.sink.keys
        runs = list(reversed(self.instance.get_runs(dg.RunsFilter(tags={PROJECT: project}))))
        stale = []
        if not client.exists(keys.stream(project)):
            stale += [keys.position(r.run_id) for r in runs] + [keys.logs(project)]
        if not client.exists(keys.global_stream()):
            stale += [keys.global_position(r.run_id) for r in runs]
        if stale:
            client.delete(*stale)
        self.state.reset([r.run_id for r in runs])
        self.views.clear()
        return sum(self.project_run(r.run_id) for r in runs)


def _distributed() -> bool:
    try:
        return distributed()
    except SettingsError:
        return False  # the executor reports the bad setting; the projection goes on


def _settled(records: list) -> list:
    """The records up to the first one younger than SETTLE_SECONDS."""
    horizon = time.time() - SETTLE_SECONDS
    for n, record in enumerate(records):
        if record.event_log_entry.timestamp > horizon:
            return records[:n]
    return records


def _dt(ts: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


def state_for(instance: dg.DagsterInstance, target: Target | None = None) -> ProjectionState:
    """The projection state of `target` (default: this process's Redis URL and prefix) beside the instance's storage."""
    from pipeline.environment import postgres_url, storage_backend

    digest = (target or Target.from_env()).digest
    if storage_backend() == "postgres":
        return ProjectionState(postgres_url(), digest)
    storage = instance.event_log_storage
    folder = Path(getattr(storage, "_base_dir", None) or Path(instance.root_directory) / "storage")
    folder.mkdir(parents=True, exist_ok=True)
    return ProjectionState.sqlite(str(folder), digest)


def is_redis_down(error: BaseException) -> bool:
    """Redis cannot be reached (the leader backs off), as opposed to a fault of one run (e.g. a
    PermissionError reading one project's folder, which is recorded for that run alone)."""
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError))
