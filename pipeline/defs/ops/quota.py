"""The hourly quota sync: provider usage recorded in every project's ledger, against configured limits.

Writes `quota:{provider}` (SPEC §2) for every role with a limit set (`PIPELINE_QUOTA_<ROLE>`), and a
`quota_warning` entry on the global stream when more than 90 % is used. Usage counts every project
whose ledger changed this calendar month (UTC).
"""

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import redis

from pipeline.defs.redis_resource import RedisResource
from pipeline.defs.resources import DataFolder
from pipeline.documents import read_text
from pipeline.events.compat import QUOTA_TASK
from pipeline.events.keys import Keys
from pipeline.events.redis_sink import Caps
from pipeline.providers.catalog import ROLES
from pipeline.usage import LEDGER, Usage

WARN_RATIO = 0.9


def month_usage(now: datetime, data_dir: Path, problems: list[str] | None = None) -> Usage:
    """Usage of every project whose ledger changed since the start of `now`'s month. A ledger that
    cannot be read (a hand edit, a link, a truncated file) is left out and named in `problems`."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    total = Usage()
    for ledger in (data_dir / "projects").glob(f"*/{LEDGER}"):
        try:
            info = ledger.lstat()
            if not stat.S_ISREG(info.st_mode):
                raise ValueError("not a regular file")
            if info.st_mtime < start:
                continue
            project = Usage()
            for u in json.loads(read_text(ledger)).get("totals", {}).values():
                project = project + Usage(**u)
        except (OSError, ValueError, TypeError, AttributeError) as e:  # pydantic's ValidationError is a ValueError
            (problems if problems is not None else []).append(f"{ledger}: left out of the quota ({e})")
            continue
        total = total + project
    return total


def quota_records(usage: Usage, now: datetime) -> list[dict]:
    """One record per role that has a limit configured, named by the provider the resources choose."""
    records = []
    for role in ROLES.values():
        quota = role.quota
        if quota is None or not (raw := os.environ.get(quota.variable)):
            continue
        limit = float(raw)
        used = float(usage.tokens if quota.field == "tokens" else getattr(usage, quota.field))
        records.append({"provider": f"{role.chosen()}-{role.name}", "unit": quota.unit, "used": round(used, 2),
                        "limit": limit, "ratio": round(used / limit, 4) if limit else 1.0,
                        "updated_at": now.isoformat(timespec="seconds").replace("+00:00", "Z")})
    return records


def publish_quotas(client: redis.Redis, prefix: str, records: list[dict], global_cap: int | None = None) -> int:
    """Write the records (1 h expiry) and a warning entry for each above 90 % on the global stream,
    capped like every other entry there; returns warnings sent."""
    keys = Keys(prefix)
    cap = global_cap or Caps.from_env().global_stream
    warnings = 0
    for record in records:
        client.set(keys.quota(record["provider"]), json.dumps(record), ex=3600)
        if record["ratio"] > WARN_RATIO:
            seq = client.incr(keys.seq("_quota"))
            client.xadd(keys.global_stream(), maxlen=cap, approximate=True, fields={
                "type": "quota_warning", "dagster_event": "", "project": "", "run_id": "", "step": "",
                "asset": "", "seq": str(seq), "ts": record["updated_at"], "task_type": QUOTA_TASK,
                "message": f"{record['provider']}: {record['ratio']:.0%} of the quota used "
                           f"({record['used']:g} of {record['limit']:g} {record['unit']})",
                "data": json.dumps(record)})
            warnings += 1
    return warnings


@dg.op
def sync_quotas(context: dg.OpExecutionContext, files: DataFolder, redis_target: RedisResource) -> None:
    """Write quota:{provider} from recorded usage against configured limits."""
    now = datetime.now(timezone.utc)
    problems: list[str] = []
    records = quota_records(month_usage(now, files.root, problems), now)
    for problem in problems:
        context.log.warning(problem)
    if not records:
        context.log.info("no quota configured (PIPELINE_QUOTA_TEXT, _IMAGES, _SPEECH, _AVATAR)")
        return
    warnings = publish_quotas(redis_target.client(), redis_target.key_prefix, records,
                              redis_target.caps.global_stream)
    context.log.info(f"{len(records)} quotas written, {warnings} above {WARN_RATIO:.0%}")


@dg.job(description="Writes quota:{provider} to Redis from the usage ledgers (hourly).")
def quota_sync():
    sync_quotas()


quota_sync_schedule = dg.ScheduleDefinition(job=quota_sync, cron_schedule="0 * * * *",
                                            default_status=dg.DefaultScheduleStatus.RUNNING)
