"""Orchestration overhead of `produce_project` through a real dagster-webserver + dagster-daemon.

    .venv/bin/python benchmarks/orchestration/run.py [--rounds 3] [--batch 20] [--postgres URL]
        [--batch-stop-at manuscript] [--only inproc,cancel,batch,mp,celery] [--chains 50] [--celery-db 14]

A fresh DAGSTER_HOME (the project's dagster.yaml; SQLite unless --postgres), PIPELINE_DATA_DIR and
PIPELINE_REDIS_PREFIX; webserver and daemon started as the tests start them (DagsterServices).
Per run: submit (launch_brief) -> SUCCESS seen by polling GraphQL every 0.1 s, against the sum of
STEP_START -> STEP_SUCCESS in the run's event log; overhead = the difference. Then the same 4-step
slice on dagster.multiprocess_executor (multiprocess_defs.py, own workspace.yaml), a Celery chain of
4 and 9 trivial steps on this machine's Redis, a batch of text-only projects, and a cancel check.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402
import yaml  # noqa: E402

from pipeline.cli.projects import launch_brief, selection_names  # noqa: E402
from pipeline.defs.ops.jobs import run_config  # noqa: E402
from pipeline.launch.client import ACTIVE, ClientError, PipelineClient  # noqa: E402
from pipeline_tests.defs.briefs import small_brief  # noqa: E402
from pipeline_tests.services import DagsterServices  # noqa: E402

ET = dg.DagsterEventType
FORKSERVER = {"config": {"start_method": {"forkserver": {}}}}
PHASES = ("inproc", "cancel", "batch", "mp", "celery", "before")
# `before`: the same in-process runs with the launcher and queue as they were before warm run workers
BEFORE = {"run_launcher": {"warm_run_workers": False}, "run_coordinator": {"dequeue_interval_seconds": 1}}


class Services(DagsterServices):
    """DagsterServices on another workspace.yaml (its folder stands in for the repository root)."""

    def __init__(self, home: Path, env: dict[str, str], workspace_dir: Path = ROOT, config: dict | None = None):
        super().__init__(home, {**env, "DAGSTER_HOME": str(home)}, root=workspace_dir)
        self.config = config or {}

    def start(self) -> None:
        self.home.mkdir(parents=True)
        deployed = yaml.safe_load((ROOT / "dagster.yaml").read_text())  # as deployed, but for `config`
        for section, values in self.config.items():
            deployed[section].setdefault("config", {}).update(values)
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(deployed))
        os.environ["DAGSTER_HOME"] = str(self.home)
        with dg.DagsterInstance.get():  # create the storage first, or webserver and daemon race to (SQLite)
            pass
        super().start()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def breakdown(instance: dg.DagsterInstance, run_id: str, t_submit: float, t_seen: float) -> dict:
    """Where one run's wall time went, from its event log (every timestamp is this machine's clock)."""
    first: dict = {}
    steps: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id):
        first.setdefault(entry.dagster_event_type, entry.timestamp)
        if entry.dagster_event_type in (ET.STEP_START, ET.STEP_SUCCESS):
            steps.setdefault(entry.step_key, []).append(entry.timestamp)
    body = sum(end - start for start, end in steps.values())  # in-process: no retried steps here
    step_start = min(s for s, _ in steps.values())
    step_end = max(e for _, e in steps.values())
    dequeued = first.get(ET.RUN_DEQUEUED, first[ET.RUN_STARTING])
    total = t_seen - t_submit
    return {
        "total": total, "body": body, "overhead": total - body, "steps": len(steps),
        "submit": first[ET.RUN_ENQUEUED] - t_submit,
        "queued": dequeued - first[ET.RUN_ENQUEUED],
        "launch": first[ET.RUN_STARTING] - dequeued,
        "worker": first[ET.RUN_START] - first[ET.RUN_STARTING],
        "first_step": step_start - first[ET.RUN_START],
        "between": (step_end - step_start) - body,  # < 0 when steps overlap (multiprocess)
        "end": first[ET.RUN_SUCCESS] - step_end,
        "seen": t_seen - first[ET.RUN_SUCCESS],
    }


def submit(client: PipelineClient, brief, stop_at: str | None, execution: dict | None = None) -> str:
    if execution is None:
        return launch_brief(client, brief, stop_at)
    client.active_run(brief.project_id)  # the same two requests as launch_brief, with executor config
    return client.add_partition_and_launch(brief.project_id, {**run_config(brief), "execution": execution},
                                           selection_names(stop_at))


def measure_runs(client, instance, tag: str, case: str, stop_at, rounds: int, execution=None) -> list[dict]:
    results = []
    for i in range(rounds):
        brief = small_brief(f"orch-{tag}-{case}-{i}", stop_at=stop_at)
        t0 = time.time()
        run_id = submit(client, brief, stop_at, execution)
        run = client.wait(run_id, timeout=1800, poll=0.1)
        t1 = time.time()
        if run["status"] != "SUCCESS":
            errors = [e.message for e in instance.all_logs(run_id) if e.dagster_event_type in
                      (ET.STEP_FAILURE, ET.RUN_FAILURE, ET.ENGINE_EVENT) and "rror" in (e.message or "")]
            raise RuntimeError(f"{case} round {i}: run {run_id} ended {run['status']}: {errors[-3:]}")
        results.append(breakdown(instance, run_id, t0, t1))
        r = results[-1]
        print(f"  {case} #{i}: {r['total']:.2f} s total, {r['body']:.2f} s in {r['steps']} steps, "
              f"overhead {r['overhead']:.2f} s", flush=True)
    return results


def check_cancel(client, instance, tag: str) -> dict:
    """Whole project; terminate once `narration` has started; it must end CANCELED."""
    brief = small_brief(f"orch-{tag}-cancel")
    run_id = launch_brief(client, brief, None)
    deadline = time.monotonic() + 600
    while not any(e.dagster_event_type == ET.STEP_START and e.step_key == "narration"
                  for e in instance.all_logs(run_id, of_type=ET.STEP_START)):
        if time.monotonic() > deadline or client.run(run_id)["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            raise RuntimeError(f"cancel check: narration of run {run_id} never started")
        time.sleep(0.1)
    time.sleep(0.5)  # inside the step's body
    t0 = time.time()
    client.terminate(run_id)
    status = client.wait(run_id, timeout=600, poll=0.1)["status"]
    seconds = time.time() - t0
    time.sleep(5)  # nothing may retry it into success (run retries, step retries)
    later = [(r["runId"][:8], r["status"]) for r in client.runs(brief.project_id, limit=10)]
    done = [e.step_key for e in instance.all_logs(run_id, of_type=ET.STEP_SUCCESS)]
    return {"status": status, "seconds": seconds, "finished_steps": done, "runs_after_5s": later}


def batch(client, instance, tag: str, n: int, stop_at: str) -> dict:
    briefs = [small_brief(f"bench-{tag}-{i}", stop_at=stop_at) for i in range(n)]
    t0 = time.time()
    run_ids, launches = [], []
    for b in briefs:
        t = time.time()
        run_ids.append(launch_brief(client, b, stop_at, {"bench/batch": tag}))
        launches.append(time.time() - t)
    t_submitted = time.time()
    while True:
        ended = client.runs(statuses=["SUCCESS", "FAILURE", "CANCELED"], limit=n + 10, tags={"bench/batch": tag})
        if len(ended) >= n:
            break
        time.sleep(0.5)
    bad = [r["runId"] for r in ended if r["status"] != "SUCCESS"]
    if bad:
        raise RuntimeError(f"batch: {len(bad)} runs did not succeed, e.g. {bad[:3]}")
    t_last = max(r["endTime"] for r in ended)
    parts = [breakdown(instance, rid, t0, t0) for rid in run_ids]
    return {"n": n, "submit_s": t_submitted - t0, "wall_s": t_last - t0, "per_min": n / (t_last - t0) * 60,
            "body": statistics.median(p["body"] for p in parts), "worker": statistics.median(p["worker"] for p in parts),
            "body_sum": sum(p["body"] for p in parts), "launch": statistics.median(launches),
            "launch_p90": pct(launches, 0.9)}


def run_table(rows: list[tuple[str, list[dict]]]) -> str:
    lines = ["| case | runs | steps | median submit->success s | median sum of step bodies s | median overhead s "
             "| p90 overhead s | ENQUEUED->DEQUEUED | DEQUEUED->STARTING | STARTING->START (run worker) "
             "| RUN_START->1st step | between steps "
             "| last step->RUN_SUCCESS | submit->ENQUEUED | SUCCESS->seen |", "|" + "---|" * 15]
    for case, rs in rows:
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        cells = [med[k] for k in ("total", "body", "overhead")] + [pct([r["overhead"] for r in rs], 0.9)]
        cells += [med[k] for k in ("queued", "launch", "worker", "first_step", "between", "end", "submit", "seen")]
        lines.append(f"| {case} | {len(rs)} | {rs[0]['steps']} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--batch-stop-at", default="manuscript", choices=["outline", "manuscript"])
    parser.add_argument("--chains", type=int, default=50)
    parser.add_argument("--celery-db", type=int, default=14)
    parser.add_argument("--postgres", metavar="URL", help="DAGSTER_POSTGRES_URL (default: SQLite)")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    tag = uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="orch-bench-"))
    data = work / "data"
    shutil.copytree(ROOT / "data" / "sources", data / "sources")
    prefix = f"bench-orch-{tag}:"
    env = {k: v for k, v in os.environ.items() if k not in ("PIPELINE_EVENTS", "DAGSTER_POSTGRES_URL")}
    env.update(PIPELINE_DATA_DIR=str(data), PIPELINE_REDIS_PREFIX=prefix)
    if args.postgres:
        env["DAGSTER_POSTGRES_URL"] = args.postgres
    os.environ.update(env, PIPELINE_EVENTS="off")  # this process reads the instance; it never projects
    print(f"load average {os.getloadavg()}, nproc {os.cpu_count()}, storage "
          f"{'postgres' if args.postgres else 'sqlite'}, work {work}", flush=True)
    rows: list[tuple[str, list[dict]]] = []
    report: dict = {}
    try:
        if "celery" in only:  # first: cheap, and before the Dagster phases load the machine
            sys.path.insert(0, str(HERE))
            from celery_chain import measure_chains

            report["celery"] = measure_chains((4, 9), args.chains, args.celery_db, work / "celery.log")
            print(f"  celery: median {statistics.median(report['celery'][4][0]) * 1000:.1f} ms per 4-step chain", flush=True)
        phases = [("main", ROOT, [p for p in ("inproc", "cancel", "batch") if p in only], None),
                  ("before", ROOT, ["inproc"] if "before" in only else [], BEFORE),
                  ("mp", HERE, ["mp"] if "mp" in only else [], None)]
        for name, workspace_dir, todo, config in phases:
            if not todo:
                continue
            services = Services(work / f"home-{name}", env, workspace_dir, config)
            services.start()
            try:
                client = PipelineClient(services.url)
                warm = small_brief(f"orch-{tag}-{name}-warmup", stop_at="outline")
                client.wait(launch_brief(client, warm, "outline"), poll=0.1)
                with dg.DagsterInstance.get() as instance:
                    if "inproc" in todo:
                        label = " (before: cold run workers, queue every 1 s)" if config else ""
                        rows.append((f"in-process, 4 steps (stop_at=script){label}",
                                     measure_runs(client, instance, tag, f"script{name}", "script", args.rounds)))
                        rows.append((f"in-process, whole project{label}",
                                     measure_runs(client, instance, tag, f"whole{name}", None, args.rounds)))
                    if "mp" in todo:
                        rows.append(("multiprocess (spawn), 4 steps",
                                     measure_runs(client, instance, tag, "mp", "script", args.rounds)))
                        rows.append(("multiprocess (forkserver), 4 steps",
                                     measure_runs(client, instance, tag, "fs", "script", args.rounds, FORKSERVER)))
                    if "cancel" in todo:
                        report["cancel"] = check_cancel(client, instance, tag)
                        print(f"  cancel: {report['cancel']}", flush=True)
                    if "batch" in todo:
                        report["batch"] = batch(client, instance, tag, args.batch, args.batch_stop_at)
                        print(f"  batch: {report['batch']}", flush=True)
            finally:
                with contextlib.suppress(ClientError):  # after a failure: no run outlives the services
                    for run in PipelineClient(services.url).runs(statuses=ACTIVE, limit=1000):
                        PipelineClient(services.url).terminate(run["runId"])
                services.stop()
    finally:
        import redis

        r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        for key in r.scan_iter(f"{prefix}*", count=1000):
            r.delete(key)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average after: {os.getloadavg()}\n")
    if rows:
        print(run_table(rows) + "\n")
    if "celery" in report:
        print("| Celery 5 chain, prefork x2, Redis | chains | median ms/chain | p90 ms | ms per step | plain Python ms |\n"
              "|---|---|---|---|---|---|")
        for n, (times, plain) in report["celery"].items():
            med = statistics.median(times) * 1000
            print(f"| {n} steps of 1 ms | {len(times)} | {med:.1f} | {pct(times, 0.9) * 1000:.1f} | {med / n:.2f} "
                  f"| {plain * 1000:.1f} |")
        print()
    if "batch" in report:
        b = report["batch"]
        limit = yaml.safe_load((ROOT / "dagster.yaml").read_text())["run_coordinator"]["config"]["max_concurrent_runs"]
        print(f"| batch (stop_at={args.batch_stop_at}) | projects | submit all s | first submit -> last SUCCESS s "
              f"| projects/min | launch_brief median / p90 s | median step bodies s | median worker start s "
              f"| sum of step bodies s |\n|---|---|---|---|---|---|---|---|---|\n| max_concurrent_runs {limit} | {b['n']} | "
              f"{b['submit_s']:.1f} | {b['wall_s']:.1f} | {b['per_min']:.1f} | {b['launch']:.2f} / {b['launch_p90']:.2f} | "
              f"{b['body']:.2f} | {b['worker']:.2f} | {b['body_sum']:.1f} |\n")
    if "cancel" in report:
        c = report["cancel"]
        print(f"cancel: {c['status']} {c['seconds']:.1f} s after terminate; finished steps {c['finished_steps']}; "
              f"the project's runs 5 s later {c['runs_after_5s']}")
        if c["status"] != "CANCELED" or [s for _, s in c["runs_after_5s"]] != ["CANCELED"]:
            sys.exit(f"cancel check FAILED: the run ended {c['status']}")


if __name__ == "__main__":
    main()
