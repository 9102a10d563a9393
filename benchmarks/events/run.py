"""Latency and throughput of the Redis projection, from an event's commit in Dagster's storage to a
reader blocked on the project's stream.

    .venv/bin/python benchmarks/events/run.py [--events 1000] [--rate 200] [--burst 3000] [--postgres URL]

A leader process holds the projector (as dagster-daemon or the webserver would); a writer process
stores engine events for one run through the instance (the project's dagster.yaml, SQLite unless
--postgres) and notes the time each `store_event` returned; a reader process waits in XREAD and
notes when each entry arrives. Latency = arrival - commit, same clock.
"""

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _home(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", folder / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(folder)


def leader(home: str, ready, stop) -> None:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    instance = dg.DagsterInstance.get()
    instance.event_log_storage._leader.leading.wait(10)
    ready.set()
    stop.wait()
    instance.dispose()


def reader(url: str, stream: str, count: int, out: str, ready) -> None:
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    position = "$"
    arrivals = {}
    ready.set()
    while len(arrivals) < count:
        for _, entries in client.xread({stream: position}, block=30000, count=1000) or []:
            now = time.time()
            for entry_id, fields in entries:
                position = entry_id
                if fields.get("message", "").startswith("bench "):
                    arrivals[int(fields["message"].split()[1])] = now
    Path(out).write_text(json.dumps(arrivals))


def writer(home: str, run_id: str, start: int, count: int, rate: float, out: str) -> None:
    import dagster as dg

    os.environ["DAGSTER_HOME"] = home
    instance = dg.DagsterInstance.get()
    run = instance.get_run_by_id(run_id)
    commits = {}
    gap = 1 / rate if rate else 0
    next_at = time.monotonic()
    for i in range(start, start + count):
        if gap:
            next_at += gap
            time.sleep(max(0, next_at - time.monotonic()))
        instance.report_engine_event(f"bench {i}", run)
        commits[i] = time.time()
    Path(out).write_text(json.dumps(commits))
    instance.dispose()


def _phase(home, run_id, url, stream, start, count, rate, folder) -> dict:
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    arrivals_file, commits_file = folder / f"arrivals-{start}.json", folder / f"commits-{start}.json"
    r = ctx.Process(target=reader, args=(url, stream, count, str(arrivals_file), ready))
    r.start()
    ready.wait(30)
    began = time.time()
    w = ctx.Process(target=writer, args=(home, run_id, start, count, rate, str(commits_file)))
    w.start()
    w.join()
    r.join(timeout=120)
    commits = {int(k): v for k, v in json.loads(commits_file.read_text()).items()}
    arrivals = {int(k): v for k, v in json.loads(arrivals_file.read_text()).items()}
    lat = sorted((arrivals[i] - commits[i]) * 1000 for i in commits if i in arrivals)
    return {"events": count, "received": len(arrivals), "p50_ms": round(statistics.median(lat), 2),
            "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 2), "max_ms": round(lat[-1], 2),
            "events_per_s": round(count / (max(arrivals.values()) - began), 0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000, help="paced events for latency")
    parser.add_argument("--rate", type=float, default=200, help="events per second while measuring latency")
    parser.add_argument("--burst", type=int, default=3000, help="unpaced events for throughput")
    parser.add_argument("--postgres", help="a PostgreSQL URL to use instead of SQLite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-events-"))
    home = folder / "home"
    _home(home)
    os.environ["PIPELINE_REDIS_PREFIX"] = prefix = f"bench-{uuid.uuid4().hex[:6]}:"
    if args.postgres:
        os.environ["DAGSTER_POSTGRES_URL"] = args.postgres
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

    import dagster as dg

    @dg.op
    def noop() -> None:
        pass

    @dg.job
    def bench_job():
        noop()

    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    lead = ctx.Process(target=leader, args=(str(home), ready, stop))
    lead.start()
    ready.wait(30)
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(bench_job, tags={"dagster/partition": "bench"})
        run_id = run.run_id
    stream = f"{prefix}events:bench"
    paced = _phase(str(home), run_id, url, stream, 0, args.events, args.rate, folder)
    burst = _phase(str(home), run_id, url, stream, args.events, args.burst, 0, folder)
    stop.set()
    lead.join(timeout=30)
    backend = "postgres" if args.postgres else "sqlite"
    print(f"| {backend} | paced {args.rate:g}/s | {paced['events']} | {paced['p50_ms']} | {paced['p99_ms']} | "
          f"{paced['max_ms']} | - |")
    print(f"| {backend} | burst | {burst['events']} | {burst['p50_ms']} | {burst['p99_ms']} | {burst['max_ms']} | "
          f"{burst['events_per_s']:g} |")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
