"""Reading what the projection wrote, and Dagster's own log to compare it with."""

import json
import os
import time

import dagster as dg
import redis


def client(url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(url or os.environ["REDIS_URL"], decode_responses=True)


def key(name: str) -> str:
    return os.environ.get("PIPELINE_REDIS_PREFIX", "") + name


def entries(r: redis.Redis, project: str, run_id: str | None = None, stream: str | None = None) -> list[dict]:
    name = key(stream or f"events:{project}")
    found = [fields for _, fields in r.xrange(name)]
    return [e for e in found if e["project"] == project and (run_id is None or e["run_id"] == run_id)]


def dagster_events(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(event type, step) of every Dagster event of the run, in the event log's order."""
    records = instance.get_records_for_run(run_id).records
    return [(r.event_log_entry.dagster_event.event_type.name, r.event_log_entry.step_key or "")
            for r in records if r.event_log_entry.dagster_event is not None]


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_for_asset_progress(r: redis.Redis, project: str, run_id: str, asset: str, timeout: float = 180) -> None:
    """Until the run's stream shows `asset` under way (its first progress observation)."""
    wait_for(lambda: any(e["dagster_event"] == "ASSET_OBSERVATION" and e["asset"] == asset
                         for e in entries(r, project, run_id)), timeout, f"{asset} under way")


def final_entry(r: redis.Redis, project: str, run_id: str, timeout: float = 30) -> dict:
    def done():
        return next((e for e in entries(r, project, run_id) if e["type"].startswith("task_")
                     and e["type"] in ("task_completed", "task_failed", "task_canceled")), None)

    return wait_for(done, timeout, f"the final entry of run {run_id}")


def progress(r: redis.Redis, project: str) -> dict:
    return json.loads(r.get(key(f"generation_progress:{project}")) or "{}")
