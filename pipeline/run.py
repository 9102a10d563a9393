"""Running `produce_project` for one project on the local Dagster instance ($DAGSTER_HOME)."""

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import dagster as dg

from pipeline import tags
from pipeline.brief import Brief
from pipeline.defs.common import projects
from pipeline.defs.ops.jobs import run_config, selection_up_to
from pipeline.launch.guard import ProjectBusy, active_run, project_lock
from pipeline.launch.owner import launching_user
from pipeline.store import ARTIFACTS


@dataclass
class Outcome:
    run_id: str
    success: bool
    artifacts: dict[str, str] = field(default_factory=dict)


def produce_project_job() -> dg.JobDefinition:
    from pipeline.definitions import defs

    return defs.resolve_job_def("produce_project")


def run_locally(brief: Brief, stop_at: str | None = None, instance: dg.DagsterInstance | None = None,
                owner: str | None = None, console_level: str | None = None,
                watch: Callable[[dg.DagsterInstance, str], AbstractContextManager] | None = None) -> Outcome:
    """Add the project's partition and execute the job in this process, on the persistent instance.

    Refused with ProjectBusy when the project already has an active run, as every route is.

    Args:
        owner: the run's `pipeline/owner` tag (default: the launching user, launch/owner.py).
        console_level: the level of Dagster's console log (default: Dagster's, every event).
        watch: entered around the execution with the instance and the run id (`pipeline demo`'s
            progress bar and log file).
    """
    from dagster._core.execution.api import execute_run

    from pipeline.definitions import defs

    instance = instance or dg.DagsterInstance.get()
    project = brief.project_id
    if not instance.has_dynamic_partition(projects.name, project):
        instance.add_dynamic_partitions(projects.name, [project])
    selection = selection_up_to(stop_at, defs.resolve_asset_graph(), brief.publish.require_approval)
    job = dg.reconstructable(produce_project_job)
    config = run_config(brief)
    if console_level is not None:
        config["loggers"] = {"console": {"config": {"log_level": console_level}}}
    run_tags = {tags.PROJECT: project, tags.LAUNCHED_BY: tags.LOCAL,
                tags.OWNER: owner or launching_user(None, brief.owner)}
    with project_lock(instance, project):
        busy = active_run(instance, project)
        if busy is not None:
            raise ProjectBusy.of_run(project, busy)
        run = instance.create_run_for_job(
            job_def=job.get_definition(), run_config=config, asset_selection=frozenset(selection),
            tags=run_tags, job_code_origin=job.get_python_origin(),
        )
    with watch(instance, run.run_id) if watch is not None else contextlib.nullcontext():
        result = execute_run(job, run, instance)
    chosen = {k.path[-1] for k in selection}
    artifacts = {name: path for name, path in ARTIFACTS.items()
                 if (name if name != "subtitles" else "video") in chosen}
    return Outcome(run_id=result.run_id, success=result.success, artifacts=artifacts)
