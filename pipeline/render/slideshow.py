"""The renderer: a narrated slideshow encoded one unique frame at a time.

A slideshow shows one still per subtitle cue, so almost every frame repeats the one before it.
Each distinct still is composed once and encoded once, as a closed chunk of `CHUNK_FRAMES` frames
starting with an IDR frame; the video stream is then assembled by copying chunks (and the first
frames of a chunk for a cue's remainder) and muxed with the AAC track, which is encoded at the same
time. The frame count is exact by construction: round(total x fps). Chunks are cached by the
content that made them, so a re-render encodes only stills that changed.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg
from pipeline.render.clips import join_audio, prepare_clip
from pipeline.render.ffmpeg import RenderError
from pipeline.render.h264 import split_access_units
from pipeline.render.stills import StillMaker, find_font
from pipeline.render.timing import frame_spans
from pipeline.store import atomic_write, file_digest, item_key

CHUNK_FRAMES = 20
RENDER_VERSION = 2  # bump when stills or encoder settings change, to invalidate cached chunks


@dataclass(frozen=True)
class Shot:
    """One cue on screen: its image, its subtitle line and when it is spoken.

    Shots with `motion` (a Ken Burns zoom) of the same `segment` are rendered frame by frame together.
    """

    image: Path
    text: str
    start: float
    segment: int = -1
    motion: bool = False


@dataclass
class RenderRequest:
    shots: list[Shot]
    audio: Path
    total: float  # seconds of audio: the video has exactly round(total * fps) frames
    out: Path
    work_dir: Path
    chunk_cache: Path
    language: str = "en"
    logo: Path | None = None
    title: str = ""
    width: int = 1920
    height: int = 1080
    fps: int = 30
    intro: Path | None = None  # presenter clips, any size and rate: placed before and after the shots
    outro: Path | None = None


@dataclass
class RenderResult:
    path: Path
    frames: int
    stills: int
    stills_encoded: int
    encoded_frames: int
    intro_seconds: float = 0.0
    outro_seconds: float = 0.0
    motion_segments: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


ProgressFn = Callable[[int, int, str], None]
MUX_UNIT = CHUNK_FRAMES  # output frames assembled and muxed per unit of work: copying is cheap next to encoding


class _Work:
    """The render's progress as one count of units: a frame encoded (still chunk or moving) is one unit,
    and `MUX_UNIT` output frames assembled and muxed are one more; every long wait reports where it is."""

    def __init__(self, report: ProgressFn, total: int):
        self.report, self.total, self.done = report, max(total, 1), 0

    def at(self, done: int, message: str) -> None:
        self.report(min(self.done + done, self.total), self.total, message)

    def add(self, units: int) -> None:
        self.done += units


def render_slideshow(request: RenderRequest, progress: ProgressFn | None = None) -> RenderResult:
    """Render the request's shots over its audio into an H.264/AAC MP4.

    `progress(done, total, message)` is called throughout: per still composed, and every second while
    an ffmpeg process (encoder, moving segment, clip, mux) works, so a render is never long silent.
    """
    spans = frame_spans([s.start for s in request.shots], request.total, request.fps)
    total_frames = sum(spans)
    if total_frames <= 0:
        raise RenderError("nothing to render: the narration is shorter than one frame")
    request.work_dir.mkdir(parents=True, exist_ok=True)
    request.chunk_cache.mkdir(parents=True, exist_ok=True)

    digests: dict[Path, str] = {}
    logo_digest = file_digest(request.logo) if request.logo else None

    def digest(path: Path) -> str:
        if path not in digests:
            digests[path] = file_digest(path)
        return digests[path]

    pieces = _pieces(request, spans, digest, logo_digest)
    keys = [p.key for p in pieces if not p.motion]
    missing = {p.key: p.shots[0] for p in pieces if not p.motion and p.frames > 0
               and not (request.chunk_cache / f"{p.key}.h264").exists()}
    moving = list({p.key: p for p in pieces if p.motion and p.frames > 0
                   and not (request.chunk_cache / f"{p.key}.h264").exists()}.values())
    work = _Work(progress or (lambda done, total, message: None),
                 len(missing) * CHUNK_FRAMES + sum(p.frames for p in moving) + total_frames // MUX_UNIT + 1)

    clips = [_clip(request, c, work) if c else None for c in (request.intro, request.outro)]
    audio_in = request.audio
    if any(clips):
        silence = np.zeros(0, np.int16)
        audio_in = join_audio([c.audio if c else silence for c in clips], request.audio,
                              request.work_dir / "audio-with-presenter.wav")
    audio_out = request.chunk_cache / f"{item_key('aac', RENDER_VERSION, file_digest(audio_in))}.m4a"
    audio = None
    if not audio_out.exists():  # a re-render whose narration did not change reuses the encoded track
        audio = ffmpeg.Running(ffmpeg.aac_args(audio_in, audio_out.with_name(f".{audio_out.name}")),
                            "AAC encoding of the narration")
    try:
        _encode_chunks(request, missing, work)
        for piece in moving:
            _render_motion(request, piece, work)
        stream = _assemble(request, pieces, clips, work)
        if audio is not None:
            audio.wait(lambda t: work.at(0, f"encoding the narration's audio ({t.elapsed:.0f} s)"))
            audio_out.with_name(f".{audio_out.name}").replace(audio_out)
    except BaseException:
        if audio is not None:
            audio.kill()
        raise
    request.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = request.out.with_name(f".{request.out.stem}.tmp.mp4")
    seconds = total_frames / request.fps
    ffmpeg.run(ffmpeg.mux_args(stream, audio_out, tmp, request.fps, request.title), "muxing the MP4",
               progress=lambda t: work.at(round(t.seconds * request.fps) // MUX_UNIT,
                                          f"muxing the MP4: {t.seconds:.0f} of {seconds:.0f} s"))
    tmp.replace(request.out)
    stream.unlink(missing_ok=True)
    extra = [c.seconds(request.fps) if c else 0.0 for c in clips]
    total_frames += sum(len(c.units) for c in clips if c)
    work.report(work.total, work.total, f"rendered {total_frames} frames")
    return RenderResult(path=request.out, frames=total_frames, stills=len(set(keys)),
                        stills_encoded=len(missing), encoded_frames=len(missing) * CHUNK_FRAMES,
                        motion_segments=sum(1 for p in pieces if p.motion),
                        intro_seconds=extra[0], outro_seconds=extra[1])


def _clip(request: RenderRequest, clip: Path, work: _Work):
    return prepare_clip(clip, request.chunk_cache, request.width, request.height, request.fps, CHUNK_FRAMES,
                        progress=lambda t: work.at(0, f"preparing the presenter clip {clip.name} ({t.elapsed:.0f} s)"))


def _assemble(request: RenderRequest, pieces: list["_Piece"], clips: list, work: _Work) -> Path:
    """The video stream: clip, then each piece's chunks (repeated and cut for stills), then clip."""
    stream = request.work_dir / "video.h264"
    cache: dict[str, list[bytes]] = {}
    written = 0
    with open(stream, "wb") as out:
        if clips[0]:
            out.write(b"".join(clips[0].units))
        for piece in pieces:
            if piece.frames == 0:
                continue
            if piece.key not in cache:
                cache[piece.key] = split_access_units((request.chunk_cache / f"{piece.key}.h264").read_bytes())
            units = cache[piece.key]
            if piece.motion:
                out.write(b"".join(units))
            else:
                whole, rest = divmod(piece.frames, len(units))
                chunk = b"".join(units)
                for _ in range(whole):
                    out.write(chunk)
                out.write(b"".join(units[:rest]))
            written += piece.frames
            work.at(0, f"assembling the video stream: {written} frames")
        if clips[1]:
            out.write(b"".join(clips[1].units))
    return stream


@dataclass
class _Piece:
    """A run of the stream: one still repeated, or a moving segment rendered frame by frame."""

    key: str
    frames: int
    shots: list[Shot]
    spans: list[int]
    motion: bool


def _pieces(request: RenderRequest, spans: list[int], digest, logo_digest: str | None) -> list[_Piece]:
    pieces: list[_Piece] = []
    for shot, frames in zip(request.shots, spans):
        if shot.motion and pieces and pieces[-1].motion and pieces[-1].shots[0].segment == shot.segment:
            pieces[-1].shots.append(shot)
            pieces[-1].spans.append(frames)
            pieces[-1].frames += frames
        else:
            pieces.append(_Piece("", frames, [shot], [frames], shot.motion))
    for piece in pieces:
        font = find_font(request.language)
        shot = piece.shots[0]
        if piece.motion:
            piece.key = item_key("motion", RENDER_VERSION, CHUNK_FRAMES, request.width, request.height, request.fps,
                                 digest(shot.image), [(s.text, n) for s, n in zip(piece.shots, piece.spans)],
                                 request.language, font, logo_digest)
        else:
            piece.key = item_key("chunk", RENDER_VERSION, CHUNK_FRAMES, request.width, request.height, request.fps,
                                 digest(shot.image), shot.text, request.language, font, logo_digest)
    return pieces


def _render_motion(request: RenderRequest, piece: _Piece, work: _Work) -> None:
    """Render a moving segment: every frame of its cues, subtitles overlaid at their frames."""
    from pipeline.render.motion import motion_args
    from pipeline.render.stills import compose_still, subtitle_layer

    size = (request.width, request.height)
    folder = request.work_dir / f"motion-{piece.key}"
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "base.png"
    compose_still(piece.shots[0].image, "", request.language, size).save(base)
    layers, first = [], 0
    segment = piece.shots[0].segment
    for n, (shot, frames) in enumerate(zip(piece.shots, piece.spans)):
        work.at(0, f"moving segment {segment}: subtitle {n + 1} of {len(piece.shots)}")
        if frames and shot.text:
            layer = folder / f"sub-{n}.png"
            subtitle_layer(shot.text, request.language, size).save(layer)
            layers.append((layer, first, first + frames - 1))
        first += frames
    raw = folder / "motion.h264"
    ffmpeg.run(motion_args(base, layers, request.logo, raw, piece.frames, request.width, request.height,
                           request.fps, CHUNK_FRAMES), f"rendering the moving segment {segment}",
               progress=lambda t: work.at(t.frames, f"moving segment {segment}: frame {t.frames} of {piece.frames}"))
    work.add(piece.frames)
    units = split_access_units(raw.read_bytes())
    if len(units) != piece.frames:
        raise RenderError(f"the moving segment came out with {len(units)} frames for {piece.frames}")
    atomic_write(request.chunk_cache / f"{piece.key}.h264", raw.read_bytes())
    shutil.rmtree(folder, ignore_errors=True)


def _encode_chunks(request: RenderRequest, missing: dict[str, Shot], work: _Work) -> None:
    """Compose and encode every missing still in one ffmpeg process, then cut its output into chunks."""
    if not missing:
        return
    raw = request.work_dir / "chunks.h264"
    args = ffmpeg.chunk_encode_args(raw, request.width, request.height, request.fps, CHUNK_FRAMES)
    encoder = ffmpeg.Running(args, "encoding video chunks", stdin=True, progress=True)
    total = len(missing) * CHUNK_FRAMES
    maker = StillMaker(request.language, (request.width, request.height), request.logo)
    try:
        for n, shot in enumerate(missing.values()):
            work.at(n * CHUNK_FRAMES, f"encoding still {n + 1} of {len(missing)}")
            encoder.stdin.write(maker.frame(shot.image, shot.text))  # type: ignore[union-attr]
        encoder.stdin.close()  # type: ignore[union-attr]
    except BrokenPipeError:
        pass  # the encoder died; wait() reports why
    except BaseException:
        encoder.kill()
        raise
    encoder.wait(lambda t: work.at(t.frames, f"encoding video chunks: frame {t.frames} of {total}"))
    work.add(total)
    units = split_access_units(raw.read_bytes())
    if len(units) != total:
        raise RenderError(f"the encoder returned {len(units)} frames for {total}: cannot cut chunks")
    for n, key in enumerate(missing):
        atomic_write(request.chunk_cache / f"{key}.h264", b"".join(units[n * CHUNK_FRAMES:(n + 1) * CHUNK_FRAMES]))
    raw.unlink(missing_ok=True)
