"""One run per project: which run is active, and a lock that makes check-then-launch atomic.

The lock lives where the runs do: a file lock beside the SQLite storage (one machine), or a
PostgreSQL advisory lock in the run storage's database (any number of machines).
"""

import contextlib
import fcntl
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline import tags

ACTIVE = [dg.DagsterRunStatus(s) for s in tags.ACTIVE_STATUSES]


class ProjectBusy(dg.DagsterError):
    """A launch for a project that already has a queued or running run (`run_id`, `status`).

    Raised by the coordinator inside Dagster, it reaches a GraphQL client as text only: `parse` reads
    it back from there, next to the one place that words it.
    """

    _TEXT = re.compile(r"project '([^']*)' already has run ([0-9a-f-]{8,}) \(([A-Za-z_]+)\)")

    def __init__(self, project: str, run_id: str, status: str):
        self.project, self.run_id, self.status = project, run_id, status.upper()
        super().__init__(
            f"project {project!r} already has run {run_id} ({self.status}); a project runs one "
            f"run at a time: wait for it to finish, or cancel it with `pipeline cancel {project}`"
        )

    @classmethod
    def of_run(cls, project: str, run: dg.DagsterRun) -> "ProjectBusy":
        return cls(project, run.run_id, run.status.value)

    @classmethod
    def parse(cls, text: str) -> "ProjectBusy | None":
        found = cls._TEXT.search(text)
        return cls(*found.groups()) if found else None


class InvalidProjectLaunch(dg.DagsterError):
    """A launch whose partition key (`dagster/partition`) is not a valid project id."""

    _TEXT = re.compile(r"refused: partition key .*")

    def __init__(self, project: str, problem: str):
        self.project = project
        super().__init__(f"refused: partition key {project!r} is not a valid project id: {problem}; "
                         "launch with a project id from a validated brief (`pipeline validate BRIEF`)")

    @classmethod
    def parse(cls, text: str) -> str | None:
        """The refusal's line when `text` holds one."""
        found = cls._TEXT.search(text)
        return found.group(0).splitlines()[0] if found else None


def active_run(instance: dg.DagsterInstance, project: str, exclude: str | None = None) -> dg.DagsterRun | None:
    """The project's queued, starting, running or canceling run, if any (refused launches never count)."""
    runs = instance.get_runs(dg.RunsFilter(tags={tags.PROJECT: project}, statuses=ACTIVE), limit=5)
    runs += instance.get_runs(dg.RunsFilter(tags={tags.PROJECT: project, tags.LAUNCHED_BY: tags.LOCAL},
                                            statuses=[dg.DagsterRunStatus(tags.LOCAL_PENDING)]), limit=5)
    return next((r for r in runs if r.run_id != exclude and tags.is_active(r.status.value, r.tags)), None)


@contextlib.contextmanager
def project_lock(instance: dg.DagsterInstance, project: str) -> Iterator[None]:
    """Held while a launcher checks for an active run and enqueues its own."""
    from pipeline.environment import postgres_url, storage_backend

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
