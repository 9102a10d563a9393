"""The run coordinator named by dagster.yaml: Dagster's run queue, refusing a second run per project.

Every launch passes here, whatever its route (UI, GraphQL, sensors, re-executions). Dagster's tag
concurrency limit would queue a duplicate; this refuses it, atomically under the project lock. A
refused run was already created by the route, and Dagster marks it failed when submission raises:
it is tagged refused (never projected to Redis) and its retries are set to 0 (never retried). A run
whose partition key is not a valid project id (pipeline.ids) is refused the same way, so no step of
it ever runs. A run that arrives without a `pipeline/owner` tag gets one here (launch/owner.py).
"""

import dagster as dg

from pipeline.ids import project_id_problem
from pipeline.launch.guard import InvalidProjectLaunch, ProjectBusy, active_run, project_lock
from pipeline.launch.owner import route_owner
from pipeline.tags import MAX_RETRIES, OWNER, PROJECT, REFUSED


class OneRunPerProjectCoordinator(dg.QueuedRunCoordinator):
    def submit_run(self, context: dg.SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        instance = self._instance
        if not run.tags.get(OWNER):  # every route: the UI, GraphQL, sensors, schedules
            instance.add_run_tags(run.run_id, {OWNER: route_owner(run.tags, run.run_config)})
        project = run.tags.get(PROJECT)
        if project is None:
            return super().submit_run(context)
        problem = project_id_problem(project)
        if problem is not None:  # e.g. a GraphQL launch for partition "../evil": refused before any step runs
            instance.add_run_tags(run.run_id, {REFUSED: "true", MAX_RETRIES: "0"})
            raise InvalidProjectLaunch(project, problem)
        with project_lock(instance, project):
            busy = active_run(instance, project, exclude=run.run_id)
            if busy is not None:
                instance.add_run_tags(run.run_id, {REFUSED: "true", MAX_RETRIES: "0"})
                raise ProjectBusy.of_run(project, busy)
            return super().submit_run(context)
