"""Dagster storage classes that pick SQLite or PostgreSQL when the instance starts.

`dagster.yaml` names these classes once; `DAGSTER_POSTGRES_URL` set means PostgreSQL
(dagster-postgres), unset means SQLite under `$DAGSTER_HOME/storage`. Later features (the Redis
event projection) hook into the concrete classes defined here.
"""

from pipeline.storage.backends import (
    PipelineEventLogStorage,
    PipelineRunStorage,
    PipelineScheduleStorage,
    storage_backend,
)

__all__ = [
    "PipelineEventLogStorage",
    "PipelineRunStorage",
    "PipelineScheduleStorage",
    "storage_backend",
]
