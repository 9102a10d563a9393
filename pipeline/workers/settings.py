"""Which executor runs the steps, and how the Celery mode reaches its workers: read from the environment.

`PIPELINE_EXECUTOR` = `in_process` (default: every step in the run worker's process on the daemon's
machine) or `celery` (every step on a Celery worker). The same variables are read by the run
worker that submits steps and by every worker host, so both sides build the same Celery app.
"""

import os
import re
import socket

from pipeline.events.redis_sink import redis_url
from pipeline.objects.settings import SettingsError  # one class for every deployment setting

__all__ = ["SettingsError"]

EXECUTOR_ENV = "PIPELINE_EXECUTOR"
BROKER_ENV = "PIPELINE_BROKER_URL"  # default: REDIS_URL
BACKEND_ENV = "PIPELINE_RESULT_BACKEND"  # default: the broker when it is Redis, else REDIS_URL
WORKER_NAME_ENV = "PIPELINE_WORKER_NAME"  # set by `pipeline worker` to the worker's node name
EXECUTORS = ("in_process", "celery")

DEFAULT_QUEUE = "default"
RENDER_QUEUE = "render"  # the video render: give it machines of its own with `pipeline worker --queues render`
QUEUES = (DEFAULT_QUEUE, RENDER_QUEUE)
QUEUE_TAG = "dagster-celery/queue"  # dagster-celery's step tag that routes a step to a queue
ON_RENDER_QUEUE = {QUEUE_TAG: RENDER_QUEUE}  # op tags of the steps that render video
MAX_QUEUES = 4  # dagster-celery's limit per worker
_QUEUE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def executor_kind() -> str:
    kind = (os.environ.get(EXECUTOR_ENV) or "in_process").strip().lower().replace("-", "_")
    if kind not in EXECUTORS:
        raise SettingsError(f"{EXECUTOR_ENV}={os.environ.get(EXECUTOR_ENV)!r} is not one of {', '.join(EXECUTORS)}")
    return kind


def distributed() -> bool:
    """Steps run on Celery workers (possibly on other hosts)."""
    return executor_kind() == "celery"


def broker_url() -> str:
    return os.environ.get(BROKER_ENV) or redis_url()


def result_backend() -> str:
    if os.environ.get(BACKEND_ENV):
        return os.environ[BACKEND_ENV]
    broker = broker_url()
    return broker if broker.startswith(("redis://", "rediss://")) else redis_url()


def describe(url: str) -> str:
    """A broker or backend URL with any password masked: safe to print."""
    from pipeline.events.target import Target

    return Target(url).describe().rsplit(" prefix ", 1)[0]


def celery_config() -> dict:
    """The Celery settings both sides share (`config_source` of dagster-celery's executor)."""
    return {
        "task_default_queue": DEFAULT_QUEUE,
        "task_track_started": True,  # a started task names its worker: how a lost worker is noticed
        "task_acks_late": False,  # a lost worker's step is submitted again by the run worker, not redelivered
        "worker_prefetch_multiplier": 1,
        # an early-acked task frees the prefetch slot, so a busy worker would reserve the next step while an
        # idle one waits: take a task only when a pool process is free (Redis brokers; ignored on AMQP)
        "worker_disable_prefetch": True,
        "result_expires": 86400,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "broker_transport_options": {"max_retries": 3, "interval_start": 0, "interval_step": 0.2,
                                     "interval_max": 0.5},
    }


def check_queues(names: list[str]) -> list[str]:
    """Queue names a worker serves: known shape, no duplicates, at most four."""
    queues = [n.strip() for n in names if n.strip()]
    if not queues:
        raise SettingsError(f"name at least one queue (e.g. {DEFAULT_QUEUE},{RENDER_QUEUE})")
    bad = [q for q in queues if not _QUEUE_NAME.match(q)]
    if bad:
        raise SettingsError(f"queue name(s) {', '.join(map(repr, bad))}: use lower-case letters, digits, - and _")
    if len(set(queues)) != len(queues) or len(queues) > MAX_QUEUES:
        raise SettingsError(f"{', '.join(queues)}: give each queue once, at most {MAX_QUEUES} per worker")
    return queues


def node_name() -> str:
    """The worker that runs this step: its Celery node name, or this machine's name in-process."""
    return os.environ.get(WORKER_NAME_ENV) or socket.gethostname()
