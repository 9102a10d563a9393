"""Removing a deleted project from Redis, so that nothing rebuilds it."""

import redis


def forget_project(client: redis.Redis, prefix: str, project: str, run_ids: list[str]) -> int:
    """Delete the project's keys and its entries in the global stream; returns keys and entries removed."""
    keys = [f"{prefix}{name}" for name in (f"events:{project}", f"generation_progress:{project}",
                                           f"generation_logs:{project}", f"active_task:{project}",
                                           f"projection:seq:{project}", f"projection:error:{project}")]
    for run_id in run_ids:
        keys += [f"{prefix}job_result:{run_id}", f"{prefix}projection:pos:{run_id}",
                 f"{prefix}projection:gpos:{run_id}"]
    removed = client.delete(*keys)
    stream, position = f"{prefix}events", "-"
    while True:
        batch = client.xrange(stream, min=position, max="+", count=1000)
        if not batch:
            break
        doomed = [entry_id for entry_id, fields in batch if fields.get("project") == project]
        if doomed:
            removed += client.xdel(stream, *doomed)
        if len(batch) < 1000:
            break
        position = "(" + batch[-1][0]
    return removed
