"""The user's own media: images and video clips under the data folder, assigned to the video's segments.

A brief's `media.files` lists files; each fills the segment it names (`segment`, from 0) or, without one,
the next segment no file names, in order. Every file is checked before anything runs, as hostile input:
a relative path that stays inside the data folder (symlinks resolved), a regular file, an image PIL
decodes or a video ffmpeg decodes with a video stream. Whether a named segment exists depends on the
script, so that is checked again at the `images` step, against the script's segment count.

More files than segments: files without a `segment` that find no segment left are not used (the
`images` step lists them in `media_unused` and logs a warning); a file naming a segment the script does
not have fails the step (BRIEF_INVALID, naming the index and the count). Fewer files than segments: the
segments no file fills get stock footage (when a footage provider is configured and `media.stock`) or
a still from the images provider, as without media.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.documents import resolve_data_path

MAX_MEDIA_FILES = 200
MAX_MEDIA_BYTES = 4 << 30  # 4 GiB: a clip of several minutes at a high bitrate
MAX_IMAGE_PIXELS = 12000 * 12000
PROBE_TIMEOUT = 60

Fit = Literal["cover", "contain"]
_Strict = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)


class MediaItem(BaseModel):
    """One file of the user's: an image or a video clip for one segment."""

    model_config = _Strict
    file: str = Field(min_length=1, max_length=500, description="an image or a video clip under the data folder")
    segment: int | None = Field(default=None, ge=0, description="the segment it fills (from 0); default: the "
                                                                "next segment no file names, in order")
    fit: Fit = Field(default="cover", description="cover (fill the frame, crop the overflow) or contain (all "
                                                  "of it, black bars)")
    audio: float = Field(default=0.0, ge=0, le=1, description="a clip's own sound under the narration, 0 (dropped) "
                                                              "to 1 (as loud as the narration)")


class MediaSettings(BaseModel):
    """The user's images and clips, and whether stock footage fills the other segments."""

    model_config = _Strict
    files: list[MediaItem] = Field(default_factory=list, max_length=MAX_MEDIA_FILES,
                                   description="images and clips, each for a segment (by index or in order)")
    stock: bool = Field(default=True, description="stock footage for the segments no file fills, when a footage "
                                                  "provider is configured (PIPELINE_FOOTAGE_PROVIDER)")

    @field_validator("files")
    @classmethod
    def _one_file_per_segment(cls, files: list[MediaItem]) -> list[MediaItem]:
        named = [f.segment for f in files if f.segment is not None]
        twice = sorted({s for s in named if named.count(s) > 1})
        if twice:
            raise ValueError(f"segment {', '.join(map(str, twice))} is given more than one file: a segment shows one")
        return files

    def check_range(self, most: int, why: str) -> None:
        """Refuse a segment index no script of these bounds can have (`most` segments, `why` says why)."""
        for n, item in enumerate(self.files):
            if item.segment is not None and item.segment >= most:
                raise ValueError(f"media.files.{n}.segment: segment {item.segment} is out of range: {why} has "
                                 f"segments 0 to {most - 1}")

    def check_files(self, data_dir: str | Path) -> list["MediaFile"]:
        """Every file checked (see `inspect`); the first broken rule raises a ValueError naming the file."""
        return [inspect(data_dir, item.file, f"media.files.{n}.file") for n, item in enumerate(self.files)]


@dataclass(frozen=True)
class MediaFile:
    """A checked file: its path, what it is, its picture size and (a clip) its length and whether it has sound."""

    path: Path
    kind: Literal["image", "clip"]
    width: int
    height: int
    seconds: float = 0.0
    has_audio: bool = False


def inspect(data_dir: str | Path, relative: str, field: str) -> MediaFile:
    """`relative` under the data folder as an image or a clip, or a ValueError naming the file and the rule."""
    path = resolve_data_path(data_dir, relative, field)  # inside the data folder, symlinks resolved; a regular file
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{field}: {relative!r} is empty: give an image or a video clip")
    if size > MAX_MEDIA_BYTES:
        raise ValueError(f"{field}: {relative!r} is larger than {MAX_MEDIA_BYTES >> 30} GiB")
    image = _image(path, relative, field)
    return image if image is not None else _clip(path, relative, field)


def _image(path: Path, relative: str, field: str) -> MediaFile | None:
    """The file as an image PIL decodes, None when it is not one (then it may be a video)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            animated = getattr(image, "is_animated", False)
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError(f"{field}: {relative!r} is {width}x{height}; an image may have at most "
                                 f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels")
            if animated and image.format in ("GIF", "WEBP", "PNG"):
                return None  # an animation plays as a clip
            image.load()
    except UnidentifiedImageError:
        return None
    except (OSError, SyntaxError, Image.DecompressionBombError) as e:
        raise ValueError(f"{field}: {relative!r} is an image that does not decode ({e})") from None
    return MediaFile(path=path, kind="image", width=width, height=height)


def _clip(path: Path, relative: str, field: str) -> MediaFile:
    """The file as a video ffmpeg decodes: a video stream (not cover art), a length, a first frame."""
    from pipeline.render.ffmpeg import MissingTool, tool

    try:
        ffprobe, ffmpeg = tool("ffprobe"), tool("ffmpeg")
    except MissingTool as e:
        raise ValueError(f"{field}: cannot check {relative!r}: {e}") from None
    try:
        probed = subprocess.run([ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                                 str(path)], capture_output=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ValueError(f"{field}: {relative!r} could not be read within {PROBE_TIMEOUT} s") from None
    info = json.loads(probed.stdout or b"{}") if probed.returncode == 0 else {}
    streams = info.get("streams") or []
    if probed.returncode != 0 or not streams:
        raise ValueError(f"{field}: {relative!r} is neither an image nor a video that ffmpeg can decode")
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        kinds = ", ".join(sorted({str(s.get("codec_type")) for s in streams}))
        raise ValueError(f"{field}: {relative!r} has no video stream (it has: {kinds}); a clip needs one")
    seconds = _seconds(video.get("duration")) or _seconds((info.get("format") or {}).get("duration"))
    if not seconds:
        raise ValueError(f"{field}: {relative!r} has a video stream of no known length; give a video file")
    try:
        decoded = subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-xerror", "-i", str(path), "-map",
                                  f"0:{video['index']}", "-frames:v", "1", "-f", "null", "-"],
                                 capture_output=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ValueError(f"{field}: {relative!r} did not decode within {PROBE_TIMEOUT} s") from None
    if decoded.returncode != 0:
        said = " ".join(decoded.stderr.decode(errors="replace").split())[-200:]
        raise ValueError(f"{field}: {relative!r}: its video stream ({video.get('codec_name', 'unknown codec')}) "
                         f"does not decode: {said or 'no frame'}")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ValueError(f"{field}: {relative!r}: its video stream has no picture size")
    rotation = _rotation(video)
    if rotation in (90, 270):
        width, height = height, width
    return MediaFile(path=path, kind="clip", width=width, height=height, seconds=seconds,
                     has_audio=any(s.get("codec_type") == "audio" for s in streams))


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return seconds if seconds > 0 else 0.0


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(side["rotation"]) % 360
    return int((stream.get("tags") or {}).get("rotate", 0)) % 360


@dataclass(frozen=True)
class Assignment:
    """Which file fills which segment (segment index -> the item's number in `media.files`), and the files left
    over: those without a segment that found none free."""

    by_segment: dict[int, int]
    unused: list[int]


class SegmentOutOfRange(ValueError):
    """A file names a segment the script does not have."""


def assign(media: MediaSettings, segments: int) -> Assignment:
    """Files to segments: named ones first, then the others in order into the segments left, lowest first.

    Raises SegmentOutOfRange naming the file, the index and the script's segment count.
    """
    by_segment: dict[int, int] = {}
    for n, item in enumerate(media.files):
        if item.segment is not None:
            if item.segment >= segments:
                raise SegmentOutOfRange(
                    f"media.files.{n}.segment: segment {item.segment} does not exist: the script has {segments} "
                    f"segment{'s' if segments != 1 else ''} (0 to {segments - 1}); {item.file!r} names it")
            by_segment[item.segment] = n
    free = iter(i for i in range(segments) if i not in by_segment)
    unused = []
    for n, item in enumerate(media.files):
        if item.segment is None:
            slot = next(free, None)
            if slot is None:
                unused.append(n)
            else:
                by_segment[slot] = n
    return Assignment(by_segment=dict(sorted(by_segment.items())), unused=unused)
