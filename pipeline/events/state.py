"""The projection's durable position: per run, the last event projected, kept beside Dagster's storage.

Redis here keeps nothing on disk, so the position cannot live only there: it is kept in a SQLite
file next to the instance's SQLite storage, or in a table of the instance's PostgreSQL database.
"""

import time
from dataclasses import dataclass

import sqlalchemy as sa

_META = sa.MetaData()
RUNS = sa.Table(
    "pipeline_projection_runs", _META,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, default=-1),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
    sa.Column("updated", sa.Float, nullable=False),
)
META = sa.Table(
    "pipeline_projection_meta", _META,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def _sqlite_pragmas(connection, _record) -> None:
    # WAL and NORMAL sync: a cursor write costs no fsync; a lost write only re-publishes what Redis skips.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@dataclass
class RunPosition:
    run_id: str
    project: str
    cursor: int
    done: bool


class ProjectionState:
    """Per-run cursors and a few settings, in a SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            _META.create_all(self.engine)
        except sa.exc.OperationalError:
            _META.create_all(self.engine)  # another process created them at the same moment

    @classmethod
    def sqlite(cls, folder: str) -> "ProjectionState":
        return cls(f"sqlite:///{folder}/projection.db")

    def position(self, run_id: str) -> RunPosition | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).first()
        return RunPosition(row.run_id, row.project, row.cursor, row.done) if row else None

    def advance(self, run_id: str, project: str, cursor: int, done: bool) -> None:
        values = {"project": project, "cursor": cursor, "done": done, "updated": time.time()}
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(RUNS).where(RUNS.c.run_id == run_id).values(**values)).rowcount
            if not updated:
                conn.execute(sa.insert(RUNS).values(run_id=run_id, **values))

    def pending(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.run_id for r in conn.execute(sa.select(RUNS.c.run_id).where(RUNS.c.done.is_(False)))]

    def recent(self, since: float, project: str | None = None) -> list[RunPosition]:
        query = sa.select(RUNS).where(RUNS.c.updated >= since)
        if project is not None:
            query = query.where(RUNS.c.project == project)
        with self.engine.connect() as conn:
            return [RunPosition(r.run_id, r.project, r.cursor, r.done) for r in conn.execute(query)]

    def reset(self, run_ids: list[str]) -> None:
        """Forget what was projected for these runs, so they are projected again from the start."""
        if run_ids:
            with self.engine.begin() as conn:
                conn.execute(sa.update(RUNS).where(RUNS.c.run_id.in_(run_ids)).values(cursor=-1, done=False))

    def get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()

    def put(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(sa.update(META).where(META.c.key == key).values(value=value)).rowcount:
                conn.execute(sa.insert(META).values(key=key, value=value))

    def dispose(self) -> None:
        self.engine.dispose()
