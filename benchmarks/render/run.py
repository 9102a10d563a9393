"""Render benchmark: the project's chunked renderer against one ffmpeg pass and MoviePy 2, per video format.

    .venv/bin/python benchmarks/render/run.py [--rounds N] [--seconds 300] [--segments 20]
        [--only project,onepass,moviepy,words,karaoke] [--cues sentence|segment] [--formats 16:9,9:16]

`words` is the project's renderer in word mode (the word being spoken in a second colour, one still per
word) and `karaoke` one ffmpeg pass drawing the same word timings with libass karaoke tags (\\k); their
ratios are against `karaoke`.

Inputs are built once in benchmarks/render/work/. Every render runs in a fresh subprocess of this
script (`--worker JOB`), which times only the render call and reports its own CPU and peak RSS;
the parent adds os.wait4's totals for the whole subprocess and checks the output with ffprobe.
`project` is always followed by `incremental`: one segment's cue texts changed, same chunk cache.
Each round renders every format in turn (side by side on the same machine state), and each format's
ratios are against that format's own one-pass render.
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "work"
RESULTS = HERE / "results.json"
sys.path.insert(0, str(ROOT))  # the pipeline package, installed or not
FPS = 30
SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}  # pipeline.render.frame.SIZES
METHODS = ("project", "onepass", "moviepy", "words", "karaoke")
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "20", "-pix_fmt", "yuv420p"]
# libass sizes are in units of a 288-row script scaled to the video's height: 14/288 of 1080 = 52 px. A vertical
# video keeps about the same pixel size (the project draws 54 px at 16:9, 59 px at 9:16) and sits above the
# bottom fifth the apps cover.
SUBTITLE_STYLES = {"16:9": "FontName=DejaVu Sans,Bold=1,FontSize=14,Outline=1.5,Shadow=0,MarginV=20",
                   "9:16": "FontName=DejaVu Sans,Bold=1,FontSize=9,Outline=1,Shadow=0,MarginV=63,MarginL=35,MarginR=35",
                   "1:1": "FontName=DejaVu Sans,Bold=1,FontSize=14,Outline=1.5,Shadow=0,MarginV=20"}
WORDS = ("river valley morning light stone bridge market harbour the quiet old city wind across fields "
         "people gather before winter every season brings new colours and long shadows over hills "
         "farmers travel north while children watch clouds drift slowly above ancient towers").split()
PLACES = ("mountain lake", "desert dunes", "northern coast", "rice terraces", "pine forest", "river delta",
          "volcanic island", "city skyline", "alpine meadow", "canyon walls")
MOODS = ("at dawn", "at dusk", "under storm clouds", "in autumn", "in deep winter", "at noon")


# ---------------------------------------------------------------- inputs, built once

def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
    return " ".join(words).capitalize() + "."


def make_cues(seconds: float, segments: int, mode: str, edit_segment: int | None = None) -> list[dict]:
    """Cues {segment, start, end, text}: each segment's 4-6 sentences (split_cues), or its first one."""
    from pipeline.render.timing import split_cues

    rng, length, cues = random.Random(20240611), seconds / segments, []
    for k in range(segments):
        sentences = [sentence(rng) for _ in range(rng.randint(4, 6))]
        pieces = split_cues(" ".join(sentences), "en") if mode == "sentence" else sentences[:1]
        weights = [len(p.split()) * rng.uniform(0.8, 1.25) for p in pieces]
        if k == edit_segment:  # same timings, new words
            edit = random.Random(k)
            pieces = [sentence(edit) for _ in pieces]
        edges = [round(k * length + length * sum(weights[:i]) / sum(weights), 3) for i in range(len(pieces))]
        edges.append(round((k + 1) * length, 3))
        cues += [{"segment": k, "start": a, "end": b, "text": t} for a, b, t in zip(edges, edges[1:], pieces)]
    return cues


def build_inputs(seconds: float, segments: int, mode: str, format: str) -> dict:
    from pipeline.render.timing import to_srt

    base = WORK / f"inputs-{seconds:g}s-{segments}seg"
    base.mkdir(parents=True, exist_ok=True)
    tag = "" if format == "16:9" else "-" + format.replace(":", "x")
    images = [base / f"image{n:02d}{tag}.png" for n in range(segments)]
    if not all(p.exists() for p in images):  # in a subprocess: this one stays small (see the README)
        subprocess.run([sys.executable, __file__, "--draw", format, *map(str, images)], check=True)
    wav = base / "narration.wav"
    if not wav.exists():  # speech-like: a wobbling pitch, syllable-rate amplitude modulation, pauses
        expr = ("0.35*sin(2*PI*(150+40*sin(2*PI*0.7*t))*t)*(0.55+0.45*sin(2*PI*3.3*t))"
                "*gt(sin(2*PI*0.23*t),-0.8)")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        f"aevalsrc='{expr}':s=48000:d={seconds}", "-ac", "1", "-c:a", "pcm_s16le", str(wav)],
                       check=True)
    cues = make_cues(seconds, segments, mode)
    srt = base / f"cues-{mode}.srt"
    srt.write_text(to_srt([(c["start"], c["end"], c["text"]) for c in cues]), encoding="utf-8")
    return {"images": [str(p) for p in images], "wav": str(wav), "cues": cues, "srt": str(srt),
            "seconds": seconds, "edited_cues": make_cues(seconds, segments, mode, edit_segment=segments // 2),
            "format": format}


def draw_images(format: str, paths: list[Path]) -> None:
    from pipeline.providers.images import draw_procedural

    for n, path in enumerate(paths):
        description = f"{PLACES[n % len(PLACES)]} {MOODS[n % len(MOODS)]}, view {n}"
        draw_procedural(description, 7, *SIZES[format]).save(path, "PNG", compress_level=1)


# ---------------------------------------------------------------- the renderers (run in a worker)

def project_renderer():
    from pipeline.render.frame import frame_for
    from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow

    def render(job: dict) -> dict:
        shots = [Shot(image=Path(job["images"][c["segment"]]), text=c["text"], start=c["start"]) for c in job["cues"]]
        result = render_slideshow(RenderRequest(
            shots=shots, audio=Path(job["wav"]), total=job["seconds"], out=Path(job["out"]),
            work_dir=Path(job["work_dir"]), chunk_cache=Path(job["chunk_cache"]), fps=FPS,
            frame=frame_for(job["format"])))
        return {"stills": result.stills, "stills_encoded": result.stills_encoded}

    return render


def onepass_renderer():
    def render(job: dict) -> dict:
        spans: dict[int, list[float]] = {}  # segment -> [start, end]
        for c in job["cues"]:
            span = spans.setdefault(c["segment"], [c["start"], c["end"]])
            span[1] = c["end"]
        lines = ["ffconcat version 1.0"]
        for k, (a, b) in sorted(spans.items()):
            lines += [f"file '{job['images'][k]}'", f"duration {b - a:.3f}"]
        lines.append(f"file '{job['images'][max(spans)]}'")  # the concat demuxer ignores the last duration
        listing = Path(job["work_dir"]) / "images.ffconcat"
        listing.write_text("\n".join(lines) + "\n")
        # Convert each picture once, then repeat it at 30 fps, then draw the subtitles: drawn before fps,
        # they would be drawn on the 20 input pictures only, showing each picture's first cue throughout.
        style = SUBTITLE_STYLES[job["format"]]
        vf = f"format=yuv420p,fps={FPS},subtitles=filename={job['srt']}:force_style='{style}'"
        if "ass" in job:  # karaoke: the word timings as \\k tags, drawn by libass on every frame in the same pass
            vf = f"format=yuv420p,fps={FPS},subtitles=filename={job['ass']}"
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                        "-f", "concat", "-safe", "0", "-i", str(listing), "-i", job["wav"],
                        "-map", "0:v", "-map", "1:a", "-vf", vf, *X264, "-r", str(FPS),
                        "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
                        "-t", f"{job['seconds']}", "-movflags", "+faststart", job["out"]], check=True)
        return {}

    return render


def moviepy_renderer():
    import numpy as np
    from moviepy import AudioFileClip, ImageClip, concatenate_videoclips

    from pipeline.render.frame import frame_for
    from pipeline.render.stills import compose_still

    def render(job: dict) -> dict:
        # The text is drawn by the project's compose_still, so MoviePy never renders text itself.
        frame = frame_for(job["format"])
        clips = [ImageClip(np.asarray(compose_still(Path(job["images"][c["segment"]]), c["text"], "en", frame)),
                           duration=c["end"] - c["start"]) for c in job["cues"]]
        audio = AudioFileClip(job["wav"])
        video = concatenate_videoclips(clips).with_audio(audio)
        video.write_videofile(job["out"], fps=FPS, codec="libx264", preset="veryfast", audio_codec="aac",
                              audio_bitrate="160k", audio_fps=48000, ffmpeg_params=X264[4:8],
                              temp_audiofile_path=job["work_dir"], logger=None)
        video.close()
        audio.close()
        return {}

    return render


def word_timings(cue: dict) -> list[float]:
    """Word starts of a cue: spread by syllables over its spoken part (the cue minus a 0.25 s pause), as the
    project estimates them when the speech engine gives none."""
    from pipeline.render.words import estimate

    return estimate(cue["text"], "en", cue["start"] + 0.05, cue["end"] - 0.25)


def words_renderer():
    from pipeline.render.frame import frame_for
    from pipeline.render.karaoke import word_shots
    from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
    from pipeline.render.subtitle_style import SubtitleStyle

    def render(job: dict) -> dict:
        shots = []
        for c in job["cues"]:
            shot = Shot(image=Path(job["images"][c["segment"]]), text=c["text"], start=c["start"])
            shots += word_shots(shot, word_timings(c), c["end"] - 0.25, c["end"])
        result = render_slideshow(RenderRequest(
            shots=shots, audio=Path(job["wav"]), total=job["seconds"], out=Path(job["out"]),
            work_dir=Path(job["work_dir"]), chunk_cache=Path(job["chunk_cache"]), fps=FPS,
            frame=frame_for(job["format"]), subtitles=SubtitleStyle(mode="words")))
        return {"stills": result.stills, "stills_encoded": result.stills_encoded}

    return render


# libass karaoke: each word turns from SecondaryColour (white) to PrimaryColour (#FFD400) at its start, in the
# script's own pixels (PlayRes = the video's size); about the project's sizes and places per format.
ASS_STYLES = {"16:9": (1920, 1080, 54, 3, 60, 100), "9:16": (1080, 1920, 59, 3, 430, 140),
              "1:1": (1080, 1080, 54, 3, 60, 60)}


def karaoke_script(cues: list[dict], format: str) -> str:
    width, height, size, outline, margin_v, margin_lr = ASS_STYLES[format]

    def stamp(t: float) -> str:
        cs = round(t * 100)
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"

    lines = ["[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
             "WrapStyle: 0", "ScaledBorderAndShadow: yes", "", "[V4+ Styles]",
             "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
             "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
             "Alignment, MarginL, MarginR, MarginV, Encoding",
             f"Style: Default,DejaVu Sans,{size},&H0000D4FF,&H00FFFFFF,&H00000000,&H96000000,-1,0,0,0,100,100,0,0,"
             f"1,{outline},0,2,{margin_lr},{margin_lr},{margin_v},1", "", "[Events]",
             "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]
    for c in cues:
        starts = word_timings(c)
        edges = [c["start"], *starts[1:], c["end"] - 0.25]
        words = "".join(f"{{\\k{max(0, round((b - a) * 100))}}}{w} "
                        for a, b, w in zip(edges, edges[1:], c["text"].split()))
        lines.append(f"Dialogue: 0,{stamp(c['start'])},{stamp(c['end'])},Default,,0,0,0,,{words.strip()}")
    return "\n".join(lines) + "\n"


def karaoke_renderer():
    onepass = onepass_renderer()

    def render(job: dict) -> dict:
        script = Path(job["work_dir"]) / "karaoke.ass"
        script.write_text(karaoke_script(job["cues"], job["format"]), encoding="utf-8")
        return onepass({**job, "ass": str(script)})

    return render


RENDERERS = {"project": project_renderer, "incremental": project_renderer,
             "onepass": onepass_renderer, "moviepy": moviepy_renderer,
             "words": words_renderer, "karaoke": karaoke_renderer}


def worker(job_path: Path) -> None:
    """Run one render and write {wall, cpu, peak RSS} of this process and its waited-for children."""
    job = json.loads(job_path.read_text())
    render = RENDERERS[job["method"]]()  # imports happen here, outside the timed part
    Path(job["work_dir"]).mkdir(parents=True, exist_ok=True)
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    extra = render(job)
    wall = time.perf_counter() - start
    own2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(a, b):
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)

    Path(job["result"]).write_text(json.dumps({
        "wall_s": wall, "cpu_s": cpu(own, own2) + cpu(kids, kids2), "cpu_python_s": cpu(own, own2),
        "cpu_children_s": cpu(kids, kids2), "rss_python_mb": own2.ru_maxrss * 1024 / 1e6,
        "rss_largest_child_mb": kids2.ru_maxrss * 1024 / 1e6,
        "peak_rss_mb": max(own2.ru_maxrss, kids2.ru_maxrss) * 1024 / 1e6, **extra}))


# ---------------------------------------------------------------- running and checking

def tree_rss_mb(root: int) -> float:
    """VmRSS summed over `root` and its live descendants (shared pages counted in each), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e6


def sample_tree(pid: int, done: threading.Event, peak: list[float]) -> None:
    while not done.wait(0.1):
        peak[0] = max(peak[0], tree_rss_mb(pid))


def probe(path: Path, seconds: float, size: tuple[int, int]) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-print_format", "json", "-show_streams",
                          "-show_format", str(path)], capture_output=True, check=True, text=True).stdout
    info = json.loads(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next((s for s in info["streams"] if s["codec_type"] == "audio"), {})
    video_s = float(video.get("duration") or info["format"]["duration"])
    return {"frames": int(video.get("nb_read_packets") or 0), "expected_frames": round(seconds * FPS),
            "video_s": video_s, "audio_s": float(audio.get("duration") or 0), "pix_fmt": video.get("pix_fmt"),
            "format_s": float(info["format"]["duration"]), "fps": video["r_frame_rate"],
            "avg_fps": video["avg_frame_rate"], "size_ok": (video["width"], video["height"]) == size,
            "duration_ok": abs(video_s - seconds) <= 1 / FPS, "audio_codec": audio.get("codec_name")}


def run_method(method: str, job: dict, rundir: Path) -> dict:
    job = {**job, "method": method, "out": str(rundir / f"{method}.mp4"), "result": str(rundir / f"{method}.json"),
           "work_dir": str(rundir / ("project" if method == "incremental" else method))}
    job_path = rundir / f"{method}.job.json"
    job_path.write_text(json.dumps(job))
    Path(job["out"]).unlink(missing_ok=True)
    Path(job["result"]).unlink(missing_ok=True)
    # MoviePy would use imageio-ffmpeg's own binary: give every method the same ffmpeg and x264.
    env = {**os.environ, "FFMPEG_BINARY": shutil.which("ffmpeg") or "ffmpeg"}
    start, load = time.perf_counter(), os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, __file__, "--worker", str(job_path)], env=env)
    done, peak = threading.Event(), [0.0]
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, done, peak), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)  # usage of the subprocess and everything it waited for
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    process = {"process_wall_s": time.perf_counter() - start, "process_cpu_s": usage.ru_utime + usage.ru_stime,
               "process_maxrss_mb": usage.ru_maxrss * 1024 / 1e6, "tree_rss_sampled_mb": peak[0],
               "load_before": load, "load_after": os.getloadavg()[0]}
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", **process}
    result = {**json.loads(Path(job["result"]).read_text()), **process}
    result["size_mb"] = Path(job["out"]).stat().st_size / 1e6
    return {**result, **probe(Path(job["out"]), job["seconds"], SIZES[job["format"]])}


def run_round(methods: list[str], inputs: dict, rundir: Path) -> dict:
    results, chunks = {}, rundir / "chunks"
    for method in [x for m in methods for x in ((m, "incremental") if m == "project" else (m,))]:
        job = {**inputs, "chunk_cache": str(chunks)}
        if method == "project":
            shutil.rmtree(chunks, ignore_errors=True)  # a fresh cache: every still is encoded
        elif method == "incremental":  # one segment's texts changed, the cache of the full render just before
            if "error" in results["project"]:
                continue
            job["cues"] = inputs["edited_cues"]
        r = results[method] = run_method(method, job, rundir)
        print(f"  {method}: " + (f"FAILED ({r['error']})" if "error" in r else
              f"{r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['peak_rss_mb']:.0f} MB, {r['frames']} frames"),
              flush=True)
    return results


def medians(rounds: list[dict]) -> dict:
    out = {}
    for method in dict.fromkeys(m for r in rounds for m in r):
        good = [r[method] for r in rounds if method in r and "error" not in r[method]]
        if not good:
            out[method] = {"error": "failed in every round"}
            continue
        numeric = [k for k, v in good[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out[method] = {**good[-1], **{k: statistics.median(g[k] for g in good) for k in numeric}, "rounds": len(good)}
    return out


def table(by_format: dict[str, dict]) -> str:
    """One row per format and method; the ratios are against the same format's one-pass render."""
    rows = ["| format | method | wall s | CPU s | peak RSS MB | tree RSS MB | size MB | frames | video s "
            "| size, 30 fps, A/V within 1 frame | one-pass wall / wall | one-pass CPU / CPU |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for format, med in by_format.items():
        width, height = SIZES[format]
        for method, r in med.items():
            against = med.get("karaoke" if method in ("words", "karaoke") else "onepass", {})
            base, base_cpu = against.get("wall_s"), against.get("cpu_s")
            if "error" in r:
                rows.append(f"| {format} | {method} | failed | | | | | | | | | |")
                continue
            ok = r["size_ok"] and r["fps"] == "30/1" and r["frames"] == r["expected_frames"]
            checks = f"{width}x{height} {'yes' if ok else 'NO'}, {'yes' if r['duration_ok'] else 'NO'}"
            ratio = f"{base / r['wall_s']:.2f}x | {base_cpu / r['cpu_s']:.2f}x" if base else "n/a | n/a"
            rows.append(f"| {format} | {method} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                        f"{r['tree_rss_sampled_mb']:.0f} | {r['size_mb']:.1f} | {r['frames']} | {r['video_s']:.3f} | "
                        f"{checks} | {ratio} |")
    return "\n".join(rows)


def machine() -> dict:
    def out(*cmd):
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()

    return {"nproc": out("nproc"), "ffmpeg": out("ffmpeg", "-version"), "python": sys.version.split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--only", default=",".join(METHODS), help="comma-separated: " + ",".join(METHODS))
    parser.add_argument("--cues", choices=("sentence", "segment"), default="sentence")
    parser.add_argument("--formats", default="16:9,9:16", help="comma-separated, of " + ",".join(SIZES))
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--draw", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker or args.draw:
        return worker(args.worker) if args.worker else draw_images(args.draw[0], [Path(p) for p in args.draw[1:]])
    methods = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {','.join(METHODS)}")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if set(formats) - set(SIZES):
        parser.error(f"unknown formats {sorted(set(formats) - set(SIZES))}; choose from {','.join(SIZES)}")
    inputs = {f: build_inputs(args.seconds, args.segments, args.cues, f) for f in formats}
    cues = len(inputs[formats[0]]["cues"])
    print(f"{cues} cues ({args.cues}), {args.segments} images, {args.seconds:g} s, formats {', '.join(formats)}",
          flush=True)
    rounds: list[dict[str, dict]] = []
    for n in range(args.rounds):
        print(f"round {n + 1} of {args.rounds}", flush=True)
        one = {}
        for f in formats:  # every format in each round: side by side, on the same machine state
            print(f" format {f}", flush=True)
            rundir = WORK / f"run-{args.cues}" / f.replace(":", "x")
            rundir.mkdir(parents=True, exist_ok=True)
            one[f] = run_round(methods, inputs[f], rundir)
        rounds.append(one)
    med = {f: medians([r[f] for r in rounds]) for f in formats}
    text = table(med)
    print(f"\nmedian of {args.rounds} round(s), {cues} cues ({args.cues}):\n\n{text}")
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = args.cues if (args.seconds, args.segments) == (300, 20) else \
        f"{args.cues}-{args.seconds:g}s-{args.segments}seg"
    if formats != ["16:9"]:
        key += "-" + "-".join(f.replace(":", "x") for f in formats)
    saved[key] = {"args": {k: v for k, v in vars(args).items() if k not in ("worker", "draw")},
                  "machine": machine(), "cues": cues, "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "median": med, "rounds": rounds, "table": text}
    RESULTS.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
