"""Reading the projection back: follow a project's stream, page through its logs."""

import json
from collections.abc import Callable, Iterator

import redis

from pipeline.events.entries import FINAL_STATES, FINAL_TYPES
from pipeline.events.keys import Keys


def bar(percent: int, width: int = 24) -> str:
    filled = round(width * max(0, min(percent, 100)) / 100)
    return f"[{'#' * filled}{'-' * (width - filled)}] {percent:3d}%"


def describe(entry: dict[str, str]) -> str:
    """One readable line for a stream entry."""
    ts = entry.get("ts", "")[11:19]
    kind = entry.get("type", "")
    where = entry.get("asset") or entry.get("step") or ""
    if kind == "task_progress" and "progress_percent" in entry:
        line = f"{ts} {bar(int(entry['progress_percent']))} {where}: {entry.get('message', '')}"
    elif kind == "task_progress":
        line = f"{ts} {entry.get('dagster_event', '')} {where} {entry.get('message', '')}".rstrip()
    else:
        line = f"{ts} {kind.upper()} {where} {entry.get('message', '')}".rstrip()
    if entry.get("error"):
        line += f"\n    error: {entry['error']}"
    return line


def current_run(client: redis.Redis, prefix: str, project: str) -> tuple[str | None, str | None]:
    """(run id, status) of the project's active or last run, from Redis."""
    active = client.get(Keys(prefix).active(project))
    if active:
        return json.loads(active)["run_id"], "running"
    progress = client.get(Keys(prefix).progress(project))
    if progress:
        record = json.loads(progress)
        return record.get("run_id"), record.get("status")
    return None, None


def follow(client: redis.Redis, prefix: str, project: str, block_ms: int = 1000,
           should_stop: Callable[[], bool] = lambda: False) -> Iterator[dict[str, str]]:
    """Entries of the project's current (or next) run, until the run ends."""
    stream = Keys(prefix).stream(project)
    run_id, status = current_run(client, prefix, project)
    position = "0" if run_id and status not in FINAL_STATES else "$"
    if position == "$":
        last = client.xrevrange(stream, count=1)
        position = last[0][0] if last else "0-0"
        run_id = None
    while not should_stop():
        for _, entries in client.xread({stream: position}, block=block_ms, count=500) or []:
            for entry_id, entry in entries:
                position = entry_id
                if run_id is None and entry.get("type") in ("task_queued", "task_started"):
                    run_id = entry["run_id"]
                if entry.get("run_id") != run_id:
                    continue
                yield entry
                if entry.get("type") in FINAL_TYPES:
                    return


def log_page(client: redis.Redis, prefix: str, project: str, page: int, size: int = 50) -> tuple[list[dict], int]:
    """Page `page` (1 = newest) of the project's logs, oldest first within the page; and the page count."""
    key = Keys(prefix).logs(project)
    total = client.llen(key)
    pages = max(1, -(-total // size))
    end = total - (page - 1) * size
    start = max(0, end - size)
    lines = client.lrange(key, start, end - 1) if end > 0 else []
    return [json.loads(line) for line in lines], pages
