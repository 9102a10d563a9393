"""Footage in the slideshow: video clips (the user's or stock) as segments, and pictures fitted to the frame.

A clip segment is encoded on its own, as a moving segment is (render/motion.py): the clip decoded from
its start, looped when it is shorter than the segment and cut at the segment's last frame, scaled to
the format by cover (fill, crop the overflow) or contain (all of it, black bars), at the video's
rate; the subtitles of the segment's cues, the title card and the logo are overlaid at their frames.
It has exactly the frames its cues span, in closed chunks with the slideshow's encoder settings (the
same as presenter clips, render/clips.py), so it drops into the stream between still chunks. Its
own sound is dropped, or mixed under the narration at the level the brief sets.
"""

import shutil
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from pipeline.render import ffmpeg
from pipeline.render.audio import LOUDNESS_TARGET
from pipeline.render.frame import Frame
from pipeline.render.h264 import split_access_units
from pipeline.render.pieces import ClipSource, Piece
from pipeline.render.subtitle_style import DEFAULT, SubtitleStyle
from pipeline.store import atomic_write, file_digest, item_key

FOOTAGE_VERSION = 1  # bump when the clip filters or their encoding change, to invalidate cached pieces
POSTER_AT = 0.0  # seconds into a clip of its poster frame: the first frame, the one the segment opens with


def fit_filter(width: int, height: int, fit: str, bt709: bool = False) -> str:
    """ffmpeg filters scaling a picture to width x height by cover (crop) or contain (pad); with `bt709`, its
    colours converted to the BT.709 limited range the slideshow's stills are encoded in (an untagged clip is
    read as BT.601, as players read it), so a clip and a still of the same picture look the same."""
    colours = ":out_color_matrix=bt709:out_range=tv" if bt709 else ""
    if fit == "contain":
        return (f"scale={width}:{height}:force_original_aspect_ratio=decrease{colours},"
                f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")
    return f"scale={width}:{height}:force_original_aspect_ratio=increase{colours},crop={width}:{height},setsar=1"


def fit_image(source: Path, size: tuple[int, int], fit: str) -> Image.Image:
    """An image of the user's as RGB at `size`: covering it (cropped at the centre) or contained (black bars)."""
    with Image.open(source) as opened:
        opened.seek(0)
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    if fit == "contain":
        return ImageOps.pad(picture, size, method=Image.Resampling.LANCZOS, color=(0, 0, 0))
    return ImageOps.fit(picture, size, method=Image.Resampling.LANCZOS)


def poster_args(clip: Path, out: Path, width: int, height: int, fit: str) -> list[str]:
    """The clip's first frame, fitted to the frame, as a PNG (the segment's picture on contact sheets and covers)."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-ss", f"{POSTER_AT:g}",
            "-i", str(clip), "-map", "0:v:0", "-frames:v", "1", "-vf", fit_filter(width, height, fit),
            "-update", "1", str(out)]


def save_poster(clip: Path, out: Path, width: int, height: int, fit: str) -> Path:
    """Write the poster frame of `clip` at `out` (atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    ffmpeg.run(poster_args(clip, tmp, width, height, fit), f"taking the first frame of {clip.name}")
    tmp.replace(out)
    return out


def clip_piece_args(clip: ClipSource, layers: list[ffmpeg.Overlay], logo: tuple[Path, int, int] | None,
                    out: Path, frames: int, width: int, height: int, fps: int, chunk_frames: int) -> list[str]:
    """ffmpeg arguments: `frames` frames of the clip (looped as needed) fitted to the frame, each layer (a band as
    wide as the frame: a subtitle's rows only, so little is decoded per frame) shown on frames [a, b] at its row,
    `logo` (a picture already scaled and faded, its x and y) on top."""
    return ffmpeg.segment_args(["-stream_loop", "-1", "-i", str(clip.path)],
                               f"[0:v:0]fps={fps},{fit_filter(width, height, clip.fit, bt709=True)}[v0]",
                               layers, logo, out, frames, fps, chunk_frames)


def piece_key(version: int, chunk_frames: int, frame: Frame, fps: int, digest: str, piece: Piece, language: str,
              font: str, logo_key: str | None, title: tuple | None, style: tuple = ()) -> str:
    """Everything that draws a clip segment: the clip's content and fit, its cues (and highlighted words) and
    their frames, the look (`style`: the subtitle style's key, nothing for the default look)."""
    clip = piece.shots[0].clip
    return item_key("clip-piece", version, FOOTAGE_VERSION, chunk_frames, frame, fps, digest, clip.fit,  # type: ignore[union-attr]
                    [(s.text, n) if s.highlight is None else (s.text, n, s.highlight)
                     for s, n in zip(piece.shots, piece.spans)], language, font, logo_key, title, piece.titled, *style)


def render_clip_piece(piece: Piece, out: Path, work_dir: Path, frame: Frame, language: str, logo, title: str,
                      fps: int, chunk_frames: int, work, style: SubtitleStyle = DEFAULT) -> None:
    """Encode one clip segment into `out` (a closed-chunk H.264 stream of exactly `piece.frames` frames), its
    subtitles in `style` (already placed clear of the logo), a word-mode shot's word highlighted."""
    from pipeline.render.overlays import place_logo, title_layer
    from pipeline.render.stills import subtitle_layer, subtitle_rows

    clip = piece.shots[0].clip
    assert clip is not None
    segment = piece.shots[0].segment
    folder = work_dir / f"clip-{piece.key}"
    folder.mkdir(parents=True, exist_ok=True)
    layers, first = [], 0
    if piece.titled:
        title_layer(title, language, frame, style.font).save(folder / "title.png")
        layers.append((folder / "title.png", 0, piece.titled - 1, 0))
    for n, (shot, frames) in enumerate(zip(piece.shots, piece.spans)):
        work.at(0, f"clip segment {segment}: subtitle {n + 1} of {len(piece.shots)}")
        if frames and shot.text:
            layer = folder / f"sub-{n}.png"
            top, bottom = subtitle_rows(shot.text, language, frame, style)
            subtitle_layer(shot.text, language, frame, dy=top, height=bottom - top, style=style,
                           highlight=shot.highlight).save(layer)
            layers.append((layer, first, first + frames - 1, top))
        first += frames
    mark = None
    if logo is not None:
        picture, (x, y) = place_logo(logo, frame)
        picture.save(folder / "logo.png")
        mark = (folder / "logo.png", x, y)
    raw = folder / "clip.h264"
    ffmpeg.run(clip_piece_args(clip, layers, mark, raw, piece.frames, frame.width, frame.height, fps, chunk_frames),
               f"rendering the clip segment {segment} ({clip.path.name})",
               progress=lambda t: work.at(t.frames, f"clip segment {segment}: frame {t.frames} of {piece.frames}"))
    work.add(piece.frames)
    data = raw.read_bytes()
    units = split_access_units(data)
    if len(units) != piece.frames:
        raise ffmpeg.RenderError(f"the clip segment {segment} came out with {len(units)} frames for {piece.frames}")
    atomic_write(out, data)
    shutil.rmtree(folder, ignore_errors=True)


CLIP_WORKERS = 2  # clip segments encoded at once: one ffmpeg's filters (decode, scale, overlays) run on one core


class _Tally:
    """What a clip segment's encoder thread has done, read by the thread that reports progress."""

    def __init__(self, frames: dict[str, int], key: str):
        self.frames, self.key = frames, key

    def at(self, done: int, message: str) -> None:
        self.frames[self.key] = done

    def add(self, units: int) -> None:
        self.frames[self.key] = units


def render_clip_pieces(pieces: list[Piece], cache: Path, work_dir: Path, frame: Frame, language: str, logo,
                       title: str, fps: int, chunk_frames: int, work, workers: int = CLIP_WORKERS,
                       style: SubtitleStyle = DEFAULT) -> None:
    """Encode clip segments into `cache` (`<key>.h264`), `workers` at a time; progress is reported from this
    thread every second (`work.at`), and each segment's frames are added to `work` once all are done."""
    if not pieces:
        return
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    frames: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(pieces))), thread_name_prefix="clip-piece") as pool:
        futures = [pool.submit(render_clip_piece, p, cache / f"{p.key}.h264", work_dir, frame, language, logo, title,
                               fps, chunk_frames, _Tally(frames, p.key), style) for p in pieces]
        try:
            pending = futures
            while pending:
                finished, left = wait(pending, timeout=1.0, return_when=FIRST_EXCEPTION)
                for future in finished:
                    future.result()  # the first failure stops the others from starting
                pending = list(left)
                work.at(sum(frames.values()), f"clip segments: {len(futures) - len(pending)} of {len(futures)} "
                                              f"encoded, frame {sum(frames.values())} of {sum(p.frames for p in pieces)}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    work.add(sum(p.frames for p in pieces))


def clip_sound_args(clip: Path, out: Path, rate: int) -> list[str]:
    """A clip's sound, loudness-normalised like the narration, mono PCM at `rate`."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(clip), "-map", "0:a:0",
            "-af", f"loudnorm=I={LOUDNESS_TARGET:g}:TP=-1.5:LRA=11", "-ac", "1", "-ar", str(rate),
            "-c:a", "pcm_s16le", str(out)]


def _has_sound(clip: Path) -> bool:
    return any(s.get("codec_type") == "audio" for s in ffmpeg.probe(clip)["streams"])


def mix_clip_sound(pieces: list[Piece], narration: Path, work_dir: Path, cache: Path, fps: int,
                   offset_seconds: float = 0.0) -> Path:
    """`narration` with the sound of every clip segment whose level is above 0 mixed in under it, looped and cut
    like the clip's picture; `narration` itself when there is none. `offset_seconds`: where the pieces start
    in the track (after a presenter intro)."""
    loud = [(p, start) for p, start in _starts(pieces) if p.frames and p.shots[0].clip is not None
            and p.shots[0].clip.audio > 0]
    if not loud:
        return narration
    with wave.open(str(narration), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        if w.getsampwidth() != 2 or channels != 1:
            raise ffmpeg.RenderError(f"{narration}: expected 16-bit mono, got {8 * w.getsampwidth()}-bit x {channels}")
        track = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)
    mixed = 0
    for piece, start in loud:
        clip = piece.shots[0].clip
        assert clip is not None
        if not _has_sound(clip.path):
            continue
        sound = cache / f"{item_key('clip-sound', FOOTAGE_VERSION, file_digest(clip.path), rate)}.wav"
        if not sound.exists():
            tmp = sound.with_name(f".{sound.name}")
            ffmpeg.run(clip_sound_args(clip.path, tmp, rate), f"extracting the sound of {clip.path.name}")
            tmp.replace(sound)
        with wave.open(str(sound), "rb") as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)
        if not len(samples):
            continue
        first = round((offset_seconds + start / fps) * rate)
        length = min(round(piece.frames / fps * rate), len(track) - first)
        if length <= 0:
            continue
        looped = np.resize(samples, length)  # repeats the sound as the picture loops
        track[first:first + length] += clip.audio * looped
        mixed += 1
    if not mixed:
        return narration
    out = work_dir / "narration-with-clips.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.rint(track), -32768, 32767).astype(np.int16).tobytes())
    return out


def _starts(pieces: list[Piece]) -> list[tuple[Piece, int]]:
    """Each piece with the frame it starts at."""
    found, at = [], 0
    for piece in pieces:
        found.append((piece, at))
        at += piece.frames
    return found
