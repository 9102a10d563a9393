"""Word mode: the word being spoken drawn in the highlight colour, one still per word, encoded as runs.

A cue in word mode is a sequence of word stills (`Shot.highlight` = the word's index; -1 after the last
word is spoken, until the next cue). Each still is shown from the frame nearest its word's start, so the
frame spans come from the word timings exactly as cue spans come from cue timings. Encoded one still per
20-frame chunk like a line, a word (a third of a second) would cost an IDR frame and 19 repeats x264
analyses one by one: more frames encoded than shown. Instead the still pieces of one cue form a `Run`:
its distinct stills are encoded once each in order (an IDR frame, then a P-frame per change, which codes
only the word that changed), and the stream repeats each with copies of a frame of skipped macroblocks,
re-stamped for their place (restamp.py). A run is cached by what it draws, not by its timing, so new word
timings reuse it.
"""

import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg
from pipeline.render.ffmpeg import RenderError
from pipeline.render.h264 import is_idr, split_access_units
from pipeline.render.pieces import Piece, Shot
from pipeline.render.restamp import StreamError, build_run, is_skip, parameters
from pipeline.store import atomic_write, item_key

SKIP_VERSION = 1


@dataclass
class Run(Piece):
    """The still pieces of one cue in word mode: `looks` are its distinct stills in order, (word, titled), each
    shown `counts[k]` frames."""

    looks: list[tuple[int, bool]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


def word_shots(shot: Shot, starts: list[float], end: float | None, until: float) -> list[Shot]:
    """The word stills of one cue: word k from `starts[k]` (seconds in the track; the first from the cue's
    start), then none highlighted from `end` (the speech's end) to `until` (the next cue's start)."""
    if not shot.text or not starts:
        return [shot]
    shots, last = [], shot.start
    for k, start in enumerate(starts):
        at = shot.start if k == 0 else min(max(start, last), until)
        shots.append(replace(shot, start=at, highlight=k))
        last = at
    if end is not None and last < end < until:
        shots.append(replace(shot, start=end, highlight=-1))
    return shots


def runs(pieces: list[Piece], key) -> list[Piece]:
    """`pieces` with each cue's consecutive word still pieces joined into one Run, keyed by `key(run)`."""
    out: list[Piece] = []
    for piece in pieces:
        shot = piece.shots[0]
        if piece.motion or shot.highlight is None:
            out.append(piece)
            continue
        look = (shot.highlight, piece.titled > 0)
        previous = out[-1] if out else None
        if isinstance(previous, Run) and (previous.shots[0].image, previous.shots[0].text) == (shot.image, shot.text):
            run = previous
        else:
            run = Run("", 0, [], [], False)
            out.append(run)
        run.shots.append(shot)
        run.spans.append(piece.frames)
        run.frames += piece.frames
        run.titled += piece.titled
        if piece.frames == 0:
            continue
        if run.looks and run.looks[-1] == look:
            run.counts[-1] += piece.frames
        else:
            run.looks.append(look)
            run.counts.append(piece.frames)
    for piece in out:
        if isinstance(piece, Run):
            piece.key = key(piece)
    return out


def take_runs(missing: dict[str, Piece]) -> dict[str, Run]:
    """The runs among the pieces to encode, taken out of `missing` (the rest are 20-frame still chunks)."""
    found = {k: p for k, p in missing.items() if isinstance(p, Run)}
    for k in found:
        del missing[k]
    return found


def run_args(out: Path, width: int, height: int, fps: int, firsts: list[int]) -> list[str]:
    """Encode one raw yuv420p frame per distinct still, in order, with an IDR frame at each run's first."""
    forced = ",".join(f"{n / fps:.6f}" for n in firsts)  # ffmpeg rounds each to the nearest frame: frame n
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(fps),
            "-i", "pipe:0", *ffmpeg.X264_STILL, "-x264-params", ffmpeg.REPEATABLE, "-forced-idr", "1",
            "-force_key_frames", forced, *ffmpeg.BT709, "-f", "h264", str(out)]


def encode_runs(runs_: dict[str, Run], maker, width: int, height: int, fps: int, chunk_cache: Path,
                work_dir: Path, report) -> int:
    """Compose and encode every distinct still of `runs_` in one x264 process, one cached file per run
    (its IDR frame and P-frames); `report(done, message)` as frames go in. How many frames were encoded."""
    if not runs_:
        return 0
    firsts, total = [], 0
    for run in runs_.values():
        firsts.append(total)
        total += len(run.looks)
    raw = work_dir / "runs.h264"
    encoder = ffmpeg.Running(run_args(raw, width, height, fps, firsts), "encoding word stills", stdin=True,
                             progress=True)

    def stills():
        done = 0
        for run in runs_.values():
            shot = run.shots[0]
            for word, titled in run.looks:
                report(done, f"encoding word still {done + 1} of {total}")
                yield maker.frame(shot.image, shot.text, titled, word)
                done += 1

    encoder.feed(stills(), lambda t: report(t.frames, f"encoding word stills: frame {t.frames} of {total}"))
    units = split_access_units(raw.read_bytes())
    if len(units) != total:
        raise RenderError(f"the encoder returned {len(units)} frames for {total} word stills")
    for first, (key, run) in zip(firsts, runs_.items()):
        mine = units[first:first + len(run.looks)]
        if not is_idr(mine[0]) or any(is_idr(u) for u in mine[1:]):
            raise RenderError("the word stills' encoder placed its IDR frames elsewhere than at each cue's start")
        atomic_write(chunk_cache / f"{key}.h264", b"".join(mine))
    raw.unlink(missing_ok=True)
    return total


def skip_path(chunk_cache: Path, width: int, height: int, fps: int) -> Path:
    """Where `skip_frame` keeps the skip frame of these settings."""
    return chunk_cache / f"{item_key('skip', SKIP_VERSION, width, height, fps, ffmpeg.X264_STILL)}.h264"


def skip_frame(chunk_cache: Path, width: int, height: int, fps: int) -> bytes:
    """A P-frame of skipped macroblocks only, from the same encoder settings as the runs (cached): x264's code
    for a flat grey picture repeated, which copies whatever frame comes before it."""
    path = skip_path(chunk_cache, width, height, fps)
    if not path.exists():
        flat = (np.full(width * height, 128, np.uint8).tobytes() + np.full(width * height // 2, 128, np.uint8)
                .tobytes())
        tmp = path.with_name(f".{path.name}.raw")
        try:
            subprocess.run([ffmpeg.tool("ffmpeg"), *run_args(tmp, width, height, fps, [0])[1:]], input=flat * 2,
                           capture_output=True, check=True, timeout=120)
            units = split_access_units(tmp.read_bytes())
        except subprocess.CalledProcessError as e:
            raise ffmpeg.failure("encoding a repeat frame", e.returncode, e.stderr, []) from e
        except ValueError as e:  # ffmpeg can exit 0 having written nothing to a full disk
            if ffmpeg.no_space(path.parent):
                raise ffmpeg.DiskFull("encoding a repeat frame", "No space left on device", tmp) from e
            raise RenderError(f"encoding a repeat frame gave no H.264 stream: {e}") from e
        finally:
            tmp.unlink(missing_ok=True)
        if len(units) != 2 or not is_skip(units[1], (width // 16) * (height // 16)):
            raise RenderError("x264 did not code a repeated flat picture as skipped macroblocks: cannot repeat "
                              "word stills")
        atomic_write(path, units[1])
    return path.read_bytes()


def still_chunk(idr: bytes, skip: bytes, frames: int) -> bytes:
    """A still's chunk: its IDR frame, then `frames` - 1 re-stamped copies of the skip frame."""
    try:
        return b"".join(build_run(idr, skip, [], [frames], parameters([idr])))
    except StreamError as e:
        raise RenderError(f"cannot repeat a still's frame: {e}") from e


def assemble(run: Run, units: list[bytes], skip: bytes) -> bytes:
    """The run's frames: each distinct still shown its count of frames."""
    try:
        return b"".join(build_run(units[0], skip, units[1:], run.counts, parameters(units[:1])))
    except StreamError as e:
        raise RenderError(f"cannot repeat the word stills of {run.shots[0].text[:40]!r}: {e}") from e
