"""Run tags and run statuses, named once: every reader and writer of a run's tags imports them here.

A leaf module (no project imports), so the launch path, the projection and the CLI can share it.
"""

from collections.abc import Mapping

PROJECT = "dagster/partition"  # Dagster's partition tag: the project id (also spelled in dagster.yaml)
REFUSED = "pipeline/refused"  # a launch the coordinator refused: never active, never projected
LAUNCHED_BY = "pipeline/launched_by"
OWNER = "pipeline/owner"  # who launched the run (pipeline/launch/owner.py), on every route
LOCAL = "local"  # LAUNCHED_BY of runs `pipeline demo` creates and executes in-process
BATCH = "pipeline/batch"
RECURRING = "pipeline/recurring"
CONTINUE_FROM = "pipeline/continue_from"
APPROVED_BY = "pipeline/approved_by"
MAX_RETRIES = "dagster/max_retries"

# Statuses of a run that holds its project (one run per project); a local run holds it from creation.
ACTIVE_STATUSES = ("QUEUED", "STARTING", "STARTED", "CANCELING")
LOCAL_PENDING = "NOT_STARTED"
FINAL_STATUSES = ("SUCCESS", "FAILURE", "CANCELED")


def is_active(status: str, tags: Mapping[str, str]) -> bool:
    """Whether a run with `status` (a DagsterRunStatus name) and `tags` holds its project."""
    if tags.get(REFUSED):
        return False
    return status in ACTIVE_STATUSES or (status == LOCAL_PENDING and tags.get(LAUNCHED_BY) == LOCAL)
