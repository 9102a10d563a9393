"""`pipeline worker`: serve the steps of the distributed mode (PIPELINE_EXECUTOR=celery) on this host."""

import argparse
import os
import re
import socket
import tempfile
from pathlib import Path

from pipeline.environment import POSTGRES_URL_ENV
from pipeline.objects.settings import check_store_settings
from pipeline.store import DATA_DIR_ENV
from pipeline.workers import settings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def _checked(args: argparse.Namespace) -> tuple[list[str], str, Path]:
    """Everything the worker needs, checked before it connects to anything."""
    queues = settings.check_queues(args.queues.split(","))
    if not _NAME.match(args.name):
        raise settings.SettingsError(f"--name {args.name!r}: use letters, digits, - and _ (the host is added)")
    if args.concurrency < 1:
        raise settings.SettingsError(f"--concurrency {args.concurrency}: give at least 1")
    if not os.environ.get(POSTGRES_URL_ENV):
        raise settings.SettingsError(f"{POSTGRES_URL_ENV} is not set: workers record their steps in the "
                                     "PostgreSQL instance of the daemon; set the same URL here")
    s3 = check_store_settings() == "s3"
    if args.scratch is not None and not args.scratch.strip():
        raise settings.SettingsError("--scratch '': name a local folder, or leave it out for the system's")
    scratch = Path(args.scratch or tempfile.gettempdir()).resolve()
    data = os.environ.get(DATA_DIR_ENV, "")
    if s3:  # no shared path: the data folder is this host's mirror of the bucket, in the scratch folder
        if not data:
            data = os.environ[DATA_DIR_ENV] = str(scratch / "data")
        Path(data).mkdir(parents=True, exist_ok=True)
    if not data or not Path(data).is_dir():
        raise settings.SettingsError(f"{DATA_DIR_ENV}={data!r} is not a folder: point it at the shared path "
                                     "(the same path the daemon's host uses)")
    # with the S3 store the mirror may live in the scratch folder: both are this host's own
    if not s3 and (scratch == Path(data).resolve() or Path(data).resolve() in scratch.parents):
        raise settings.SettingsError(f"--scratch {args.scratch!r} is inside {DATA_DIR_ENV}: the scratch folder is "
                                     "the worker's own and may vanish, the data folder is shared")
    try:
        scratch.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise settings.SettingsError(f"--scratch {args.scratch!r}: cannot be a folder here ({e.strerror})") from None
    return queues, f"{args.name}@{socket.gethostname()}", scratch


def _cmd_worker(args: argparse.Namespace) -> int:
    queues, node, scratch = _checked(args)
    os.environ[settings.WORKER_NAME_ENV] = node  # steps record it in their metadata
    os.environ["TMPDIR"] = str(scratch)  # a step's temporary files: local, may vanish between steps
    tempfile.tempdir = None
    from pipeline.workers.app import app

    print(f"worker {node}: queues {','.join(queues)}, {args.concurrency} at a time, scratch {scratch}, "
          f"data {os.environ[DATA_DIR_ENV]}, broker {settings.describe(settings.broker_url())}", flush=True)
    app.worker_main(["worker", "--queues", ",".join(queues), "--hostname", node, "--concurrency",
                     str(args.concurrency), "--pool", "prefork", "--loglevel", args.loglevel,
                     "--without-gossip", "--without-mingle"])
    return 0


def add_command(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser(
        "worker", help="run steps on this host for the distributed mode (PIPELINE_EXECUTOR=celery)",
        description="A Celery worker of the distributed mode. It needs the daemon's DAGSTER_POSTGRES_URL, "
                    "REDIS_URL (or PIPELINE_BROKER_URL) and the shared PIPELINE_DATA_DIR.")
    worker.add_argument("--queues", default=",".join(settings.QUEUES),
                        help=f"queues to serve, comma-separated (default: %(default)s; "
                             f"`{settings.RENDER_QUEUE}` is the video render)")
    worker.add_argument("--name", default="worker", help="node name before @host (default: %(default)s)")
    worker.add_argument("--concurrency", type=int, default=os.cpu_count() or 1,
                        help="steps at a time (default: the cores, %(default)s)")
    worker.add_argument("--scratch", help="local folder for temporary files (default: the system's)")
    worker.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    worker.set_defaults(run=_cmd_worker)
