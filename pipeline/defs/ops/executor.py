"""The executor of `produce_project`: in-process, with cancel that is never retried into success.

Dagster turns the interrupt of a terminated run into a step retry when the step has a RetryPolicy
(dagster#15026: the in-process executor then restarts the step and the run can end SUCCESS). The
assets' boundary (`pipeline.defs.common.step_boundary`) stops that at the source: an interrupt in
an asset body fails the step without retry. This executor then stops the run as soon as a step of
a canceling run fails, instead of going on with the steps that do not depend on it; and, for an
interrupt that lands outside an asset body (in Dagster's own output handling), it still stops the
run when a step is put up for retry while its run is canceling. In-process costs ~0.1 s per step
where the multiprocess executor costs ~1.5 s on this kind of machine.
"""

import dagster as dg
from dagster._core.definitions.executor_definition import IN_PROC_CONFIG, _core_in_process_executor_creation
from dagster._core.executor.in_process import InProcessExecutor

_STOPPING = (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)
_ENDS_STEP = (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY)


class CancellableInProcessExecutor(InProcessExecutor):
    def execute(self, plan_context, execution_plan):  # type: ignore[no-untyped-def]
        for event in super().execute(plan_context, execution_plan):
            yield event
            if event.event_type in _ENDS_STEP:
                run = plan_context.instance.get_run_by_id(plan_context.run_id)
                if run is not None and run.status in _STOPPING:
                    raise dg.DagsterExecutionInterruptedError(
                        f"run {plan_context.run_id} is canceling: stopped after step {event.step_key}"
                    )


@dg.executor(name="in_process", config_schema=IN_PROC_CONFIG)
def cancellable_in_process_executor(init_context: dg.InitExecutorContext) -> CancellableInProcessExecutor:
    """Executes every step in the run worker's process; a canceled run is never retried into success."""
    base = _core_in_process_executor_creation(init_context.executor_config)
    return CancellableInProcessExecutor(retries=base.retries, step_dependency_config=base.step_dependency_config)
