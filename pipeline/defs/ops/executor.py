"""The executor of `produce_project`: in-process by default, Celery workers with PIPELINE_EXECUTOR=celery.

Either way a cancel is never retried into success (the Celery side: pipeline/workers/executor.py).

Dagster turns the interrupt of a terminated run into a step retry when the step has a RetryPolicy
(dagster#15026: the in-process executor then restarts the step and the run can end SUCCESS). The
assets' boundary (`pipeline.defs.common.step_boundary`) stops that at the source: an interrupt in
an asset body fails the step without retry. This executor then stops the run as soon as a step of
a canceling run fails, instead of going on with the steps that do not depend on it; and, for an
interrupt that lands outside an asset body (in Dagster's own output handling), it still stops the
run when a step is put up for retry while its run is canceling. In-process costs ~0.1 s per step
where the multiprocess executor costs ~1.5 s on this kind of machine; independent steps run at the
same time in threads (parallel.py).
"""

import os

import dagster as dg
from dagster._core.definitions.executor_definition import IN_PROC_CONFIG, _core_in_process_executor_creation
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.executor.in_process import InProcessExecutor

from pipeline.defs.ops.parallel import parallel_execution_iterator, parallel_steps

_STOPPING = (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)
_ENDS_STEP = (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY)


class CancellableInProcessExecutor(InProcessExecutor):
    def execute(self, plan_context, execution_plan):  # type: ignore[no-untyped-def]
        for event in self._steps(plan_context, execution_plan):
            yield event
            if event.event_type in _ENDS_STEP:
                run = plan_context.instance.get_run_by_id(plan_context.run_id)
                if run is not None and run.status in _STOPPING:
                    raise dg.DagsterExecutionInterruptedError(
                        f"run {plan_context.run_id} is canceling: stopped after step {event.step_key}"
                    )


    def _steps(self, plan_context, execution_plan):  # type: ignore[no-untyped-def]
        """InProcessExecutor.execute, with independent steps at the same time (parallel.py)."""
        yield DagsterEvent.engine_event(
            plan_context, f"Executing steps in process (pid: {os.getpid()}), up to {parallel_steps()} at a time",
            event_specific_data=EngineEventData.in_process(os.getpid(), execution_plan.step_keys_to_execute))
        yield from iter(ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=parallel_execution_iterator,
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job, retry_mode=plan_context.retry_mode, execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config, dagster_run=plan_context.dagster_run,
                instance=plan_context.instance, raise_on_error=plan_context.raise_on_error,
                output_capture=plan_context.output_capture, step_dependency_config=self.step_dependency_config),
        ))


@dg.executor(name="pipeline", config_schema=IN_PROC_CONFIG)
def pipeline_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Every step in the run worker's process, or with PIPELINE_EXECUTOR=celery on Celery workers.

    The choice is the environment's (pipeline/workers/settings.py), like the storage's: the same
    definitions run on one machine or on many. A canceled run is never retried into success.
    """
    from pipeline.environment import storage_backend
    from pipeline.workers import settings

    base = _core_in_process_executor_creation(init_context.executor_config)
    try:
        distributed = settings.distributed()
    except settings.SettingsError as e:
        raise dg.DagsterInvalidConfigError(f"{e}: fix it in the environment of the daemon and the workers", [], None) from e
    if not distributed:
        return CancellableInProcessExecutor(retries=base.retries, step_dependency_config=base.step_dependency_config)
    if storage_backend() != "postgres" or init_context.instance.is_ephemeral:
        raise dg.DagsterInvalidConfigError(
            f"{settings.EXECUTOR_ENV}=celery needs an instance every worker reaches: set DAGSTER_POSTGRES_URL "
            "on the daemon's host and on every worker host", [], None)
    from pipeline.workers.executor import celery_executor_from_env

    return celery_executor_from_env(base.retries)
