"""Footage benchmark: a video with half its segments as video clips, the project's renderer against one ffmpeg
pass doing the same.

    .venv/bin/python benchmarks/footage/run.py [--seconds 300] [--segments 20] [--only project,onepass]

Inputs (built once, gitignored: the stills, narration and cues of benchmarks/render/run.py in its work/,
the clips in benchmarks/footage/work/): procedural stills for the even segments, testsrc2 clips (640x360, 25 fps, 3-9 s: shorter ones loop, longer ones are cut) for the odd ones, a
speech-like WAV, and sentence cues (benchmarks/render/run.py's make_cues). Both methods fit each clip to
1920x1080 by cover at 30 fps, show each segment for exactly its cues, burn the subtitles in, and encode
H.264 (libx264 veryfast, CRF 20) + AAC. `project` is render_slideshow with ClipSource shots: stills once
each as closed chunks, clip segments as their own chunks; it is followed by `incremental`: one clip
segment's cue texts changed, same chunk cache. `onepass` is one ffmpeg process: every input looped or
trimmed, scaled, concatenated, subtitles by libass, one encode. Each method runs in a fresh subprocess
timed by os.wait4 (wall, CPU, peak RSS); the output is checked with ffprobe (frames, duration).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "work"
RESULTS = HERE / "results.json"
sys.path.insert(0, str(ROOT))
FPS = 30
STYLE = "FontName=DejaVu Sans,Bold=1,FontSize=14,Outline=1.5,Shadow=0,MarginV=20"


def build(seconds: float, segments: int) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_bench", ROOT / "benchmarks" / "render" / "run.py")
    render_bench = importlib.util.module_from_spec(spec)  # benchmarks/render/run.py: cues, narration, stills
    spec.loader.exec_module(render_bench)  # type: ignore[union-attr]

    base = WORK / f"inputs-{seconds:g}s-{segments}seg"
    base.mkdir(parents=True, exist_ok=True)
    job = render_bench.build_inputs(seconds, segments, "sentence", "16:9")
    clips = []
    for k in range(segments):
        if k % 2 == 0:
            clips.append(None)
            continue
        length = 3 + (k * 7) % 7  # 3-9 s against segments of 15 s: each loops
        path = base / f"clip{k:02d}.mp4"
        if not path.exists():
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                            f"testsrc2=size=640x360:rate=25:duration={length}", "-c:v", "libx264", "-preset",
                            "veryfast", "-pix_fmt", "yuv420p", str(path)], check=True)
        clips.append(str(path))
    job["clips"] = clips
    job["edited_cues"] = render_bench.make_cues(seconds, segments, "sentence", edit_segment=segments // 2 + 1)
    return job


def project(job: dict, out: Path, work: Path, cache: Path, cues: list[dict]) -> dict:
    from pipeline.render.pieces import ClipSource, Shot
    from pipeline.render.slideshow import RenderRequest, render_slideshow

    shots = [Shot(image=Path(job["images"][c["segment"]]), text=c["text"], start=c["start"], segment=c["segment"],
                  clip=ClipSource(Path(job["clips"][c["segment"]])) if job["clips"][c["segment"]] else None)
             for c in cues]
    result = render_slideshow(RenderRequest(shots=shots, audio=Path(job["wav"]), total=job["seconds"], out=out,
                                            work_dir=work, chunk_cache=cache, fps=FPS))
    return {"stills_encoded": result.stills_encoded, "frames": result.frames}


def onepass(job: dict, out: Path, work: Path) -> dict:
    spans: dict[int, list[float]] = {}
    for c in job["cues"]:
        spans.setdefault(c["segment"], [c["start"], c["end"]])[1] = c["end"]
    inputs, graph, labels = [], [], []
    cover = "scale=1920:1080:force_original_aspect_ratio=increase,crop=1920:1080,setsar=1"
    for k, (a, b) in sorted(spans.items()):
        frames = round(b * FPS) - round(a * FPS)
        if job["clips"][k]:
            inputs += ["-stream_loop", "-1", "-i", job["clips"][k]]
        else:
            inputs += ["-loop", "1", "-framerate", str(FPS), "-i", job["images"][k]]
        graph.append(f"[{len(labels)}:v]fps={FPS},{cover},format=yuv420p,trim=end_frame={frames},"
                     f"setpts=N/{FPS}/TB[s{k}]")
        labels.append(f"[s{k}]")
    graph.append(f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0,subtitles=filename={job['srt']}:"
                 f"force_style='{STYLE}'[v]")
    audio = len(labels)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs, "-i", job["wav"],
                    "-filter_complex", ";".join(graph), "-map", "[v]", "-map", f"{audio}:a",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-r", str(FPS),
                    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-t", f"{job['seconds']}",
                    "-movflags", "+faststart", str(out)], check=True)
    return {}


def worker(spec: str) -> None:
    task = json.loads(spec)
    job, method = task["job"], task["method"]
    out, work, cache = Path(task["out"]), Path(task["work"]), Path(task["cache"])
    started = time.perf_counter()
    if method == "onepass":
        facts = onepass(job, out, work)
    else:
        cues = job["edited_cues"] if method == "incremental" else job["cues"]
        facts = project(job, out, work, cache, cues)
    print(json.dumps({"seconds": time.perf_counter() - started, **facts}))


def measure(job: dict, method: str, folder: Path) -> dict:
    out, work, cache = folder / f"{method}.mp4", folder / f"work-{method}", folder / "chunks"
    work.mkdir(parents=True, exist_ok=True)
    task = json.dumps({"job": job, "method": method, "out": str(out), "work": str(work), "cache": str(cache)})
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--worker", task], stdout=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{method} failed ({status})")
    inner = json.loads(proc.stdout.read())  # type: ignore[union-attr]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                                       "-count_packets", str(out)], capture_output=True, check=True).stdout)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    return {"method": method, "wall_s": round(wall, 1), "render_s": round(inner["seconds"], 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "frames": int(video["nb_read_packets"]), "expected_frames": round(job["seconds"] * FPS),
            "video_s": float(video.get("duration", 0)), "audio_s": float(audio.get("duration", 0)),
            "size_mb": round(out.stat().st_size / 1e6, 1),
            **{k: v for k, v in inner.items() if k not in ("seconds",)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--only", default="project,onepass")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    job = build(args.seconds, args.segments)
    folder = WORK / "out"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    results = []
    for method in args.only.split(","):
        results.append(measure(job, method, folder))
        print(json.dumps(results[-1]), flush=True)
        if method == "project":
            results.append(measure(job, "incremental", folder))
            print(json.dumps(results[-1]), flush=True)
    record = {"when": time.strftime("%Y-%m-%d %H:%M"), "seconds": args.seconds, "segments": args.segments,
              "clip_segments": sum(1 for c in job["clips"] if c), "load_before": os.getloadavg(), "results": results}
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
