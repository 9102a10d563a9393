"""What listeners of the older system read besides SPEC §2's fields: the run's `task_type`.

The older system ran one task per kind of work; here a run of `produce_project` makes one project,
so its `task_type` is the kind the project's brief asks for (`novel`, `document` or `video`).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

DEFAULT_KIND = "document"  # the brief's own default
QUOTA_TASK = "quota"  # task_type of quota warnings (global stream only)


def task_type_of(run: dg.DagsterRun, project: str, instance: dg.DagsterInstance | None = None) -> str:
    """The kind of the run's brief: from its run config, else from the `kind` the project's latest
    `brief` materialisation recorded (a run that continues or publishes a project carries no brief
    config). Read from Dagster, never from a data folder, which may be another host's."""
    config = _mapping(_mapping(_mapping(run.run_config).get("ops")).get("brief")).get("config")
    if isinstance(config, Mapping):
        return _kind(config.get("kind"))
    if instance is None or not project:
        return DEFAULT_KIND
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("brief"), asset_partitions=[project]), limit=1).records
    materialization = records[0].asset_materialization if records else None
    kind = materialization.metadata.get("kind") if materialization is not None else None
    return _kind(getattr(kind, "value", kind))


def _kind(value: Any) -> str:
    return value if isinstance(value, str) and value else DEFAULT_KIND


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
