"""The Celery app of a worker host: `pipeline worker` runs it (`celery -A pipeline.workers.app worker` too).

It is dagster-celery's app and step task, built from the same environment as the run worker's
executor (pipeline/workers/settings.py), so both agree on broker, result backend and queues.
A step's process turns SIGTERM (the run worker revoking its task on cancel) into an interrupt of
the step, which the assets' boundary fails without retry; outside a step SIGTERM ends the process
as before.
"""

import os
import signal

import dagster as dg
from celery.signals import task_postrun, task_prerun, worker_process_init
from dagster._core.execution.retries import RetryMode
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from pipeline.workers import settings
from pipeline.workers.executor import celery_executor_from_env

app = make_app(celery_executor_from_env(RetryMode(RetryMode.DISABLED)).app_args())
execute_plan = create_task(app)

_in_step = False


@task_prerun.connect
def _step_started(**_: object) -> None:
    global _in_step
    _in_step = True


@task_postrun.connect
def _step_ended(**_: object) -> None:
    global _in_step
    _in_step = False


def _terminated(signum: int, frame: object) -> None:
    if _in_step:
        raise dg.DagsterExecutionInterruptedError("the step's task was revoked: its run is being canceled")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


@worker_process_init.connect
def _interrupt_steps_on_sigterm(**_: object) -> None:
    signal.signal(signal.SIGTERM, _terminated)


__all__ = ["app", "execute_plan", "settings"]
