"""Batches of briefs: validate each, report the invalid ones, launch the rest with `pipeline/batch`."""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from pipeline.brief import Brief, BriefError, parse_brief, read_yaml
from pipeline.events.keys import Keys
from pipeline.ids import project_id_problem


@dataclass
class Batch:
    id: str
    briefs: list[Brief] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {project, run_id: None, status, error, error_code}
    is_batch: bool = False  # the file lists `projects:`; a single brief is a batch of one

    def record(self, launched: list[dict[str, Any]]) -> dict[str, Any]:
        """The first `batch_progress` record: totals, rejected briefs and launched runs."""
        results = [*self.rejected, *launched]
        counts = {s: sum(1 for r in results if r["status"] == s)
                  for s in ("queued", "running", "succeeded", "failed", "canceled")}
        return {"batch": self.id, "total": len(results), "rejected": len(self.rejected), **counts,
                "results": results}


def read_batch(path: Path, data_dir: Path, batch_id: str | None = None, follow_links: bool = True) -> Batch:
    """A brief or batch file (`projects: [...]`), every entry validated; a file that cannot be read at
    all raises BriefError."""
    data = read_yaml(path, follow_links)
    if data is None:
        raise BriefError(["the file is empty: give a brief (project_id, prompt, ...) or projects: [...]"], str(path))
    is_batch = isinstance(data, dict) and "projects" in data
    if is_batch:
        entries = data["projects"]
        batch_id = batch_id or data.get("batch") or ""
        if not isinstance(entries, list) or not entries:
            raise BriefError(["projects: must be a non-empty list of briefs"], str(path))
    else:
        entries = [data]
    if batch_id and (problem := project_id_problem(batch_id)) is not None:  # it names a Redis key and a tag
        raise BriefError([f"batch: the batch id {problem}"], str(path))
    batch = Batch(id=batch_id or f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}", is_batch=is_batch)
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        project = entry.get("project_id") if isinstance(entry, dict) else None
        try:
            brief = parse_brief(entry, data_dir, source=f"{path.name} projects[{n}]" if is_batch else path.name)
        except BriefError as e:
            batch.rejected.append({"project": project, "run_id": None, "status": "rejected", "error": str(e),
                                   "error_code": e.code})
            continue
        if brief.project_id in seen:
            batch.rejected.append({"project": brief.project_id, "run_id": None, "status": "rejected",
                                   "error": f"projects[{n}]: project_id {brief.project_id!r} appears twice",
                                   "error_code": "BRIEF_INVALID"})
            continue
        seen.add(brief.project_id)
        batch.briefs.append(brief)
    return batch


def write_batch_progress(record: dict[str, Any], client: redis.Redis | None = None, keys: Keys | None = None) -> None:
    """Write the batch record to Redis (best effort: the projection keeps it current from run outcomes).
    Without `client` and `keys`: the Redis of this environment (the CLI)."""
    from pipeline.events.redis_sink import connect, redis_prefix

    try:
        (client or connect(timeout=2)).set((keys or Keys(redis_prefix())).batch(record["batch"]),
                                           json.dumps(record, ensure_ascii=False))
    except (redis.RedisError, OSError):
        pass
