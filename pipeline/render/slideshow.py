"""The renderer: a narrated slideshow encoded one unique frame at a time.

A slideshow shows one still per subtitle cue, so almost every frame repeats the one before it.
Each distinct still is composed once and encoded once, as a closed chunk of `CHUNK_FRAMES` frames
starting with an IDR frame; the video stream is then assembled by copying chunks (and the first
frames of a chunk for a cue's remainder) and muxed with the AAC track, which is encoded at the same
time. The frame count is exact by construction: round(total x fps). Chunks are cached by the
content that made them, so a re-render encodes only stills that changed.
"""

import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg, karaoke
from pipeline.render.clips import join_audio, prepare_clip
from pipeline.render.ffmpeg import RenderError
from pipeline.render.fonts import font_key
from pipeline.render.footage import mix_clip_sound, piece_key, render_clip_pieces
from pipeline.render.frame import Frame, frame_for
from pipeline.render.h264 import split_access_units
from pipeline.render.overlays import Logo, frame_with_logo, place_logo
from pipeline.render.pieces import Piece, Shot, cut
from pipeline.render.music import AudioMix, mix_track
from pipeline.render.stills import StillMaker
from pipeline.render.subtitle_style import DEFAULT as PLAIN, SubtitleStyle, placed
from pipeline.render.timing import frame_spans
from pipeline.store import atomic_write, file_digest, item_key

CHUNK_FRAMES = 20
RENDER_VERSION = 4  # bump when stills or encoder settings change, to invalidate cached chunks
TITLE_LOOK = 2  # in the keys of titled pieces: 2 = the title card in the subtitle font


@dataclass
class RenderRequest:
    shots: list[Shot]
    audio: Path
    total: float  # seconds of audio: the video has exactly round(total * fps) frames
    out: Path
    work_dir: Path
    chunk_cache: Path
    language: str = "en"
    logo: Logo | None = None
    title: str = ""  # the MP4's title, and the title card's text
    frame: Frame = field(default_factory=frame_for)  # the format: size, safe area, subtitle size
    fps: int = 30
    intro: Path | None = None  # presenter clips, any size and rate, scaled and padded to the frame: before, after
    outro: Path | None = None
    title_card_seconds: float = 0.0  # the title over the first seconds of the shots (0: no title card)
    subtitles: SubtitleStyle = PLAIN  # their look; in word mode the shots are one per word (render/karaoke.py)
    mix: AudioMix | None = None  # music under the voice and the loudness target (render/music.py); None: the voice

    @property
    def width(self) -> int:
        return self.frame.width

    @property
    def height(self) -> int:
        return self.frame.height


@dataclass
class RenderResult:
    path: Path
    frames: int
    stills: int
    stills_encoded: int
    encoded_frames: int  # frames the still and word encoders analysed (the rest are re-stamped skip frames)
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
    logo_key = request.logo.key() if request.logo else None

    def digest(path: Path) -> str:
        if path not in digests:
            digests[path] = file_digest(path)
        return digests[path]

    frame = frame_with_logo(request.frame, request.logo)  # subtitles above a logo in a bottom corner
    pieces = _pieces(request, spans, digest, logo_key, frame)
    keys = [p.key for p in pieces if not p.motion]
    missing = {p.key: p for p in pieces if not p.motion and p.frames > 0
               and not (request.chunk_cache / f"{p.key}.h264").exists()}
    runs = karaoke.take_runs(missing)  # word mode: each cue's word stills, encoded as one run
    moving = list({p.key: p for p in pieces if p.motion and p.frames > 0
                   and not (request.chunk_cache / f"{p.key}.h264").exists()}.values())
    work = _Work(progress or (lambda done, total, message: None),
                 len(missing) * CHUNK_FRAMES + sum(len(r.looks) for r in runs.values())
                 + sum(p.frames for p in moving) + total_frames // MUX_UNIT + 1)

    clips = [_clip(request, c, work) if c else None for c in (request.intro, request.outro)]
    audio_in = request.audio
    if any(clips):
        silence = np.zeros(0, np.int16)
        audio_in = join_audio([c.audio if c else silence for c in clips], request.audio,
                              request.work_dir / "audio-with-presenter.wav")
    audio_in = mix_clip_sound(pieces, audio_in, request.work_dir, request.chunk_cache, request.fps,
                              len(clips[0].units) / request.fps if clips[0] else 0.0)  # clips' own sound, if kept
    mixed = request.mix is not None and request.mix.needed  # music, or another loudness: the final mix
    track = item_key("aac", RENDER_VERSION, ffmpeg.AAC_CODER, file_digest(audio_in),
                     *([request.mix.key()] if mixed else []))
    audio_out = request.chunk_cache / f"{track}.m4a"
    audio = None
    if not audio_out.exists():  # a re-render whose narration did not change reuses the encoded track
        if mixed:
            audio_in = mix_track(request.mix, audio_in, request.work_dir, _speech(request, clips),
                                 progress=lambda t: work.at(0, f"mixing the music under the voice ({t.elapsed:.0f} s)"))
        audio = ffmpeg.Running(ffmpeg.aac_args(audio_in, audio_out.with_name(f".{audio_out.name}")),
                            "AAC encoding of the narration")
    try:
        _encode_chunks(request, frame, missing, work)
        work.add(karaoke.encode_runs(runs, StillMaker(request.language, frame, request.logo, request.title,
                                                      request.subtitles), request.width, request.height,
                                     request.fps, request.chunk_cache, request.work_dir, work.at))
        render_clip_pieces([p for p in moving if p.clip is not None], request.chunk_cache, request.work_dir, frame,
                           request.language, request.logo, request.title, request.fps, CHUNK_FRAMES, work,
                           style=placed(request.subtitles, frame, request.logo))
        for piece in moving:  # video clips fill their segments above (render/footage.py), zooms here
            if piece.clip is None:
                _render_motion(request, frame, piece, work)
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
    words = {p.key: len(p.looks) for p in pieces if isinstance(p, karaoke.Run)}  # a run: one still per word
    encoded_words = sum(len(r.looks) for r in runs.values())
    stills = len(set(keys)) + sum(words.values()) - len(words)
    return RenderResult(path=request.out, frames=total_frames, stills=stills,
                        stills_encoded=len(missing) + encoded_words,
                        encoded_frames=len(missing) + encoded_words,
                        motion_segments=sum(1 for p in pieces if p.motion and p.clip is None),
                        intro_seconds=extra[0], outro_seconds=extra[1])


def _clip(request: RenderRequest, clip: Path, work: _Work):
    return prepare_clip(clip, request.chunk_cache, request.width, request.height, request.fps, CHUNK_FRAMES,
                        progress=lambda t: work.at(0, f"preparing the presenter clip {clip.name} ({t.elapsed:.0f} s)"))


def _assemble(request: RenderRequest, pieces: list[Piece], clips: list, work: _Work) -> Path:
    """The video stream: clip, then each piece's chunks (repeated and cut for stills), then clip."""
    stream = request.work_dir / "video.h264"
    cache: dict[str, list[bytes]] = {}
    written = 0
    skip = karaoke.skip_frame(request.chunk_cache, request.width, request.height, request.fps) \
        if any(isinstance(p, karaoke.Run) for p in pieces) else b""
    with open(stream, "wb") as out:
        if clips[0]:
            out.write(b"".join(clips[0].units))
        for piece in pieces:
            if piece.frames == 0:
                continue
            if piece.key not in cache:
                cache[piece.key] = split_access_units((request.chunk_cache / f"{piece.key}.h264").read_bytes())
            units = cache[piece.key]
            if isinstance(piece, karaoke.Run):
                out.write(karaoke.assemble(piece, units, skip))
            elif piece.motion:
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


def _pieces(request: RenderRequest, spans: list[int], digest, logo_key: str | None, frame: Frame) -> list[Piece]:
    """The stream's pieces (a still cut in two where the title card ends), each keyed by all that draws it."""
    pieces = cut(request.shots, spans, round(request.title_card_seconds * request.fps) if request.title else 0)
    font = font_key(request.language, request.subtitles.font)
    style = request.subtitles.key()  # nothing for the default look: its chunks keep their keys
    titled = (request.title, TITLE_LOOK)  # what a titled piece's key says of its title card
    for piece in pieces:
        shot = piece.shots[0]
        title = titled if piece.titled else None
        if piece.clip is not None:
            piece.key = piece_key(RENDER_VERSION, CHUNK_FRAMES, frame, request.fps, digest(piece.clip.path), piece,
                                  request.language, font, logo_key, title, style)
        elif piece.motion:
            piece.key = item_key("motion", RENDER_VERSION, CHUNK_FRAMES, frame, request.fps,
                                 digest(shot.image), [(s.text, n) if s.highlight is None else (s.text, n, s.highlight)
                                                      for s, n in zip(piece.shots, piece.spans)],
                                 request.language, font, logo_key, title, piece.titled, *style)
        else:
            piece.key = item_key("chunk", RENDER_VERSION, CHUNK_FRAMES, frame, request.fps,
                                 digest(shot.image), shot.text, request.language, font, logo_key, title, *style)
    if request.subtitles.words:
        pieces = karaoke.runs(pieces, lambda run: item_key(
            "run", RENDER_VERSION, frame, request.fps, digest(run.shots[0].image), run.shots[0].text,
            request.language, font, logo_key, titled if run.titled else None, style, run.looks))
    return pieces


class StillsAhead:
    """Still chunks encoded while the images are still being made, for the render that follows.

    `look` is the render's request as far as it draws frames (format, logo, title, subtitle style; its audio,
    timing and outputs are not read). The images step adds each segment's shots as its picture is ready; one
    encoder takes their stills as they come, and `finish` cuts its output into the chunk cache under the keys
    `render_slideshow` looks for, so the render finds them encoded. Untitled stills of line mode only: the
    title card's stills, word runs, zooms and clips depend on the timing and are left to the render.
    """

    def __init__(self, look: RenderRequest):
        self.look = replace(look, title_card_seconds=0.0, shots=[])
        self.frame = frame_with_logo(look.frame, look.logo)
        self.enabled = not look.subtitles.words
        self.keys: list[str] = []  # in the order their stills went into the encoder
        self._queued: set[str] = set()
        self._stills: queue.Queue[Piece | None] = queue.Queue()
        self._encoder: ffmpeg.Running | None = None
        self._feeder: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def _raw(self) -> Path:
        return self.look.work_dir / "ahead.h264"

    def add(self, shots: list[Shot]) -> None:
        """Queue the stills of `shots` (one segment's cues) that are not cached yet."""
        if not self.enabled or not shots:
            return
        logo_key = self.look.logo.key() if self.look.logo else None
        pieces = _pieces(replace(self.look, shots=shots), [CHUNK_FRAMES] * len(shots), file_digest, logo_key,
                         self.frame)
        for piece in pieces:
            if piece.motion or piece.key in self._queued or (self.look.chunk_cache / f"{piece.key}.h264").exists():
                continue
            self._queued.add(piece.key)
            if self._encoder is None:
                self._start()
            self._stills.put(piece)

    def _start(self) -> None:
        self.look.work_dir.mkdir(parents=True, exist_ok=True)
        self.look.chunk_cache.mkdir(parents=True, exist_ok=True)
        look = self.look
        maker = StillMaker(look.language, self.frame, look.logo, look.title, look.subtitles)
        self._skip = karaoke.skip_frame(look.chunk_cache, look.width, look.height, look.fps)
        encoder = ffmpeg.Running(ffmpeg.chunk_encode_args(self._raw, look.width, look.height, look.fps),
                                 "encoding still chunks ahead", stdin=True)

        def stills():
            while (piece := self._stills.get()) is not None:
                self.keys.append(piece.key)
                yield maker.frame(piece.shots[0].image, piece.shots[0].text, False)

        def feed() -> None:
            try:
                encoder.feed(stills())
            except BaseException as e:  # raised in finish(), in the step's thread
                self._error = e

        try:
            feeder = threading.Thread(target=feed, name="stills-ahead", daemon=True)
            feeder.start()
        except BaseException:
            encoder.kill()
            raise
        self._encoder, self._feeder = encoder, feeder

    def finish(self) -> int:
        """Wait for the encoder and store its chunks; how many stills were encoded ahead."""
        if self._encoder is None:
            return 0
        self._stills.put(None)
        self._feeder.join()  # type: ignore[union-attr]
        self._encoder = None
        if self._error is not None:
            raise self._error
        _store_chunks(self._raw, self.keys, self.look.chunk_cache, self._skip)
        return len(self.keys)

    def abort(self) -> None:
        """Stop the encoder, store nothing (a cancel, or the step failed)."""
        encoder, feeder, self._encoder, self._feeder = self._encoder, self._feeder, None, None
        if encoder is None:
            return
        encoder.kill()
        self._stills.put(None)  # the feeder's stills end; its write to the dead encoder ends its feed
        if feeder is not None:
            feeder.join(timeout=10)
        self._raw.unlink(missing_ok=True)


def _speech(request: RenderRequest, clips: list) -> list[tuple[float, float]]:
    """The spans of the final track in which someone speaks: the presenter's clips and each cue's voice."""
    intro = len(clips[0].units) / request.fps if clips[0] else 0.0
    spans = [(0.0, intro)] if clips[0] else []
    spans += [(a + intro, b + intro) for a, b in (request.mix.speech if request.mix else ())]
    if clips[1]:
        spans.append((intro + request.total, intro + request.total + len(clips[1].units) / request.fps))
    return spans


def _render_motion(request: RenderRequest, frame: Frame, piece: Piece, work: _Work) -> None:
    """Render a moving segment: every frame of its cues, subtitles (and the title card) overlaid at their
    frames, the logo held still over the zoom."""
    from pipeline.render.motion import motion_args
    from pipeline.render.overlays import title_layer
    from pipeline.render.stills import compose_still, subtitle_layer

    folder = request.work_dir / f"motion-{piece.key}"
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "base.png"
    compose_still(piece.shots[0].image, "", request.language, frame).save(base)
    layers, first = [], 0
    segment = piece.shots[0].segment
    if piece.titled:
        title_layer(request.title, request.language, frame, request.subtitles.font).save(folder / "title.png")
        layers.append((folder / "title.png", 0, piece.titled - 1, 0))
    for n, (shot, frames) in enumerate(zip(piece.shots, piece.spans)):
        work.at(0, f"moving segment {segment}: subtitle {n + 1} of {len(piece.shots)}")
        if frames and shot.text:
            layer = folder / f"sub-{n}.png"
            subtitle_layer(shot.text, request.language, frame, style=placed(request.subtitles, frame, request.logo),
                           highlight=shot.highlight).save(layer)
            layers.append((layer, first, first + frames - 1, 0))
        first += frames
    logo = None
    if request.logo is not None:
        mark, (x, y) = place_logo(request.logo, frame)
        mark.save(folder / "logo.png")
        logo = (folder / "logo.png", x, y)
    raw = folder / "motion.h264"
    ffmpeg.run(motion_args(base, layers, logo, raw, piece.frames, request.width, request.height,
                           request.fps, CHUNK_FRAMES), f"rendering the moving segment {segment}",
               progress=lambda t: work.at(t.frames, f"moving segment {segment}: frame {t.frames} of {piece.frames}"))
    work.add(piece.frames)
    units = split_access_units(raw.read_bytes())
    if len(units) != piece.frames:
        raise RenderError(f"the moving segment came out with {len(units)} frames for {piece.frames}")
    atomic_write(request.chunk_cache / f"{piece.key}.h264", raw.read_bytes())
    shutil.rmtree(folder, ignore_errors=True)


def _encode_chunks(request: RenderRequest, frame: Frame, missing: dict[str, Piece], work: _Work) -> None:
    """Compose and encode every missing still in one ffmpeg process, then cut its output into chunks."""
    if not missing:
        return
    raw = request.work_dir / "chunks.h264"
    skip = karaoke.skip_frame(request.chunk_cache, request.width, request.height, request.fps)
    args = ffmpeg.chunk_encode_args(raw, request.width, request.height, request.fps)
    encoder = ffmpeg.Running(args, "encoding video chunks", stdin=True, progress=True)
    maker = StillMaker(request.language, frame, request.logo, request.title, request.subtitles)

    def stills():
        for n, piece in enumerate(missing.values()):
            work.at(n * CHUNK_FRAMES, f"encoding still {n + 1} of {len(missing)}")
            yield maker.frame(piece.shots[0].image, piece.shots[0].text, piece.titled > 0)

    encoder.feed(stills(), lambda t: work.at(t.frames * CHUNK_FRAMES,
                                             f"encoding video chunks: still {t.frames} of {len(missing)}"))
    work.add(len(missing) * CHUNK_FRAMES)
    _store_chunks(raw, list(missing), request.chunk_cache, skip)


def _store_chunks(raw: Path, keys: list[str], cache: Path, skip: bytes) -> None:
    """Cut the encoder's output `raw` (one IDR frame per key, in order) into the cache, each made a chunk of
    CHUNK_FRAMES frames by the skip frame."""
    units = split_access_units(raw.read_bytes())
    if len(units) != len(keys):
        raise RenderError(f"the encoder returned {len(units)} frames for {len(keys)} stills: cannot cut chunks")
    for key, unit in zip(keys, units):
        atomic_write(cache / f"{key}.h264", karaoke.still_chunk(unit, skip, CHUNK_FRAMES))
    raw.unlink(missing_ok=True)
