"""The same batch in-process and on 1 and 2 Celery workers: throughput, dispatch overhead, where the time goes.

    .venv/bin/python benchmarks/workers/run.py [--text 40] [--videos 4] [--modes inproc,celery1,celery2]
        [--rounds 1] [--concurrency 1] [--json PATH]

Each mode gets a deployment of its own, built with the distributed tests' helper
(pipeline_tests/distributed/cluster.py): a fresh PostgreSQL database, its own redis-server (broker,
result backend and projection), dagster-webserver + dagster-daemon on the project's dagster.yaml, and
for the Celery modes `pipeline worker` processes, each in its own mount and UTS namespace (a host of
its own name, its own scratch folder, only the shared path in common). `inproc` is the same deployment
with PIPELINE_EXECUTOR=in_process and no worker. Providers are the offline defaults, so every step is
local CPU work.

Per mode: one warm-up run (stop_at=outline, not counted), then `--text` projects stopping at
`manuscript` launched back to back with `launch_brief` (the CLI's function), waited for, then
`--videos` whole projects (30 s videos) the same way. Per kind: projects/hour = n / (first submit ->
last run's end). From each run's event log (one clock: every "host" is this machine): queue wait
(RUN_ENQUEUED -> RUN_STARTING; the coordinator logs no RUN_DEQUEUED), run worker start (RUN_STARTING -> RUN_START), step bodies
(STEP_START -> STEP_SUCCESS) by asset, and each step's start latency (STEP_START minus the end of the
last of its upstream steps in the run, or RUN_START); in Celery mode that latency is split at
dagster-celery's engine events: ready -> "Submitting celery task" (the run worker's 1 s loop) ->
"Executing steps ... in celery worker" (broker, queue wait, task start on the worker) -> STEP_START.
CPU seconds of the daemon host's process tree (daemon, webserver, code servers, run workers) and of
each worker host's tree (utime+stime of live processes and of their reaped children, from /proc),
sampled before and after each batch; the database's PostgreSQL backends are sampled every second;
Redis CPU and commands from INFO. The 1-minute load average is sampled every 5 s.

Cleans up what it starts (workers, services, code servers, redis-server, the database, the folder),
also on failure or Ctrl-C.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402
import psycopg2  # noqa: E402
import redis  # noqa: E402

from pipeline.cli.projects import launch_brief  # noqa: E402
from pipeline.launch.client import ACTIVE, ClientError, PipelineClient  # noqa: E402
from pipeline.stages import STAGES  # noqa: E402
from pipeline_tests.defs.briefs import small_brief  # noqa: E402
from pipeline_tests.distributed.cluster import Cluster  # noqa: E402
from pipeline_tests.services import RedisServer, descendants  # noqa: E402

ET = dg.DagsterEventType
MODES = {"inproc": 0, "celery1": 1, "celery2": 2}
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- process and service accounting

def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of the roots and every live descendant, with the children they reaped."""
    total = 0.0
    for pid in {p for r in roots for p in (r, *descendants(r))}:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / TICK  # utime stime cutime cstime
    return total


class Sampler(threading.Thread):
    """Every second: the PostgreSQL backends of the database (CPU last seen per pid); every 5 s the load."""

    def __init__(self, dsn: str, database: str):
        super().__init__(daemon=True)
        self.dsn, self.database = dsn, database
        self.backends: dict[int, tuple[float, float]] = {}  # pid -> (first seen cpu, last seen cpu)
        self.loads: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        n = 0
        try:
            while not self._halt.wait(1.0):
                with conn.cursor() as cur:
                    cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                                (self.database,))
                    pids = [r[0] for r in cur.fetchall()]
                for pid in pids:
                    with contextlib.suppress(OSError, ValueError, IndexError):
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                        cpu = (int(fields[11]) + int(fields[12])) / TICK
                        first = self.backends.get(pid, (cpu, cpu))[0]
                        self.backends[pid] = (first, cpu)
                if n % 5 == 0:
                    self.loads.append(os.getloadavg()[0])
                n += 1
        finally:
            conn.close()

    def pg_cpu(self) -> float:
        return sum(last - first for first, last in self.backends.values())

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def redis_stats(url: str) -> dict:
    info = redis.Redis.from_url(url).info("all")
    return {"cpu": info["used_cpu_user"] + info["used_cpu_sys"], "commands": info["total_commands_processed"],
            "by_command": {k[len("cmdstat_"):]: v["calls"] for k, v in info.items() if k.startswith("cmdstat_")}}


def pg_stats(dsn: str) -> dict:
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = "
                    "current_database()")
        commits, inserted, updated = cur.fetchone()
        cur.execute("SELECT count(*) FROM event_logs")
        events = cur.fetchone()[0]
    return {"commits": commits, "inserted": inserted, "updated": updated, "events": events}


# ---------------------------------------------------------------- event-log breakdown

def parents_of_assets() -> dict[str, set[str]]:
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    return {name: {p.to_user_string() for p in graph.get(dg.AssetKey(name)).parent_keys
                   if p.to_user_string() in STAGES} for name in STAGES}


def breakdown(instance: dg.DagsterInstance, run_id: str, parents: dict[str, set[str]]) -> dict:
    first: dict = {}
    start, end, submit, picked = {}, {}, {}, {}
    for entry in instance.all_logs(run_id):
        kind = entry.dagster_event_type
        if kind is None:
            continue
        first.setdefault(kind, entry.timestamp)
        key = entry.step_key
        if kind == ET.STEP_START:
            start.setdefault(key, entry.timestamp)
        elif kind == ET.STEP_SUCCESS:
            end[key] = entry.timestamp
        elif kind == ET.ENGINE_EVENT and key:
            if entry.message.startswith("Submitting celery task"):
                submit.setdefault(key, entry.timestamp)
            elif "in celery worker" in entry.message:
                picked.setdefault(key, entry.timestamp)
    steps = {}
    for key in start:
        ups = [end[p] for p in parents.get(key, ()) if p in end]
        ready = max(ups) if ups else first[ET.RUN_START]
        row = {"body": end.get(key, start[key]) - start[key], "latency": start[key] - ready}
        if key in submit and key in picked:
            row.update(to_submit=submit[key] - ready, to_worker=picked[key] - submit[key],
                       worker_to_start=start[key] - picked[key])
        steps[key] = row
    return {"run_id": run_id, "status_end": first.get(ET.RUN_SUCCESS) or first.get(ET.RUN_FAILURE),
            "enqueued": first[ET.RUN_ENQUEUED], "dequeued": first.get(ET.RUN_DEQUEUED),
            "launch": first[ET.RUN_STARTING] - first.get(ET.RUN_DEQUEUED, first[ET.RUN_STARTING]), "queue": first.get(ET.RUN_DEQUEUED, first[ET.RUN_STARTING])
            - first[ET.RUN_ENQUEUED], "run_worker": first[ET.RUN_START] - first[ET.RUN_STARTING],
            "first_step": min(start.values()) - first[ET.RUN_START],
            "last_step_to_end": first[ET.RUN_SUCCESS] - max(end.values()),
            "total": first[ET.RUN_SUCCESS] - first[ET.RUN_ENQUEUED], "steps": steps}


# ---------------------------------------------------------------- one mode

def host_roots(cluster: Cluster) -> dict[str, list[int]]:
    roots = {"daemon host": [p.pid for p in cluster.services.procs]}
    for w in cluster.workers:
        roots[w.host] = [w.proc.pid]
    return roots


def batch(client: PipelineClient, cluster: Cluster, kind: str, briefs: list, stop_at, sampler: Sampler) -> dict:
    roots = host_roots(cluster)
    cpu0 = {h: tree_cpu(r) for h, r in roots.items()}
    redis0, pg0 = redis_stats(cluster.redis_url), pg_stats(cluster.env["DAGSTER_POSTGRES_URL"])
    pgcpu0, loads0 = sampler.pg_cpu(), len(sampler.loads)
    load_before = os.getloadavg()[0]
    t0 = time.time()
    launches, run_ids = [], []
    for b in briefs:
        t = time.time()
        run_ids.append(launch_brief(client, b, stop_at))
        launches.append(time.time() - t)
    ends = {}
    while len(ends) < len(run_ids):
        for rid in run_ids:
            if rid not in ends:
                run = client.run(rid)
                if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                    ends[rid] = run
        time.sleep(0.5)
    load_after = os.getloadavg()[0]
    bad = [rid for rid, r in ends.items() if r["status"] != "SUCCESS"]
    failures = {}
    with cluster.instance() as instance:  # kept and reported; the figures below are of the runs that succeeded
        for rid in bad:
            failures[rid] = [e.message[:300] for e in instance.all_logs(rid) if e.dagster_event_type in
                             (ET.STEP_FAILURE, ET.RUN_FAILURE, ET.ENGINE_EVENT) and "rror" in (e.message or "")][-3:]
            print(f"  run {rid} ended {ends[rid]['status']}: {failures[rid]}", flush=True)
    run_ids = [rid for rid in run_ids if rid not in bad]
    cpu1 = {h: tree_cpu(r) for h, r in roots.items()}
    redis1, pg1 = redis_stats(cluster.redis_url), pg_stats(cluster.env["DAGSTER_POSTGRES_URL"])
    t_last = max(r["endTime"] for r in ends.values())
    with cluster.instance() as instance:
        runs = [breakdown(instance, rid, PARENTS) for rid in run_ids]
    n = len(run_ids)  # the projects that succeeded
    loads = sampler.loads[loads0:]
    return {
        "kind": kind, "n": n, "wall_s": t_last - t0, "per_hour": n / (t_last - t0) * 3600,
        "submit_s": sum(launches), "launch_median_s": statistics.median(launches),
        "load_before": load_before, "load_after": load_after,
        "load_during_max": max(loads, default=load_after), "load_during_mean": statistics.mean(loads) if loads else None,
        "cpu_s": {h: cpu1[h] - cpu0[h] for h in roots}, "pg_backend_cpu_s": sampler.pg_cpu() - pgcpu0,
        "redis_cpu_s": redis1["cpu"] - redis0["cpu"], "redis_commands": redis1["commands"] - redis0["commands"],
        "redis_by_command": {k: v - redis0["by_command"].get(k, 0) for k, v in redis1["by_command"].items()
                             if v - redis0["by_command"].get(k, 0)},
        "pg": {k: pg1[k] - pg0[k] for k in pg1}, "runs": runs, "failed": failures,
    }


def run_mode(mode: str, args: argparse.Namespace, tag: str, work: Path) -> dict:
    workers = MODES[mode]
    root = work / mode
    root.mkdir()
    (root / "redis").mkdir()
    redis_server = RedisServer(root / "redis")
    redis_server.start()
    extra = {"PIPELINE_REDIS_PREFIX": f"bench-workers-{tag}:"}
    if not workers:
        extra["PIPELINE_EXECUTOR"] = "in_process"
    cluster = Cluster(root, redis_server.url, extra_env=extra)
    sampler = None
    saved = dict(os.environ)
    try:
        t = time.time()
        cluster.start()
        for i in range(workers):
            cluster.add_worker(f"w{i + 1}", f"host-{'ab'[i]}", "default,render", args.concurrency)
        started = time.time() - t
        os.environ.update(PIPELINE_DAGSTER_URL=cluster.services.url, REDIS_URL=redis_server.url,
                          PIPELINE_DATA_DIR=str(cluster.shared), PIPELINE_EVENTS="off")
        client = PipelineClient(cluster.services.url)
        sampler = Sampler(cluster.env["DAGSTER_POSTGRES_URL"], cluster.database)
        sampler.start()
        print(f"[{mode}] up in {started:.0f} s, load {os.getloadavg()[0]:.2f}; warm-up", flush=True)
        warm = small_brief(f"wb-{tag}-{mode}-warm", stop_at="outline")
        if client.wait(launch_brief(client, warm, "outline"), timeout=600, poll=0.2)["status"] != "SUCCESS":
            raise RuntimeError(f"{mode}: warm-up run failed")
        roots = host_roots(cluster)  # idle cost of each host's processes (daemon loops, worker pings)
        cpu0, t_idle = {h: tree_cpu(r) for h, r in roots.items()}, time.time()
        time.sleep(args.idle)
        idle = {h: (tree_cpu(r) - cpu0[h]) / (time.time() - t_idle) for h, r in roots.items()}
        result = {"mode": mode, "workers": workers, "concurrency": args.concurrency if workers else None,
                  "startup_s": started, "idle_cpu_per_s": idle, "batches": []}
        if args.text:
            briefs = [small_brief(f"wb-{tag}-{mode}-t{i:02d}", stop_at="manuscript") for i in range(args.text)]
            result["batches"].append(batch(client, cluster, "text", briefs, "manuscript", sampler))
            print(f"[{mode}] text: {summary(result['batches'][-1])}", flush=True)
        if args.videos:
            briefs = [small_brief(f"wb-{tag}-{mode}-v{i:02d}") for i in range(args.videos)]
            result["batches"].append(batch(client, cluster, "video", briefs, None, sampler))
            print(f"[{mode}] video: {summary(result['batches'][-1])}", flush=True)
        return result
    finally:
        if sampler is not None:
            sampler.stop()
        if cluster.services is not None:
            with contextlib.suppress(ClientError, OSError):
                client = PipelineClient(cluster.services.url)
                for run in client.runs(statuses=ACTIVE, limit=1000):
                    client.terminate(run["runId"])
        with contextlib.suppress(Exception):
            cluster.stop()
        redis_server.proc.terminate()
        redis_server.proc.wait(timeout=20)
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def summary(b: dict) -> str:
    return (f"{b['n']} in {b['wall_s']:.1f} s = {b['per_hour']:.0f}/h, load {b['load_before']:.2f} -> "
            f"{b['load_after']:.2f} (max {b['load_during_max']:.2f}), cpu {json.dumps({k: round(v, 1) for k, v in b['cpu_s'].items()})}")


# ---------------------------------------------------------------- tables

def med(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def tables(results: list[dict]) -> str:
    out = []
    out.append("| mode | kind | projects | first submit -> last end s | projects/hour | load before -> after (max) "
               "| CPU s daemon host | CPU s worker hosts | PG backends CPU s | Redis CPU s | Redis commands |")
    out.append("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        for b in r["batches"]:
            wk = sum(v for h, v in b["cpu_s"].items() if h != "daemon host")
            out.append(f"| {r['label']} | {b['kind']} | {b['n']} | {b['wall_s']:.1f} | {b['per_hour']:.0f} | "
                       f"{b['load_before']:.1f} -> {b['load_after']:.1f} ({b['load_during_max']:.1f}) | "
                       f"{b['cpu_s']['daemon host']:.1f} | {wk:.1f} | {b['pg_backend_cpu_s']:.1f} | "
                       f"{b['redis_cpu_s']:.2f} | {b['redis_commands']} |")
    out.append("")
    out.append("| mode | kind | queue wait (ENQUEUED->STARTING) med / max s | run worker start s | RUN_START -> 1st step s "
               "| step start latency med / p90 s | ready -> submitted | submitted -> on worker | on worker -> STEP_START "
               "| last step -> RUN_SUCCESS s | run total med s |")
    out.append("|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        for b in r["batches"]:
            runs = b["runs"]
            lat = sorted(s["latency"] for x in runs for s in x["steps"].values())
            split = [s for x in runs for s in x["steps"].values() if "to_submit" in s]
            cel = [f"{med(s[k] for s in split):.2f}" if split else "-" for k in ("to_submit", "to_worker",
                                                                                 "worker_to_start")]
            out.append(f"| {r['label']} | {b['kind']} | {med(x['queue'] for x in runs):.2f} / "
                       f"{max(x['queue'] for x in runs):.2f} | {med(x['run_worker'] for x in runs):.2f} | "
                       f"{med(x['first_step'] for x in runs):.2f} | {med(lat):.2f} / {lat[int(0.9 * (len(lat) - 1))]:.2f} | "
                       f"{' | '.join(cel)} | {med(x['last_step_to_end'] for x in runs):.2f} | "
                       f"{med(x['total'] for x in runs):.1f} |")
    out.append("")
    keys = [k for k in STAGES if any(k in x["steps"] for r in results for b in r["batches"] for x in b["runs"])]
    out.append("| mode | kind | " + " | ".join(keys) + " | sum of bodies per project |")
    out.append("|---|---|" + "---:|" * (len(keys) + 1))
    for r in results:
        for b in r["batches"]:
            cells = [med(x["steps"][k]["body"] for x in b["runs"] if k in x["steps"]) for k in keys]
            total = med(sum(s["body"] for s in x["steps"].values()) for x in b["runs"])
            out.append(f"| {r['label']} | {b['kind']} | " + " | ".join("-" if c != c else f"{c:.2f}" for c in cells)
                       + f" | {total:.2f} |")
    return "\n".join(out)


def pct(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def costs(results: list[dict]) -> str:
    """Per project, net of each host's idle CPU over the batch's wall time; dispatch and launch figures."""
    out = ["| mode | kind | worker-host CPU s/project | daemon-host CPU s/project | PG backend CPU s/project "
           "| Redis CPU ms/project | Redis commands/project | events/project | PG commits/project "
           "| idle CPU/s daemon host, workers |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        idle = r["idle_cpu_per_s"]
        for b in r["batches"]:
            n, wall = b["n"], b["wall_s"]
            net = {h: max(0.0, v - idle.get(h, 0.0) * wall) / n for h, v in b["cpu_s"].items()}
            wk = sum(v for h, v in net.items() if h != "daemon host")
            idles = ", ".join(f"{v:.3f}" for h, v in idle.items())
            out.append(f"| {r['label']} | {b['kind']} | {wk:.2f} | {net['daemon host']:.2f} | "
                       f"{b['pg_backend_cpu_s'] / n:.2f} | {b['redis_cpu_s'] / n * 1000:.0f} | "
                       f"{b['redis_commands'] / n:.0f} | {b['pg']['events'] / n:.0f} | {b['pg']['commits'] / n:.0f} | "
                       f"{idles} |")
    out += ["", "| mode | kind | steps | submitted -> on worker med / p90 / max s | step start latency, idle worker "
            "(submitted -> on worker < 0.5 s) med s | DEQUEUED -> STARTING med s (0: no RUN_DEQUEUED logged) | launches/min while runs were queued |",
            "|---|---|---:|---|---:|---:|---:|"]
    for r in results:
        for b in r["batches"]:
            steps = [s for x in b["runs"] for s in x["steps"].values()]
            tw = [s["to_worker"] for s in steps if "to_worker" in s]
            free = [s["latency"] for s in steps if s.get("to_worker", 0) < 0.5]
            # launches while runs waited in the queue (RUN_STARTING; the project's coordinator may log no DEQUEUED)
            deq = sorted(x["enqueued"] + x["queue"] for x in b["runs"] if x["queue"] > 1.0)
            rate = (len(deq) - 1) / (deq[-1] - deq[0]) * 60 if len(deq) > 2 and deq[-1] > deq[0] else float("nan")
            tws = f"{med(tw):.2f} / {pct(tw, 0.9):.2f} / {max(tw):.2f}" if tw else "-"
            out.append(f"| {r['label']} | {b['kind']} | {len(steps)} | {tws} | {med(free):.2f} | "
                       f"{med(x['launch'] for x in b['runs']):.2f} | {rate:.1f} |")
    return "\n".join(out)


PARENTS: dict[str, set[str]] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", type=int, default=40, help="text-only projects (stop_at manuscript)")
    parser.add_argument("--videos", type=int, default=4, help="whole projects with a 30 s video")
    parser.add_argument("--modes", default="inproc,celery1,celery2")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; the Celery modes alternate their order")
    parser.add_argument("--concurrency", type=int, default=1, help="steps at a time per worker (default 1)")
    parser.add_argument("--idle", type=float, default=15, help="seconds of idle CPU baseline per deployment")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--report", type=Path, help="print the tables of a saved --json, run nothing")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())["results"]
        print(tables(saved) + "\n\n" + costs(saved))
        return
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {unknown}: choose from {', '.join(MODES)}")
    PARENTS.update(parents_of_assets())
    tag = uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="workers-bench-"))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"load average {os.getloadavg()}, nproc {os.cpu_count()}, tag {tag}", flush=True)
    results = []
    try:
        for i in range(args.rounds):
            order = modes if i % 2 == 0 else [m for m in reversed(modes)]
            for mode in order:
                r = run_mode(mode, args, tag, work)
                r["label"] = {"inproc": "in-process", "celery1": "Celery, 1 worker",
                              "celery2": "Celery, 2 workers"}[mode] + (f" (round {i + 1})" if args.rounds > 1 else "")
                results.append(r)
                if args.json:  # after every mode: a later failure keeps what was measured
                    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                     "results": results}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.json and results:
            args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                             "results": results}, indent=1))
    print(f"\nload average after: {os.getloadavg()}\n")
    print(tables(results) + "\n\n" + costs(results))


if __name__ == "__main__":
    main()
