"""The hourly quota sync: provider usage recorded in every project's ledger, against configured limits.

Writes `quota:{provider}` (SPEC §2) for every role with a limit set (`PIPELINE_QUOTA_<ROLE>`), and a
`quota_warning` entry on the global stream when more than 90 % is used. Usage counts every project
whose ledger changed this calendar month (UTC).
"""

import json
import os
import stat
from datetime import datetime, timezone

import dagster as dg
import redis

from pipeline.documents import read_text
from pipeline.store import default_data_dir
from pipeline.usage import LEDGER, Usage

# role -> (usage field, unit, env var of its limit)
QUOTAS = {
    "text": ("tokens", "tokens", "PIPELINE_QUOTA_TEXT"),
    "images": ("images", "images", "PIPELINE_QUOTA_IMAGES"),
    "speech": ("speech_seconds", "seconds", "PIPELINE_QUOTA_SPEECH"),
    "avatar": ("avatar_seconds", "seconds", "PIPELINE_QUOTA_AVATAR"),
}
WARN_RATIO = 0.9


def month_usage(now: datetime, problems: list[str] | None = None) -> Usage:
    """Usage of every project whose ledger changed since the start of `now`'s month. A ledger that
    cannot be read (a hand edit, a link, a truncated file) is left out and named in `problems`."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    total = Usage()
    for ledger in (default_data_dir() / "projects").glob(f"*/{LEDGER}"):
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
    """One record per role that has a limit configured."""
    records = []
    for role, (field, unit, variable) in QUOTAS.items():
        raw = os.environ.get(variable)
        if not raw:
            continue
        limit = float(raw)
        provider = os.environ.get(f"PIPELINE_{role.upper()}_PROVIDER", "offline" if role != "avatar" else "none")
        used = float(usage.tokens if field == "tokens" else getattr(usage, field))
        records.append({"provider": f"{provider}-{role}", "unit": unit, "used": round(used, 2), "limit": limit,
                        "ratio": round(used / limit, 4) if limit else 1.0,
                        "updated_at": now.isoformat(timespec="seconds").replace("+00:00", "Z")})
    return records


def publish_quotas(client: redis.Redis, prefix: str, records: list[dict]) -> int:
    """Write the records (1 h expiry) and a warning entry for each above 90 %; returns warnings sent."""
    warnings = 0
    for record in records:
        client.set(f"{prefix}quota:{record['provider']}", json.dumps(record), ex=3600)
        if record["ratio"] > WARN_RATIO:
            seq = client.incr(f"{prefix}projection:seq:_quota")
            client.xadd(f"{prefix}events", {
                "type": "quota_warning", "dagster_event": "", "project": "", "run_id": "", "step": "",
                "asset": "", "seq": str(seq), "ts": record["updated_at"],
                "message": f"{record['provider']}: {record['ratio']:.0%} of the quota used "
                           f"({record['used']:g} of {record['limit']:g} {record['unit']})",
                "data": json.dumps(record)})
            warnings += 1
    return warnings


@dg.op
def sync_quotas(context: dg.OpExecutionContext) -> None:
    """Write quota:{provider} from recorded usage against configured limits."""
    from pipeline.events.redis_sink import connect, redis_prefix

    now = datetime.now(timezone.utc)
    problems: list[str] = []
    records = quota_records(month_usage(now, problems), now)
    for problem in problems:
        context.log.warning(problem)
    if not records:
        context.log.info("no quota configured (PIPELINE_QUOTA_TEXT, _IMAGES, _SPEECH, _AVATAR)")
        return
    warnings = publish_quotas(connect(), redis_prefix(), records)
    context.log.info(f"{len(records)} quotas written, {warnings} above {WARN_RATIO:.0%}")


@dg.job(description="Writes quota:{provider} to Redis from the usage ledgers (hourly).")
def quota_sync():
    sync_quotas()


quota_sync_schedule = dg.ScheduleDefinition(job=quota_sync, cron_schedule="0 * * * *",
                                            default_status=dg.DefaultScheduleStatus.RUNNING)
