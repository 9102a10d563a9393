"""A whole video project against loopback providers that answer as slowly as hosted ones, on the served stack.

    .venv/bin/python benchmarks/latency/run.py [--serial] [--scale 1] [--rounds 1] [--target-seconds 240]
        [--chat 2] [--chat-per-100-tokens 0.02] [--speech 0.8] [--image 4] [--clip 30] [--poll 1]
        [--max-in-flight 4] [--parallel-steps N] [--chapters 3] [--postgres URL] [--json PATH] [--keep]

Its own redis-server, DAGSTER_HOME (the project's dagster.yaml; SQLite unless --postgres), data folder and
Redis prefix; dagster-webserver + dagster-daemon as the tests start them (DagsterServices). Every provider
role points at a loopback fake (pipeline_tests/providers): chat, speech and images are OpenAI-compatible
servers sleeping a HostedLatency after each answer, the presenter is the fake D-ID whose talks are done
`--clip` seconds after they are created. `--scale` multiplies every latency and the poll interval.

Per run: submit (launch_brief) -> SUCCESS seen by polling GraphQL every 0.1 s; each step's STEP_START ->
STEP_SUCCESS from the event log; each request the fakes answered, given to the step that uses its role
and was running when it arrived. The critical path is the longest chain through the asset graph
(pipeline.definitions) where an asset costs ceil(requests / MAX_IN_FLIGHT of its role) x latency per
request (text calls of one asset one after another); the orchestration overhead is the part of the wall
time during which no step was running. Goal (issue 15): wall <= 1.15 x critical path + overhead.
`--serial` runs the same project again on a second stack with PIPELINE_PARALLEL_STEPS=1 (steps one after
another), side by side.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import dagster as dg  # noqa: E402

from critical_path import GOAL, Call, Step, asset_cost, attribute, covered, longest_chain  # noqa: E402
from fake_providers import Providers  # noqa: E402
from pipeline.brief import Brief, parse_brief  # noqa: E402
from pipeline.cli.projects import launch_brief  # noqa: E402
from pipeline.launch.client import ACTIVE, ClientError, PipelineClient  # noqa: E402
from pipeline.providers.catalog import ROLES  # noqa: E402
from pipeline.stages import STAGES  # noqa: E402
from pipeline_tests.providers.model import prose  # noqa: E402
from pipeline_tests.services import DagsterServices, RedisServer  # noqa: E402
from tables import report  # noqa: E402

ET = dg.DagsterEventType
# variables of this machine's shell that would change what the stack runs: every PIPELINE_* is set here
INHERITED_OUT = ("DAGSTER_HOME", "DAGSTER_POSTGRES_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "DID_API_KEY", "STABILITY_API_KEY")


class Services(DagsterServices):
    """DagsterServices on the project's dagster.yaml as deployed."""

    def start(self) -> None:
        self.home.mkdir(parents=True)
        shutil.copy(ROOT / "dagster.yaml", self.home / "dagster.yaml")
        super().start()


def project_brief(project_id: str, args: argparse.Namespace) -> Brief:
    """A video-kind brief: the user's own text in `--chapters` parts, a narrated video of `--target-seconds`."""
    target = args.target_seconds
    # split_source_text starts a part once the last reached the average length: the last paragraph is the
    # shortest, so each paragraph is one part
    text = "\n\n".join(prose(120 if n + 1 < args.chapters else 60, seed=7 * n) for n in range(args.chapters))
    return parse_brief({
        "project_id": project_id, "kind": "video", "language": "en", "chapters": args.chapters,
        "title": "The Backward Clock", "prompt": "A narrated video of a short story about a town clock.",
        "source_text": text,
        "video": {"target_seconds": target, "total_min_seconds": max(10, int(target * 0.75)),
                  "total_max_seconds": max(int(target * 1.5), target + 10)},
    })


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(parents, provider roles) of every asset of produce_project, from pipeline.definitions."""
    from pipeline.definitions import defs

    asset_graph = defs.resolve_asset_graph()
    role_of_key = {role.resource_key: name for name, role in ROLES.items()}
    parents, roles = {}, {}
    for name in STAGES:
        node = asset_graph.get(dg.AssetKey(name))
        parents[name] = {p.to_user_string() for p in node.parent_keys if p.to_user_string() in STAGES}
        roles[name] = {role_of_key[k] for k in node.assets_def.required_resource_keys if k in role_of_key}
    return parents, roles


def steps_of(instance: dg.DagsterInstance, run_id: str) -> tuple[dict[str, Step], dict]:
    """The run's steps (first start to final success) and the first timestamp of each event type."""
    starts: dict[str, list[float]] = {}
    ends: dict[str, float] = {}
    first: dict = {}
    for entry in instance.all_logs(run_id):
        first.setdefault(entry.dagster_event_type, entry.timestamp)
        if entry.dagster_event_type == ET.STEP_START:
            starts.setdefault(entry.step_key, []).append(entry.timestamp)
        elif entry.dagster_event_type == ET.STEP_SUCCESS:
            ends[entry.step_key] = entry.timestamp
    steps = {k: Step(k, min(v), ends[k], len(v)) for k, v in starts.items() if k in ends}
    return steps, first


def numbers_of(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, float]]:
    """Each materialised asset's numeric metadata (what its step did: stills encoded, clips made, ...)."""
    found: dict[str, dict[str, float]] = {}
    for entry in instance.all_logs(run_id, of_type=ET.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        found[materialization.asset_key.to_user_string()] = {
            k: v.value for k, v in materialization.metadata.items()
            if isinstance(v.value, (int, float)) and not isinstance(v.value, bool)}
    return found


def asset_row(step: Step, calls: list[Call], modelled: float, roles: set[str], t0: float) -> dict:
    """One asset's step against its model; with requests, how long it worked before the first and after the last."""
    row = {"start": step.start - t0, "end": step.end - t0, "measured": step.seconds, "attempts": step.attempts,
           "modelled": modelled, "requests": {r: sum(1 for c in calls if c.role == r) for r in sorted(roles)}}
    if calls:
        row["before_first"] = min(c.at for c in calls) - step.start
        row["after_last"] = step.end - max(c.at + c.seconds for c in calls)
    return row


def measure(client: PipelineClient, instance, providers: Providers, brief: Brief, parents, roles) -> dict:
    """One whole project, submit -> SUCCESS, and what the model says it should have cost."""
    providers.reset_peaks()
    load_before = os.getloadavg()
    t0 = time.time()
    run_id = launch_brief(client, brief, None)
    run = client.wait(run_id, timeout=7200, poll=0.1)
    t1 = time.time()
    if run["status"] != "SUCCESS":
        errors = [e.message for e in instance.all_logs(run_id)
                  if e.dagster_event_type in (ET.STEP_FAILURE, ET.RUN_FAILURE)]
        raise RuntimeError(f"run {run_id} of {brief.project_id} ended {run['status']}: {errors[-3:]}")
    steps, first = steps_of(instance, run_id)
    calls = providers.calls(t0, t1)
    by_step = attribute(calls, steps, roles)
    cost = {k: asset_cost(v, providers.max_in_flight) for k, v in by_step.items() if k != "?"}
    critical, path = longest_chain(cost, parents)
    chain, chain_path = longest_chain({k: s.seconds for k, s in steps.items()}, parents)
    busy = covered((s.start, s.end) for s in steps.values())
    wall = t1 - t0
    first_step, last_step = min(s.start for s in steps.values()), max(s.end for s in steps.values())
    return {
        "run_id": run_id, "project": brief.project_id, "wall": wall, "critical_path": critical,
        "critical_assets": {a: cost[a] for a in path if cost.get(a)}, "sum_latencies": sum(c.seconds for c in calls),
        "overhead": wall - busy, "before_steps": first_step - t0, "between_steps": (last_step - first_step) - busy,
        "after_steps": t1 - last_step, "worker_start": first[ET.RUN_START] - first.get(ET.RUN_STARTING, t0),
        "goal": GOAL * critical + (wall - busy), "measured_chain": chain, "measured_chain_assets": chain_path,
        "unattributed": len(by_step.get("?", [])),
        "requests": {role: sum(1 for c in calls if c.role == role) for role in ("text", "speech", "images", "avatar")},
        "output_tokens": sum(c.tokens for c in calls),
        "peak_in_flight": {role: s.peak for role, s in providers.servers.items()},
        "assets": {k: asset_row(s, by_step.get(k, []), cost.get(k, 0.0), roles[k], t0)
                   for k, s in sorted(steps.items(), key=lambda kv: kv[1].start)},
        "metadata": numbers_of(instance, run_id),
        "load_before": load_before, "load_after": os.getloadavg(),
    }


def run_mode(name: str, parallel_steps: int | None, work: Path, base_env: dict, redis_url: str,
             providers: Providers, args, parents, roles) -> list[dict]:
    """A stack of its own (DAGSTER_HOME, data folder, Redis prefix), a warm-up run, then `--rounds` projects."""
    data, prefix = work / f"data-{name}", f"bench-latency-{args.tag}-{name}:"
    shutil.copytree(ROOT / "data" / "sources", data / "sources")
    env = {**base_env, **providers.env(), "PIPELINE_DATA_DIR": str(data), "PIPELINE_EXPORT_DIR": str(data / "exports"),
           "PIPELINE_REDIS_PREFIX": prefix, "REDIS_URL": redis_url, "DAGSTER_HOME": str(work / f"home-{name}")}
    if parallel_steps is not None:
        env["PIPELINE_PARALLEL_STEPS"] = str(parallel_steps)
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "PIPELINE_DATA_DIR", "PIPELINE_REDIS_PREFIX", "REDIS_URL")})
    services = Services(work / f"home-{name}", env)
    results = []
    try:
        services.start()
        client = PipelineClient(services.url)
        warm = project_brief(f"lat-{args.tag}-{name}-warmup", args)
        client.wait(launch_brief(client, warm, "outline"), poll=0.1)  # a video's outline asks no provider
        with dg.DagsterInstance.get() as instance:
            for i in range(args.rounds):
                result = measure(client, instance, providers, project_brief(f"lat-{args.tag}-{name}-{i}", args),
                                 parents, roles)
                result["mode"], result["parallel_steps"] = name, parallel_steps
                results.append(result)
                print(f"  {name} #{i}: {result['wall']:.1f} s submit->SUCCESS, critical path "
                      f"{result['critical_path']:.1f} s, sum of latencies {result['sum_latencies']:.1f} s, "
                      f"overhead {result['overhead']:.1f} s, load {result['load_before'][0]:.1f}", flush=True)
    except BaseException:
        log = services.home / "services.log"
        if log.exists():
            print(f"--- {name}: last lines of {log}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        with contextlib.suppress(ClientError, OSError):  # no run outlives the services
            for run in PipelineClient(services.url).runs(statuses=ACTIVE, limit=100):
                PipelineClient(services.url).terminate(run["runId"])
        services.stop()
    return results


def interrupted(signum, frame) -> None:
    """SIGTERM as Ctrl-C: the `finally` blocks stop the services, the fakes and Redis, and remove the folder."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every latency (0.1: a quick smoke run)")
    parser.add_argument("--chat", type=float, default=2.0, help="seconds per chat call")
    parser.add_argument("--chat-per-100-tokens", type=float, default=0.02, help="seconds per 100 output tokens")
    parser.add_argument("--speech", type=float, default=0.8, help="seconds per speech request (one cue)")
    parser.add_argument("--image", type=float, default=4.0, help="seconds per image")
    parser.add_argument("--clip", type=float, default=30.0, help="seconds from creating a presenter clip to done")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between presenter status polls")
    parser.add_argument("--max-in-flight", type=int, default=4, help="PIPELINE_<ROLE>_MAX_IN_FLIGHT of every role")
    parser.add_argument("--parallel-steps", type=int, help="PIPELINE_PARALLEL_STEPS of the main run (unset: default)")
    parser.add_argument("--serial", action="store_true", help="then the same with PIPELINE_PARALLEL_STEPS=1 (today)")
    parser.add_argument("--rounds", type=int, default=1, help="projects per mode")
    parser.add_argument("--target-seconds", type=int, default=240, help="the video's length the script aims at")
    parser.add_argument("--chapters", type=int, default=3, help="parts of the source text (one memory call each)")
    parser.add_argument("--postgres", metavar="URL", help="DAGSTER_POSTGRES_URL (default: SQLite)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, artifacts)")
    args = parser.parse_args()
    args.tag = uuid.uuid4().hex[:6]
    signal.signal(signal.SIGTERM, interrupted)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_") and k not in INHERITED_OUT}
    for k in [k for k in os.environ if k.startswith("PIPELINE_") or k in INHERITED_OUT]:
        os.environ.pop(k)
    os.environ["PIPELINE_EVENTS"] = "off"  # this process reads the instance; it never projects
    if args.postgres:
        base_env["DAGSTER_POSTGRES_URL"] = os.environ["DAGSTER_POSTGRES_URL"] = args.postgres
    parents, roles = graph()
    work = Path(tempfile.mkdtemp(prefix="latency-bench-"))
    print(f"{' '.join(sys.argv)}\nload average {os.getloadavg()}, nproc {os.cpu_count()}, storage "
          f"{'postgres' if args.postgres else 'sqlite'}, work {work}", flush=True)
    (work / "redis").mkdir()
    redis_server = RedisServer(work / "redis")
    providers = None
    results: list[dict] = []
    try:
        providers = Providers(args, work)
        providers.start()
        redis_server.start()
        modes = [("parallel", args.parallel_steps)] + ([("serial", 1)] if args.serial else [])
        for name, steps in modes:
            results += run_mode(name, steps, work, base_env, redis_server.url, providers, args, parents, roles)
    finally:
        if providers is not None:
            providers.stop()
        if redis_server.proc is not None:
            redis_server.stop(keep_data=False)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average after: {os.getloadavg()}\n\n{report(results)}")
    if args.json:
        args.json.write_text(json.dumps({"command": sys.argv, "nproc": os.cpu_count(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
