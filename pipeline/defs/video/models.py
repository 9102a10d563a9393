"""Typed artifacts of the video assets: script, narration, images, video, thumbnail."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_Strict = ConfigDict(extra="forbid")


class Segment(BaseModel):
    model_config = _Strict
    index: int = Field(ge=0)
    kind: Literal["intro", "segment", "outro"]
    chapter: int | None = None
    text: str = Field(min_length=1)
    duration: float = Field(gt=0, description="estimated seconds of narration")
    image_description: str = Field(min_length=1)


class Script(BaseModel):
    model_config = _Strict
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    segments: list[Segment] = Field(min_length=1)

    @property
    def total_seconds(self) -> float:
        return sum(s.duration for s in self.segments)


class Cue(BaseModel):
    """One subtitle line, spoken as one piece of audio, timed from that audio."""

    index: int
    segment: int
    text: str
    start: float
    end: float
    audio: str  # relative to the project folder
    words: list[float] | None = None  # the speech engine's word starts, seconds from `start` (None: it gave none)

    @property
    def duration(self) -> float:
        return self.end - self.start


class Narration(BaseModel):
    path: str
    duration: float
    sample_rate: int
    voice: str
    cues: list[Cue]
    loudness_lufs: float | None = None


class FootageCredit(BaseModel):
    """Who made a stock clip, where it is, and its licence (pipeline/providers/footage.py's Credit)."""

    provider: str
    id: str
    author: str
    author_url: str = ""
    url: str = ""
    licence: str
    licence_url: str = ""

    def line(self) -> str:
        by = f"{self.author} ({self.author_url})" if self.author_url else self.author
        return f"{by}, {self.url or self.provider}: {self.licence}" + (
            f" ({self.licence_url})" if self.licence_url else "")


class SegmentImage(BaseModel):
    """A segment's visual: a still (`path`), or a video clip (`clip`, with `path` its first frame as a still)."""

    segment: int
    path: str  # relative to the project folder
    status: Literal["ok", "placeholder"]
    error: str | None = None
    kind: Literal["still", "clip"] = "still"
    source: Literal["images", "media", "footage"] = "images"  # the images provider, the brief's media, stock footage
    clip: str | None = None  # a clip's file, relative to the data folder
    fit: Literal["cover", "contain"] = "cover"
    audio: float = 0.0  # a clip's own sound under the narration (0: dropped)
    media: str | None = None  # the brief's file, as the brief names it
    credit: FootageCredit | None = None
    note: str | None = None  # e.g. why a segment meant for footage got a still


class Images(BaseModel):
    images: list[SegmentImage]
    status: Literal["success", "partial_success"]
    unused_media: list[str] = Field(default_factory=list)  # files of the brief no segment was left for

    @property
    def credits(self) -> list[FootageCredit]:
        """The footage credits, once each, in segment order."""
        seen: dict[tuple[str, str], FootageCredit] = {}
        for image in self.images:
            if image.credit is not None:
                seen.setdefault((image.credit.provider, image.credit.id), image.credit)
        return list(seen.values())


class Video(BaseModel):
    path: str
    srt: str
    vtt: str
    duration: float
    frames: int
    width: int
    height: int
    fps: int
    size_bytes: int


class Thumbnail(BaseModel):
    path: str
    width: int
    height: int
