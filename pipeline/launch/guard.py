"""One run per project: which run is active, and a lock that makes check-then-launch atomic.

The lock lives where the runs do: a file lock beside the SQLite storage (one machine), or a
PostgreSQL advisory lock in the run storage's database (any number of machines).
"""

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

PROJECT_TAG = "dagster/partition"
REFUSED_TAG = "pipeline/refused"
LOCAL_TAG = "pipeline/launched_by"  # runs created by `pipeline demo` in-process count as active at once
ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
          dg.DagsterRunStatus.CANCELING]


class ProjectBusy(dg.DagsterError):
    """A launch for a project that already has a queued or running run."""

    def __init__(self, project: str, run: dg.DagsterRun):
        self.project = project
        self.run_id = run.run_id
        super().__init__(
            f"project {project!r} already has run {run.run_id} ({run.status.value}); a project runs one "
            f"run at a time: wait for it to finish, or cancel it with `pipeline cancel {project}`"
        )


class InvalidProjectLaunch(dg.DagsterError):
    """A launch whose partition key (`dagster/partition`) is not a valid project id."""

    def __init__(self, project: str, problem: str):
        self.project = project
        super().__init__(f"refused: partition key {project!r} is not a valid project id: {problem}; "
                         "launch with a project id from a validated brief (`pipeline validate BRIEF`)")


def active_run(instance: dg.DagsterInstance, project: str, exclude: str | None = None) -> dg.DagsterRun | None:
    """The project's queued, starting, running or canceling run, if any (refused launches never count)."""
    runs = instance.get_runs(dg.RunsFilter(tags={PROJECT_TAG: project}, statuses=ACTIVE), limit=5)
    runs += [r for r in instance.get_runs(dg.RunsFilter(tags={PROJECT_TAG: project, LOCAL_TAG: "local"},
                                                        statuses=[dg.DagsterRunStatus.NOT_STARTED]), limit=5)]
    return next((r for r in runs if r.run_id != exclude and not r.tags.get(REFUSED_TAG)), None)


@contextlib.contextmanager
def project_lock(instance: dg.DagsterInstance, project: str) -> Iterator[None]:
    """Held while a launcher checks for an active run and enqueues its own."""
    from pipeline.storage.backends import postgres_url, storage_backend

    if storage_backend() == "postgres":
        import sqlalchemy as sa

        engine = sa.create_engine(postgres_url(), poolclass=sa.pool.NullPool)
        key = int(hashlib.sha256(f"pipeline-project:{project}".encode()).hexdigest()[:15], 16)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            engine.dispose()
        return
    folder = Path(instance.root_directory) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(project.encode()).hexdigest()[:24]
    with open(folder / f"project-{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
