"""Removing a deleted project from Redis, so that nothing rebuilds it."""

import redis

from pipeline.events.keys import Keys


def forget_project(client: redis.Redis, prefix: str, project: str, run_ids: list[str]) -> int:
    """Delete the project's keys and its entries in the global stream; returns keys and entries removed."""
    names = Keys(prefix)
    keys = names.project_keys(project) + [key for run_id in run_ids for key in names.run_keys(run_id)]
    removed = client.delete(*keys)
    stream, position = names.global_stream(), "-"
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
