"""The cache retention job and its daily schedule (off by default: turn it on in the UI's Schedules, or
`dagster schedule start cache_prune_schedule`). The duration is `PIPELINE_CACHE_RETENTION` (default
30d) or the op's `older_than` config; the same rule as `pipeline cache prune` (pipeline/objects/retention.py).
"""

import os

import dagster as dg

from pipeline.defs.common import failure
from pipeline.defs.resources import DataFolder
from pipeline.failure import Problem
from pipeline.objects.retention import CacheFolderError, DurationError, parse_duration, prune, unfinished_since
from pipeline.tags import PROJECT

RETENTION_ENV = "PIPELINE_CACHE_RETENTION"
DEFAULT_RETENTION = "30d"


def instance_project_runs(instance: dg.DagsterInstance) -> dict[str, list[tuple[str, float]]]:
    """project -> [(status, creation time)] newest first, from the instance (every project partition)."""
    projects = set(instance.get_dynamic_partitions("projects"))
    runs: dict[str, list[tuple[str, float]]] = {p: [] for p in projects}
    for record in instance.get_run_records():
        project = record.dagster_run.tags.get(PROJECT)
        if project in runs:
            runs[project].append((record.dagster_run.status.value, record.create_timestamp.timestamp()))
    return runs


@dg.op(config_schema={"older_than": dg.Field(str, is_required=False,
                                             description=f"e.g. 30d (default: ${RETENTION_ENV}, else {DEFAULT_RETENTION})")})
def prune_caches(context: dg.OpExecutionContext, files: DataFolder) -> None:
    """Remove cache entries not used for longer than the retention, keeping what unfinished projects may need."""
    raw = context.op_config.get("older_than") or os.environ.get(RETENTION_ENV) or DEFAULT_RETENTION
    try:
        older_than = parse_duration(raw)
    except DurationError as e:
        raise failure(Problem(str(e), where=f"{RETENTION_ENV} or the op's older_than",
                              code="ARGUMENT_INVALID")) from None
    since = unfinished_since(instance_project_runs(context.instance))
    try:
        reports = prune(files.folder, older_than, since)
    except CacheFolderError as e:
        raise failure(Problem(str(e), where="the data folder's cache", code="SETTINGS_INVALID")) from None
    for report in reports:
        context.log.info(report.line(dry_run=False))


@dg.job(description="Removes cache entries (responses, video chunks, audio) not used for the retention period.")
def cache_prune():
    prune_caches()


cache_prune_schedule = dg.ScheduleDefinition(job=cache_prune, cron_schedule="30 3 * * *",
                                             default_status=dg.DefaultScheduleStatus.STOPPED)
