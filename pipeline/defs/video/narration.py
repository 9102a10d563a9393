"""The narration asset: every subtitle cue spoken, timed from its real audio, loudness-normalised."""

import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.checks import cue_gaps
from pipeline.defs.common import ASSET_DEFAULTS, failures, step_boundary
from pipeline.defs.ops.parallel import step_threads
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Cue, Narration, Script
from pipeline.defs.video.styling import cue_lines
from pipeline.events.progress import Progress
from pipeline.providers.speech import SpeechProvider
from pipeline.render import ffmpeg
from pipeline.render.audio import LOUDNESS_TARGET, assemble_track, measure_loudness, normalise_loudness
from pipeline.render.words import load_starts, save_starts
from pipeline.store import item_key
from pipeline.usage import meter

PAUSE_AFTER_CUE = 0.25  # seconds of silence after a cue
PAUSE_AFTER_SEGMENT = 0.6  # after the last cue of a segment


def speak_cues(speech_provider: SpeechProvider, brief: Brief, lines: list[tuple[int, str]], paths: list[Path],
               progress: Progress) -> int:
    """Speak every cue whose WAV is missing, `speech_provider.concurrency()` at once; how many were spoken.

    Each WAV is kept as soon as it is whole, so a step that stops (a failure, a cancel, a crash) keeps the
    cues finished before it. On a failure the cues not started are dropped, those under way are finished,
    and the failure of the first cue in order is raised.
    """
    todo: dict[Path, int] = {}  # each missing WAV, with the first cue that says it
    for n, path in enumerate(paths):
        if not path.exists():
            todo.setdefault(path, n)
    users = Counter(paths)  # a sentence said twice is one WAV
    done = sum(users[path] for path in users if path not in todo)
    if done:
        progress.report(done, f"{done} of {len(lines)} cues already spoken")

    def speak(path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}")
        result = speech_provider.synthesize(text, brief.language, brief.video.voice, tmp)
        save_starts(path, getattr(result, "words", None))  # the engine's word timings, kept before the WAV
        tmp.replace(path)

    pool = ThreadPoolExecutor(max_workers=max(1, min(speech_provider.concurrency(), len(todo))),
                              thread_name_prefix=step_threads("narration"))
    errors: dict[int, BaseException] = {}
    stopped = True  # an interrupt (a cancel) does not wait for the cues under way
    try:
        futures = {pool.submit(speak, path, lines[n][1]): n for path, n in todo.items()}
        for future in as_completed(futures):
            n = futures[future]
            if future.cancelled():
                continue
            if (error := future.exception()) is not None:
                errors[n] = error
                for other in futures:
                    other.cancel()
                continue
            done += users[paths[n]]
            progress.report(done, f"cue {done} of {len(lines)} spoken", scene=f"cue {n}")
        stopped = False
    finally:
        pool.shutdown(wait=not stopped, cancel_futures=True)
    if errors:
        n = min(errors)
        with failures(f"narration cue {n} (segment {lines[n][0]})"):
            raise errors[n]
    return len(todo)


@dg.asset(group_name="video", check_specs=[dg.AssetCheckSpec("subtitles_cover_narration", asset="narration")],
          **ASSET_DEFAULTS)
@step_boundary
def narration(context: dg.AssetExecutionContext, brief: Brief, script: Script, speech_provider: SpeechProvider,
              files: DataFolder):
    """Speech for every subtitle cue, and the full track timed from the real audio."""
    folder = files.project(brief.project_id)
    usage = meter(context, brief, folder)
    speech_provider = usage.speech(speech_provider)
    voice = speech_provider.voice_id(brief.language, brief.video.voice)
    lines = cue_lines(brief, script)
    paths = [folder.item("narration", item_key(speech_provider.name, voice, brief.language, text), "wav")
             for _, text in lines]
    progress = Progress(context, len(lines) + 1, "cues")  # the track is the last unit
    spoken = speak_cues(speech_provider, brief, lines, paths, progress)
    parts = []
    for n, (segment, _) in enumerate(lines):
        last_of_segment = n + 1 == len(lines) or lines[n + 1][0] != segment
        parts.append((paths[n], PAUSE_AFTER_SEGMENT if last_of_segment else PAUSE_AFTER_CUE))

    track_key = item_key("track", [str(p.name) for p, _ in parts], [pause for _, pause in parts], LOUDNESS_TARGET,
                         ffmpeg.PEAK_LIMIT, ffmpeg.TRUE_PEAK, "ebur128")
    normalised = folder.item("narration", track_key, "wav")
    raw = folder.path("narration", "raw.wav")

    def working(tick: ffmpeg.Tick) -> None:
        progress.report(len(lines), f"normalising the track's loudness: {tick.seconds:.0f} s of audio done")

    with failures("narration track"):
        spans, _ = assemble_track(parts, raw)
        if normalised.exists():  # a re-run: the same cues and pauses were normalised before
            loudness = measure_loudness(normalised, progress=working)
        else:
            tmp = normalised.with_name(f".{normalised.name}")
            loudness = normalise_loudness(raw, tmp, progress=working)
            tmp.replace(normalised)
    track = folder.path("narration.wav")
    shutil.copyfile(normalised, track)
    raw.unlink(missing_ok=True)
    progress.report(progress.total, f"track of {len(lines)} cues assembled", force=True)
    cues = [Cue(index=n, segment=seg, text=text, start=round(a, 4), end=round(b, 4), audio=folder.rel(p),
                words=load_starts(p))
            for n, ((seg, text), (a, b), (p, _)) in enumerate(zip(lines, spans, parts))]
    value = Narration(path=folder.rel(track), duration=round(spans[-1][1], 4), sample_rate=48000,
                      voice=voice, cues=cues, loudness_lufs=round(loudness, 1))
    yield dg.Output(value, metadata={
        "duration_seconds": value.duration, "cues": len(cues), "spoken": spoken, "reused": len(cues) - spoken,
        "voice": voice, "loudness_lufs": value.loudness_lufs, "path": str(track),
        "word_timings": sum(1 for c in cues if c.words is not None), **usage.finish(),
    })
    problems = cue_gaps(value, tolerance=0.001)
    yield dg.AssetCheckResult(check_name="subtitles_cover_narration", passed=not problems,
                              metadata={"problems": "\n".join(problems) or "none"})
