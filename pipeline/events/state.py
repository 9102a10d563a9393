"""The projection's durable position: per Redis target and run, the last event projected, kept beside
Dagster's storage; and the runs whose projection fails, with the error.

Redis here keeps nothing on disk, so the position cannot live only there: it is kept in a SQLite
file next to the instance's SQLite storage, or in tables of the instance's PostgreSQL database.
Positions are kept per target (Redis URL and prefix, by digest): two projectors of one instance
that write to different Redis servers must not take each other's progress for their own.
"""

import time
from dataclasses import dataclass

import sqlalchemy as sa

_META = sa.MetaData()
POSITIONS = sa.Table(
    "pipeline_projection_positions", _META,
    sa.Column("target", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False, default=-1),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
    sa.Column("updated", sa.Float, nullable=False),
)
ERRORS = sa.Table(
    "pipeline_projection_errors", _META,
    sa.Column("target", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("first_at", sa.Float, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
)
META = sa.Table(
    "pipeline_projection_meta", _META,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
# Positions before they were kept per target; read once, never written.
LEGACY_RUNS = sa.Table(
    "pipeline_projection_runs", sa.MetaData(),
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
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


@dataclass
class RunError:
    """Why projecting a run failed last, since when and how often."""

    run_id: str
    project: str
    error: str
    first_at: float
    at: float
    attempts: int


class ProjectionState:
    """Per-run cursors and errors of one target, and a few settings, in a SQL database (SQLite or PostgreSQL)."""

    def __init__(self, url: str, target: str = ""):
        self.target = target
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            _META.create_all(self.engine)
        except sa.exc.OperationalError:
            _META.create_all(self.engine)  # another process created them at the same moment
        self._adopt_legacy()

    @classmethod
    def sqlite(cls, folder: str, target: str = "") -> "ProjectionState":
        return cls(f"sqlite:///{folder}/projection.db", target)

    def _adopt_legacy(self) -> None:
        """A new target looks again, from the start, at the runs the single-target table left pending."""
        if not sa.inspect(self.engine).has_table(LEGACY_RUNS.name):
            return
        mine = POSITIONS.c.target == self.target
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(POSITIONS.c.run_id).where(mine).limit(1)).first() is not None:
                    return
                rows = conn.execute(sa.select(LEGACY_RUNS.c.run_id, LEGACY_RUNS.c.project)
                                    .where(LEGACY_RUNS.c.done.is_(False))).all()
                if rows:
                    conn.execute(sa.insert(POSITIONS), [
                        {"target": self.target, "run_id": r.run_id, "project": r.project, "cursor": -1,
                         "done": False, "updated": time.time()} for r in rows])
        except sa.exc.IntegrityError:
            pass  # another process of this target adopted them at the same moment

    def position(self, run_id: str) -> RunPosition | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(POSITIONS).where(self._mine(POSITIONS), POSITIONS.c.run_id == run_id)).first()
        return RunPosition(row.run_id, row.project, row.cursor, row.done) if row else None

    def advance(self, run_id: str, project: str, cursor: int, done: bool) -> None:
        values = {"project": project[:128], "cursor": cursor, "done": done, "updated": time.time()}
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(POSITIONS).where(self._mine(POSITIONS), POSITIONS.c.run_id == run_id)
                                   .values(**values)).rowcount
            if not updated:
                conn.execute(sa.insert(POSITIONS).values(target=self.target, run_id=run_id, **values))

    def pending(self) -> list[str]:
        query = sa.select(POSITIONS.c.run_id).where(self._mine(POSITIONS), POSITIONS.c.done.is_(False))
        with self.engine.connect() as conn:
            return [r.run_id for r in conn.execute(query)]

    def recent(self, since: float, project: str | None = None) -> list[RunPosition]:
        query = sa.select(POSITIONS).where(self._mine(POSITIONS), POSITIONS.c.updated >= since)
        if project is not None:
            query = query.where(POSITIONS.c.project == project)
        with self.engine.connect() as conn:
            return [RunPosition(r.run_id, r.project, r.cursor, r.done) for r in conn.execute(query)]

    def reset(self, run_ids: list[str]) -> None:
        """Forget what was projected for these runs, so they are projected again from the start."""
        if run_ids:
            with self.engine.begin() as conn:
                conn.execute(sa.update(POSITIONS).where(self._mine(POSITIONS), POSITIONS.c.run_id.in_(run_ids))
                             .values(cursor=-1, done=False))

    def record_error(self, run_id: str, project: str, error: str) -> RunError:
        """Note that projecting the run failed (again); returns the record."""
        now = time.time()
        where = (self._mine(ERRORS), ERRORS.c.run_id == run_id)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(ERRORS).where(*where)).first()
            first_at, attempts = (row.first_at, row.attempts + 1) if row else (now, 1)
            values = {"project": project[:128], "error": error, "first_at": first_at, "at": now, "attempts": attempts}
            if row:
                conn.execute(sa.update(ERRORS).where(*where).values(**values))
            else:
                conn.execute(sa.insert(ERRORS).values(target=self.target, run_id=run_id, **values))
        return RunError(run_id, project, error, first_at, now, attempts)

    def clear_error(self, run_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(ERRORS).where(self._mine(ERRORS), ERRORS.c.run_id == run_id))

    def errors(self) -> list[RunError]:
        """The runs whose projection failed last time it was tried, oldest failure first."""
        query = sa.select(ERRORS).where(self._mine(ERRORS)).order_by(ERRORS.c.first_at)
        with self.engine.connect() as conn:
            return [RunError(r.run_id, r.project, r.error, r.first_at, r.at, r.attempts) for r in conn.execute(query)]

    def other_targets(self, since: float) -> list[str]:
        """Digests of the other targets that projected a run of this instance since `since`."""
        query = (sa.select(POSITIONS.c.target).distinct()
                 .where(POSITIONS.c.target != self.target, POSITIONS.c.updated >= since))
        with self.engine.connect() as conn:
            return [r.target for r in conn.execute(query)]

    def _mine(self, table: sa.Table):
        return table.c.target == self.target

    def get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()

    def put(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(sa.update(META).where(META.c.key == key).values(value=value)).rowcount:
                conn.execute(sa.insert(META).values(key=key, value=value))

    def dispose(self) -> None:
        self.engine.dispose()
