"""The run worker's side of the Celery mode: dagster-celery's execution loop, with cancel and lost workers.

dagster-celery's loop submits each step as a Celery task and polls its result once a second. Two
gaps of its own are closed here, around the loop rather than in a copy of it:
- Cancel: the loop revokes running tasks without terminating them, so a canceled run waits for its
  steps to finish (a render: minutes). Here a revoke terminates the task; the worker turns the
  signal into an interrupt of the step (pipeline/workers/app.py), which the assets' boundary fails
  without retry, as in-process (dagster#15026). And a step that fails or is put up for retry while
  its run is canceling stops the run, as the in-process executor does.
- A worker that dies mid-step (power, OOM, SIGKILL) leaves its task STARTED forever: Celery acks a
  task as it starts, and a late ack would make Redis hand a long render to a second worker while
  the first still runs it. Here the run worker asks the workers, in the background, which tasks
  they are running; a started task that its worker has not listed for LOST_AFTER seconds (the
  worker is gone, or came back without it) is submitted again. The step's finished items are on
  the shared path, so only the missing ones are made again.
"""

import threading
import time

import dagster as dg
from celery.exceptions import TaskRevokedError
from dagster._core.events import EngineEventData
from dagster._grpc.types import ExecuteStepArgs
from dagster._serdes import pack_value
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CeleryExecutor

from pipeline.workers import settings

_STOPPING = (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)
_ENDS_STEP = (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY)
PING_EVERY = 3.0  # seconds between asking the workers which tasks they run
LOST_AFTER = 10.0  # seconds a started task may be missing from its worker's list before it is submitted again
RESUBMITS = 2  # times one step is submitted again after lost workers, before the run fails


class WorkerLost(dg.DagsterError):
    """A step's worker stopped answering more often than RESUBMITS allows."""


class Workers(threading.Thread):
    """Which tasks each worker is running, asked every PING_EVERY seconds in the background."""

    def __init__(self, app_args: dict):
        super().__init__(name="pipeline-celery-watch", daemon=True)
        self.app_args = app_args
        self.active: dict[str, set[str]] = {}  # node name -> ids of the tasks it runs
        self.asked = 0.0  # when `active` was last refreshed (monotonic)
        self.missing: dict[str, float] = {}  # task id -> since when its worker does not list it
        self._halt = threading.Event()

    def run(self) -> None:
        from dagster_celery.make_app import make_app

        app = make_app(self.app_args)
        while not self._halt.wait(PING_EVERY):
            try:
                replies = app.control.inspect(timeout=1.0).active() or {}
            except Exception:  # noqa: BLE001 - the broker is down: nothing is known, nothing is declared lost
                continue
            self.active = {node: {t.get("id") for t in tasks or []} for node, tasks in replies.items()}
            self.asked = time.monotonic()

    def lost(self, node: str, task_id: str) -> bool:
        """The worker holding the task has not listed it (or not answered) for LOST_AFTER seconds."""
        if not self.asked:
            return False
        if task_id in self.active.get(node, ()):
            self.missing.pop(task_id, None)
            return False
        since = self.missing.setdefault(task_id, self.asked)
        return self.asked - since > LOST_AFTER

    def stop(self) -> None:
        self._halt.set()


class StepTask:
    """One step's Celery task as dagster-celery's loop sees it (ready, get, revoke), watched for a lost worker."""

    def __init__(self, run: "RunTasks", step, submit):
        self.run, self.step, self._submit = run, step, submit
        self.result = submit()
        self.resubmitted = 0
        self.revoked = False
        self.lost_on: str | None = None

    def ready(self) -> bool:
        if self.result.ready() or self.lost_on:
            return True
        if self.revoked or self.result.state != "STARTED":
            return False
        info = self.result.info  # read once: each read asks the backend, and the task may finish in between
        node = info.get("hostname") if isinstance(info, dict) else None
        if node and self.run.workers.lost(node, self.result.id):
            if self.resubmitted >= RESUBMITS:
                self.lost_on = node
                return True
            self.resubmitted += 1
            self.run.report(self.step, f"worker {node} stopped running step {self.step.key} "
                                       f"[RUN_WORKER_LOST]: submitting the step again ({self.resubmitted} of "
                                       f"{RESUBMITS}); its finished items are kept")
            self.result = self._submit()
        return False

    def get(self):
        if self.lost_on:
            raise WorkerLost(f"step {self.step.key} was lost with {RESUBMITS + 1} workers, the last {self.lost_on} "
                             "[RUN_WORKER_LOST]: check the workers' hosts, then `pipeline continue` the project")
        try:
            return self.result.get()
        except Exception:
            if self.revoked:
                raise TaskRevokedError(self.result.id) from None
            raise

    def revoke(self) -> None:
        """Stop the task: a queued one never starts, a running one is interrupted on its worker."""
        self.revoked = True
        self.result.revoke(terminate=True, signal="SIGTERM")


class RunTasks:
    """The Celery tasks of one run."""

    def __init__(self, plan_context, workers: Workers):
        self.context = plan_context
        self.workers = workers
        self.tasks: list[StepTask] = []

    def report(self, step, message: str) -> None:
        self.context.instance.report_engine_event(message, self.context.dagster_run, EngineEventData(),
                                                  step_key=step.key)

    def submit(self, app, plan_context, step, queue, priority, known_state) -> StepTask:
        """dagster-celery's `step_execution_fn`: the step as a task on `queue`, routed by the queue's own key."""
        from dagster_celery.tasks import create_task

        args = ExecuteStepArgs(
            job_origin=plan_context.reconstructable_job.get_python_origin(),
            run_id=plan_context.dagster_run.run_id,
            step_keys_to_execute=[step.key],
            instance_ref=plan_context.instance.get_ref(),
            retry_mode=plan_context.executor.retries.for_inner_plan(),
            known_state=known_state,
            print_serialized_events=True,
        )
        signature = create_task(app).si(execute_step_args_packed=pack_value(args),
                                        executable_dict=plan_context.reconstructable_job.to_dict())
        task = StepTask(self, step, lambda: signature.apply_async(priority=priority, queue=queue))
        self.tasks.append(task)
        return task

    def revoke_all(self) -> None:
        for task in self.tasks:
            if not task.result.ready():
                task.revoke()


class PipelineCeleryExecutor(CeleryExecutor):
    """dagster-celery's executor, with a cancel that terminates and never retries, and lost workers replaced."""

    def execute(self, plan_context, execution_plan):  # type: ignore[no-untyped-def]
        workers = Workers(self.app_args())
        workers.start()
        run = RunTasks(plan_context, workers)
        loop = core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=run.submit)
        try:
            for event in loop:
                yield event
                if event.event_type in _ENDS_STEP:
                    current = plan_context.instance.get_run_by_id(plan_context.run_id)
                    if current is not None and current.status in _STOPPING:
                        run.revoke_all()
                        loop.close()
                        raise dg.DagsterExecutionInterruptedError(
                            f"run {plan_context.run_id} is canceling: stopped after step {event.step_key}")
        finally:
            workers.stop()


def celery_executor_from_env(retries) -> PipelineCeleryExecutor:
    """The Celery executor as this environment configures it (pipeline/workers/settings.py)."""
    return PipelineCeleryExecutor(retries=retries, broker=settings.broker_url(), backend=settings.result_backend(),
                                  config_source=settings.celery_config())
