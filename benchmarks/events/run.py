"""Latency and throughput of the Redis projection, from an event's commit in Dagster's storage to a
reader blocked on the project's stream.

    .venv/bin/python benchmarks/events/run.py [--events 1000] [--rate 200] [--burst 3000] [--postgres URL]

A leader process holds the projector (as dagster-daemon or the webserver would); a writer process
stores engine events of one started run through the instance (the project's dagster.yaml, SQLite
unless --postgres) and notes the time each `store_event` returned; a reader process waits in XREAD
and notes when each entry arrives. Latency = arrival - commit, same clock. First `--events` events
paced at `--rate` per second, then `--burst` events back to back.

Everything it makes is removed at the end, also when it fails or is interrupted (Ctrl-C, SIGTERM):
its processes, its Redis keys (under a prefix of its own), its folder, and with `--postgres URL` (a
server: `postgresql://postgres@127.0.0.1:5432/postgres`) the database it created there.
"""

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARK = "bench "  # the message of every event the writer stores


def leader(home: str, ready, stop, parent: int) -> None:
    """Lead the projection until told to stop, or until the benchmark's own process is gone."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        instance.event_log_storage._leader.leading.wait(30)
        ready.set()
        while not stop.wait(1.0) and os.getppid() == parent:
            pass


def reader(url: str, stream: str, count: int, out: str, ready, stop) -> None:
    """Note when each benchmark entry arrives, until all `count` did or `stop` is set."""
    import redis

    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)
    last = client.xrevrange(stream, count=1)
    position = last[0][0] if last else "0-0"  # not "$": entries added between two XREADs would be missed
    arrivals: dict[int, float] = {}
    ready.set()
    while len(arrivals) < count and not stop.is_set():
        for _, entries in client.xread({stream: position}, block=200, count=1000) or []:
            now = time.time()
            for entry_id, fields in entries:
                position = entry_id
                if fields.get("message", "").startswith(MARK):
                    arrivals[int(fields["message"].split()[1])] = now
    Path(out).write_text(json.dumps(arrivals))


def writer(home: str, run_id: str, start: int, count: int, rate: float, out: str) -> None:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        commits = {}
        gap = 1 / rate if rate else 0
        next_at = time.monotonic()
        for i in range(start, start + count):
            if gap:
                next_at += gap
                time.sleep(max(0, next_at - time.monotonic()))
            instance.report_engine_event(f"{MARK}{i}", run)
            commits[i] = time.time()
        Path(out).write_text(json.dumps(commits))


def _phase(home, run_id, url, stream, start, count, rate, folder, processes) -> dict:
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    arrivals_file, commits_file = folder / f"arrivals-{start}.json", folder / f"commits-{start}.json"
    r = ctx.Process(target=reader, args=(url, stream, count, str(arrivals_file), ready, stop))
    processes.append(r)
    r.start()
    _started(ready, r, "the reader")
    began = time.time()
    w = ctx.Process(target=writer, args=(home, run_id, start, count, rate, str(commits_file)))
    processes.append(w)
    w.start()
    w.join()
    if w.exitcode != 0:
        raise RuntimeError(f"the writer failed (exit code {w.exitcode})")
    r.join(timeout=30)  # what has not arrived 30 s after the last commit is reported missing
    stop.set()
    r.join(timeout=10)
    if r.exitcode != 0:
        raise RuntimeError(f"the reader failed (exit code {r.exitcode})")
    commits = {int(k): v for k, v in json.loads(commits_file.read_text()).items()}
    arrivals = {int(k): v for k, v in json.loads(arrivals_file.read_text()).items()}
    if not arrivals:
        raise RuntimeError(f"no entry reached {stream}: is the projection running?")
    lat = sorted((arrivals[i] - commits[i]) * 1000 for i in commits if i in arrivals)
    return {"events": count, "received": len(arrivals), "p50_ms": round(statistics.median(lat), 2),
            "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 2), "max_ms": round(lat[-1], 2),
            "events_per_s": round(len(arrivals) / (max(arrivals.values()) - began)),
            "trace": [(commits[i], (arrivals[i] - commits[i]) * 1000) for i in sorted(commits) if i in arrivals]}


def _started(ready, process, what: str, timeout: float = 90) -> None:
    """Wait until `process` says it is ready; raise as soon as it died instead."""
    deadline = time.monotonic() + timeout
    while not ready.wait(0.2):
        if not process.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start (exit code {process.exitcode})")


def _run_event(instance, run, kind, message: str) -> None:
    """A run-level event, as the run worker stores it (it moves the run's status too)."""
    import dagster as dg

    instance.report_dagster_event(dg.DagsterEvent(event_type_value=kind.value, job_name=run.job_name,
                                                  message=message), run.run_id)


def _admin(server: str):
    """An engine on the maintenance database of the PostgreSQL server `server` (psycopg2, as dagster-postgres)."""
    import sqlalchemy as sa

    url = sa.engine.make_url(server).set(drivername="postgresql+psycopg2", database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _database(server: str) -> tuple[str, str]:
    """A new database on the PostgreSQL server `server`: (its URL, its name)."""
    import sqlalchemy as sa

    name = f"bench_events_{uuid.uuid4().hex[:8]}"
    admin = _admin(server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False), name


def _drop_database(server: str, name: str) -> None:
    import sqlalchemy as sa

    admin = _admin(server)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _clean(processes, stop, url: str, prefix: str, folder: Path, server: str | None, database: str | None) -> None:
    """Remove what the benchmark made: processes first (the leader flushes once more), then keys, files, database.

    Each part is tried whatever happened to the others; what could not be removed is said.
    """
    import redis

    said = []
    stop.set()
    for process in processes:
        process.join(timeout=15 if process.name == "leader" else 1)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
    said.append(f"{len(processes)} processes ended")
    try:
        client = redis.Redis.from_url(url, socket_timeout=10)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for n in range(0, len(keys), 500):
            client.delete(*keys[n:n + 500])
        left = sum(1 for _ in client.scan_iter(match=f"{prefix}*", count=1000))
        said.append(f"{len(keys)} Redis keys {prefix}* deleted ({left} left)")
    except redis.RedisError as e:
        said.append(f"Redis keys {prefix}* not deleted: {e}")
    shutil.rmtree(folder, ignore_errors=True)
    said.append(f"{folder} removed")
    if server and database:
        try:
            _drop_database(server, database)
            said.append(f"database {database} dropped")
        except Exception as e:  # noqa: BLE001 - said, and the rest is cleaned anyway
            said.append(f"database {database} not dropped: {e}")
    print("cleaned up: " + ", ".join(said), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="paced events for latency")
    parser.add_argument("--rate", type=float, default=200, help="events per second while measuring latency")
    parser.add_argument("--burst", type=int, default=3000, help="unpaced events for throughput (0: none)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use instead of SQLite")
    parser.add_argument("--trace", metavar="FILE", help="write (commit time, latency ms) of every event here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a kill too
    folder = Path(tempfile.mkdtemp(prefix="bench-events-"))
    home = folder / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["PIPELINE_REDIS_PREFIX"] = prefix = f"bench-{uuid.uuid4().hex[:6]}:"
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    processes: list = []
    database = None
    try:
        if args.postgres:
            os.environ["DAGSTER_POSTGRES_URL"], database = _database(args.postgres)
        else:
            os.environ.pop("DAGSTER_POSTGRES_URL", None)

        import dagster as dg

        ready = ctx.Event()
        lead = ctx.Process(target=leader, args=(str(home), ready, stop, os.getpid()), name="leader")
        processes.append(lead)
        lead.start()
        _started(ready, lead, "the leader")

        @dg.op
        def noop() -> None:
            pass

        @dg.job
        def bench_job():
            noop()

        with dg.DagsterInstance.get() as instance:
            run = instance.create_run_for_job(bench_job, tags={"dagster/partition": "bench"})
            # the projector skips a run that never started: this one is projected from its RUN_START on
            _run_event(instance, run, dg.DagsterEventType.RUN_START, "the events benchmark started")
            stream = f"{prefix}events:bench"
            phases = [("paced", args.events, args.rate), ("burst", args.burst, 0)]
            results = {name: _phase(str(home), run.run_id, url, stream, sum(p[1] for p in phases[:n]), count,
                                    rate, folder, processes)
                       for n, (name, count, rate) in enumerate(phases) if count}
            _run_event(instance, run, dg.DagsterEventType.RUN_SUCCESS, "the events benchmark finished")
        backend = "postgres" if args.postgres else "sqlite"
        for name, result in results.items():
            writer_label = f"paced {args.rate:g}/s" if name == "paced" else "burst"
            rate = "-" if name == "paced" else f"{result['events_per_s']:g}"
            missing = result["events"] - result["received"]
            print(f"| {backend} | {writer_label} | {result['events']} | {result['p50_ms']} | {result['p99_ms']} | "
                  f"{result['max_ms']} | {rate} |" + (f" {missing} missing" if missing else ""))
        if args.trace:
            Path(args.trace).write_text(json.dumps({n: r["trace"] for n, r in results.items()}))
    finally:
        _clean(processes, stop, url, prefix, folder, args.postgres, database)


if __name__ == "__main__":
    main()
