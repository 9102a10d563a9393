"""Factories that return the SQLite or PostgreSQL implementation of each Dagster storage."""

import os
from typing import Any, Mapping

import dagster as dg
from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.event_log import EventLogStorage, SqliteEventLogStorage
from dagster._core.storage.runs import RunStorage, SqliteRunStorage
from dagster._core.storage.schedules import ScheduleStorage, SqliteScheduleStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres import (
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)

from pipeline.environment import POSTGRES_URL_ENV, postgres_url, storage_backend  # noqa: F401 - re-exported
from pipeline.events.hook import ProjectionHook

_CONFIG: UserConfigSchema = {
    "base_dir": dg.Field(
        dg.StringSource,
        is_required=False,
        description="SQLite folder; defaults to $DAGSTER_HOME/storage.",
    ),
}


def _sqlite_dir(config_value: Mapping[str, Any]) -> str:
    if config_value.get("base_dir"):
        return config_value["base_dir"]
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise dg.DagsterInvariantViolationError(
            "DAGSTER_HOME is not set: set it to the folder holding dagster.yaml "
            "(the Makefile uses .dagster_home), or set base_dir in dagster.yaml."
        )
    return os.path.join(home, "storage")


class SqliteEvents(ProjectionHook, SqliteEventLogStorage):
    """SQLite event log (one shard per run), projected to Redis."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._projection_identity = f"sqlite:{os.path.abspath(base_dir)}"


class PostgresEvents(ProjectionHook, PostgresEventLogStorage):
    """PostgreSQL event log (one table, a global cursor), projected to Redis."""

    def __init__(self, postgres_url: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(postgres_url, inst_data=inst_data)
        self._projection_identity = "postgres:" + postgres_url.split("@")[-1]


class _Factory:
    """Never instantiated: `from_config_value` returns the backend's storage.

    Each factory subclasses the Dagster storage interface it stands for, because dagster.yaml
    loading checks that the named class is one.
    """

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return _CONFIG


class PipelineRunStorage(_Factory, RunStorage):
    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        if storage_backend() == "postgres":
            return PostgresRunStorage(postgres_url(), inst_data=inst_data)
        return SqliteRunStorage.from_local(_sqlite_dir(config_value), inst_data=inst_data)


class PipelineEventLogStorage(_Factory, EventLogStorage):
    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        if storage_backend() == "postgres":
            return PostgresEvents(postgres_url(), inst_data=inst_data)
        return SqliteEvents(_sqlite_dir(config_value), inst_data=inst_data)


class PipelineScheduleStorage(_Factory, ScheduleStorage):
    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        if storage_backend() == "postgres":
            return PostgresScheduleStorage(postgres_url(), inst_data=inst_data)
        return SqliteScheduleStorage.from_local(_sqlite_dir(config_value), inst_data=inst_data)
