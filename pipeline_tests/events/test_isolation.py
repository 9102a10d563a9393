"""One run the projector cannot project never holds back the others; leaders are per Redis target."""

import logging
import time
import uuid

import dagster as dg
import pytest
import redis
import sqlalchemy as sa

from pipeline.events.entries import RunView
from pipeline.events.faults import projection_error
from pipeline.events.hook import address
from pipeline.events.projector import Projector, state_for
from pipeline.events.redis_sink import RedisSink, connect, redis_prefix
from pipeline.events.state import ProjectionState
from pipeline.events.target import Target
from pipeline_tests.events.streams import client, dagster_events, entries, final_entry, key, wait_for
from pipeline_tests.hostile.harness import run_cli

# The brief asset's config (typed: a prompt is required) for runs made directly on the instance.
BRIEF_ONLY = {"ops": {"brief": {"config": {"prompt": "A test run."}}}}

ON_TIME = 10  # seconds: a poke is projected at once, a sweep passes every 2 s


@pytest.fixture
def env_data(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return data_dir


def _job():
    from pipeline.run import produce_project_job

    return produce_project_job()


def _first_run_id() -> str:
    """A run id that sorts before any other: the projector takes such a run first in a pass."""
    return "00000000-" + str(uuid.uuid4())[9:]


def _ended_run(instance: dg.DagsterInstance, project: str, run_id: str | None = None) -> dg.DagsterRun:
    """A run created on the instance itself (no coordinator, no launch checks), started, then failed."""
    run = instance.create_run_for_job(_job(), run_id=run_id, tags={"dagster/partition": project},
                                      asset_selection=frozenset({dg.AssetKey("brief")}), run_config=BRIEF_ONLY)
    instance.report_dagster_event(dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value,
                                                  job_name=run.job_name), run_id=run.run_id)
    instance.report_run_failed(run, "Run worker died (run monitoring)")
    return run


def _assert_projected_once(r: redis.Redis, instance: dg.DagsterInstance, project: str, run_id: str) -> None:
    final_entry(r, project, run_id, timeout=ON_TIME)
    logged = [t for t, _ in dagster_events(instance, run_id)]
    assert [e["dagster_event"] for e in entries(r, project, run_id)] == logged
    assert [e["dagster_event"] for e in entries(r, project, run_id, stream="events")] == logged


def test_run_with_a_bad_partition_is_set_aside_and_the_others_reach_redis(redis_server, instance, env_data, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.events")
    bad = _ended_run(instance, "../evil", run_id=_first_run_id())  # as a GraphQL launch could create it
    good = [_ended_run(instance, f"proj-good-{n}") for n in range(3)]
    r = client()
    started = time.monotonic()
    for run in good:
        _assert_projected_once(r, instance, run.tags["dagster/partition"], run.run_id)
    assert time.monotonic() - started < ON_TIME

    time.sleep(2.5)  # a sweep has passed
    assert r.keys(key("*evil*")) == [] and r.get(key(f"job_result:{bad.run_id}")) is None
    assert [e for e in entries(r, "../evil", stream="events")] == []
    assert all(bad.run_id not in k for k in r.keys(key("*")))
    position = state_for(instance).position(bad.run_id)
    assert position is not None and position.done, "set aside for good, not looked at on every pass"
    warnings = [m for m in caplog.messages if bad.run_id in m]
    assert len(warnings) == 1 and "'../evil' is not a valid project id" in warnings[0] and "'..'" in warnings[0]
    assert "event projection failed" not in caplog.text, "no exception reached the leader"
    projector = Projector(instance, state_for(instance), RedisSink(connect(), redis_prefix()))
    assert projector.sweep() == 0  # a whole pass over every run, the bad one included, raises nothing


def test_failing_run_is_recorded_retried_and_cleared(redis_server, instance, env_data, monkeypatch):
    broken = True
    apply = RunView.apply

    def faulty_apply(view, record):  # an event the view cannot handle, in this project's run only
        if broken and view.project == "proj-faulty":
            raise TypeError("unsupported operand type(s) for /: 'str' and 'int'")
        return apply(view, record)

    monkeypatch.setattr(RunView, "apply", faulty_apply)
    faulty = _ended_run(instance, "proj-faulty", run_id=_first_run_id())
    others = [_ended_run(instance, f"proj-fine-{n}") for n in range(2)]
    r = client()
    for run in others:
        _assert_projected_once(r, instance, run.tags["dagster/partition"], run.run_id)

    shown = wait_for(lambda: (projection_error(r, redis_prefix(), "proj-faulty") or {}).get("attempts", 0) >= 2,
                     ON_TIME, "the error, recorded again on a later pass")
    assert shown
    record = projection_error(r, redis_prefix(), "proj-faulty")
    assert record["run_id"] == faulty.run_id and record["error"].startswith("TypeError: unsupported operand")
    assert record["at"].endswith("Z") and record["since"] <= record["at"]
    assert [(e.run_id, e.project) for e in state_for(instance).errors()] == [(faulty.run_id, "proj-faulty")]
    assert entries(r, "proj-faulty") == []
    monkeypatch.setenv("PIPELINE_DAGSTER_URL", "http://127.0.0.1:9")  # the warning comes before any server call
    status = run_cli("status", "proj-faulty")
    assert f"events of run {faulty.run_id} do not reach Redis" in status.err and "TypeError" in status.err

    broken = False
    _assert_projected_once(r, instance, "proj-faulty", faulty.run_id)
    wait_for(lambda: projection_error(r, redis_prefix(), "proj-faulty") is None, ON_TIME, "the error cleared")
    assert state_for(instance).errors() == []
    assert projection_error(r, redis_prefix(), "proj-fine-0") is None


def test_redis_outage_propagates_and_is_no_run_error(redis_server, instance, env_data):
    redis_server.stop(keep_data=False)
    run = _ended_run(instance, "proj-no-redis-error")
    projector = Projector(instance, state_for(instance), RedisSink(connect(timeout=0.5), redis_prefix()))
    with pytest.raises(redis.ConnectionError):
        projector.project(run.run_id)  # the leader backs off; the events wait in the log
    assert projector.state.errors() == [] and projector.faults.failing == {}


def test_leaders_for_two_redis_urls_both_lead_and_each_gets_the_events(redis_server, dagster_home, env_data,
                                                                        monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.events")
    other_url = redis_server.url.rsplit("/", 1)[0] + "/15"
    monkeypatch.setenv("REDIS_URL", other_url)
    with dg.DagsterInstance.get() as stale:  # a process left running with another REDIS_URL
        wait_for(stale.event_log_storage._leader.leading.is_set, ON_TIME, "the stale process leading")
        before = _ended_run(stale, "proj-two-redis")
        _assert_projected_once(client(other_url), stale, "proj-two-redis", before.run_id)

        monkeypatch.setenv("REDIS_URL", redis_server.url)
        with dg.DagsterInstance.get() as current:
            wait_for(current.event_log_storage._leader.leading.is_set, ON_TIME, "the current process leading too")
            after = _ended_run(current, "proj-two-redis")
            for url in (redis_server.url, other_url):
                for run in (before, after):
                    _assert_projected_once(client(url), current, "proj-two-redis", run.run_id)
            wait_for(lambda: any("also projected elsewhere" in m and "/15" in m for m in caplog.messages),
                     ON_TIME, "a warning naming the other Redis")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "redis://:s3cret@10.0.0.5:6380/2",
                                 "rediss://ops:s3cret@cache.internal/0?password=s3cret"])
def test_leader_socket_depends_on_url_and_prefix_and_shows_no_password(url):
    target = Target(url, "p:")
    assert address("sqlite:/x", target) != address("sqlite:/x", Target(url, "q:"))
    assert address("sqlite:/x", target) != address("sqlite:/x", Target(url + "5", "p:"))
    assert address("sqlite:/x", target) == address("sqlite:/x", Target(url, "p:"))
    assert "s3cret" not in target.describe() and "s3cret" not in address("sqlite:/x", target)
    assert target.describe().startswith(url.split("//")[0] + "//")


# The state's table before positions were kept per target, as older versions created it.
_OLD = sa.MetaData()
_OLD_RUNS = sa.Table(
    "pipeline_projection_runs", _OLD,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, default=-1),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
    sa.Column("updated", sa.Float, nullable=False),
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_state_opens_an_older_database_and_looks_again_at_its_pending_runs(backend, tmp_path, request):
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg2://", 1)
    else:
        url = f"sqlite:///{tmp_path}/projection.db"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    _OLD.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(_OLD_RUNS), [
            {"run_id": "run-pending", "project": "p", "cursor": 42, "done": False, "updated": time.time()},
            {"run_id": "run-done", "project": "p", "cursor": 50, "done": True, "updated": time.time()}])
    engine.dispose()
    state = ProjectionState(url, "target-a")
    assert state.pending() == ["run-pending"]
    assert state.position("run-pending").cursor == -1, "projected again from the start, Redis skips the rest"
    state.advance("run-pending", "p", 60, True)
    state.record_error("run-x", "p", "boom")
    assert ProjectionState(url, "target-a").pending() == []  # adopted once only
    other = ProjectionState(url, "target-b")
    assert other.pending() == ["run-pending"] and other.errors() == []
    assert [e.error for e in state.errors()] == ["boom"]
    state.dispose()
    other.dispose()
