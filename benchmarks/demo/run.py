"""The offline demo (`pipeline demo`, the README's first command) as shipped, against one step at a time and
against no encoding ahead for the video.

Each round runs the demo once per mode, the order reversed every other round, each time in a fresh data
folder (with `data/sources` copied in: the example brief reads from it), a fresh DAGSTER_HOME holding the
project's dagster.yaml, and its own Redis prefix (keys deleted afterwards). Modes: `parallel` (the
default: `PIPELINE_PARALLEL_STEPS` unset, 4 steps at a time, `PIPELINE_ENCODE_AHEAD` auto: off offline),
`serial` (`PIPELINE_PARALLEL_STEPS=1`), `no-ahead` (`PIPELINE_ENCODE_AHEAD=off`: the video step encodes
every still itself). Wall time is the `pipeline demo` process, start to exit (imports included).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODES = {"parallel": {}, "serial": {"PIPELINE_PARALLEL_STEPS": "1"}, "no-ahead": {"PIPELINE_ENCODE_AHEAD": "off"}}
LABELS = {"parallel": "as shipped (steps in parallel, PIPELINE_ENCODE_AHEAD auto)", "serial": "one step at a time (=1)",
          "no-ahead": "no encoding ahead (PIPELINE_ENCODE_AHEAD=off)"}


def run_demo(mode: str, work: Path, brief: str | None) -> dict:
    home, data = work / f"home-{mode}", work / f"data-{mode}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    shutil.copytree(ROOT / "data" / "sources", data / "sources")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PIPELINE_DATA_DIR": str(data),
           "PIPELINE_REDIS_PREFIX": f"bench-demo-{uuid.uuid4().hex[:6]}:"}
    for name in ("PIPELINE_PARALLEL_STEPS", "PIPELINE_ENCODE_AHEAD"):
        env.pop(name, None)
    env.update(MODES[mode])
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "pipeline"), "demo", *([brief] if brief else [])],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    _delete_keys(env["PIPELINE_REDIS_PREFIX"])
    if done.returncode != 0:
        raise RuntimeError(f"{mode}: pipeline demo exited {done.returncode}: {done.stdout[-800:]}{done.stderr[-800:]}")
    return {"mode": mode, "wall_s": round(wall, 2), "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def _delete_keys(prefix: str) -> None:
    import redis

    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    for key in r.scan_iter(f"{prefix}*", count=1000):
        r.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--brief", help="brief YAML (default: the demo's example)")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    parser.add_argument("--modes", default="parallel,serial", help=f"comma-separated, of {', '.join(MODES)}")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--modes {args.modes!r}: name some of {', '.join(MODES)}")
    work = Path(tempfile.mkdtemp(prefix="demo-bench-"))
    runs: list[dict] = []
    try:
        for i in range(args.rounds):
            for mode in (modes if i % 2 == 0 else modes[::-1]):
                runs.append(run_demo(mode, work, args.brief))
                print(json.dumps(runs[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {m: statistics.median(r["wall_s"] for r in runs if r["mode"] == m) for m in modes}
    print("\n| mode | runs | median wall s | each run s |\n|---|---:|---:|---|")
    for mode in modes:
        each = ", ".join(f"{r['wall_s']:.1f}" for r in runs if r["mode"] == mode)
        print(f"| {LABELS[mode]} | {sum(r['mode'] == mode for r in runs)} | {medians[mode]:.1f} | {each} |")
    for mode in modes[1:]:
        print(f"{modes[0]} / {mode}: {medians[modes[0]] / medians[mode]:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": medians}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
