"""The run coordinator named by dagster.yaml: Dagster's run queue, refusing a second run per project.

Every launch passes here, whatever its route (UI, GraphQL, sensors, re-executions). Dagster's tag
concurrency limit would queue a duplicate; this refuses it, atomically under the project lock. A
refused run was already created by the route, and Dagster marks it failed when submission raises:
it is tagged refused (never projected to Redis) and its retries are set to 0 (never retried). A run
whose partition key is not a valid project id (pipeline.ids) is refused the same way, so no step of
it ever runs. A run that arrives without a `pipeline/owner` tag gets one here (launch/owner.py).

`dequeue_interval_seconds` may be a fraction here (Dagster's own takes whole seconds): the daemon
waits in steps of 0.5 s, so 0.5 is both the shortest period and the default (a run waits 0.3 s in
the queue on average instead of 0.55 s at 1).
"""

import math

import dagster as dg

from pipeline.ids import project_id_problem
from pipeline.launch.guard import InvalidProjectLaunch, ProjectBusy, active_run, project_lock
from pipeline.launch.owner import route_owner
from pipeline.tags import MAX_RETRIES, OWNER, PROJECT, REFUSED


SHORTEST_DEQUEUE_INTERVAL = 0.5  # the daemon's loop waits in steps of 0.5 s; shorter would run back to back


class OneRunPerProjectCoordinator(dg.QueuedRunCoordinator):
    _interval: float = SHORTEST_DEQUEUE_INTERVAL

    @classmethod
    def config_type(cls):
        schema = dict(super().config_type())
        schema["dequeue_interval_seconds"] = dg.Field(float, is_required=False, default_value=SHORTEST_DEQUEUE_INTERVAL,
                                                      description="Seconds between the daemon's looks at the "
                                                                  "run queue; at least 0.5, fractions allowed.")
        return schema

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        interval = float(config_value.get("dequeue_interval_seconds", SHORTEST_DEQUEUE_INTERVAL))
        if not interval >= SHORTEST_DEQUEUE_INTERVAL:
            raise dg.DagsterInvalidConfigError(
                f"run_coordinator.config.dequeue_interval_seconds is {interval}: it must be at least "
                f"{SHORTEST_DEQUEUE_INTERVAL} (the daemon waits in steps of 0.5 s). Fix it in dagster.yaml.", [], None)
        coordinator = super().from_config_value(inst_data, {**config_value,
                                                             "dequeue_interval_seconds": math.ceil(interval)})
        coordinator._interval = interval
        return coordinator

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override] - the daemon takes any number
        return self._interval

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
