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


class SegmentImage(BaseModel):
    segment: int
    path: str
    status: Literal["ok", "placeholder"]
    error: str | None = None


class Images(BaseModel):
    images: list[SegmentImage]
    status: Literal["success", "partial_success"]


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
