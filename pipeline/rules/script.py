"""The shape of a narrated-video script: its timing bounds, how many segments, and what a valid one is."""

import math
from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel

INTRO, SEGMENT, OUTRO = "intro", "segment", "outro"


class VideoTiming(Protocol):
    """The brief's video settings that bound a script (pipeline.brief.VideoSettings)."""

    @property
    def segment_min_seconds(self) -> float: ...
    @property
    def segment_max_seconds(self) -> float: ...
    @property
    def total_min_seconds(self) -> float: ...
    @property
    def total_max_seconds(self) -> float: ...
    @property
    def target_seconds(self) -> float: ...


class TimedSegment(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def duration(self) -> float: ...


class TimedScript(Protocol):
    """What the rules read of a script (pipeline.defs.video.models.Script)."""

    @property
    def segments(self) -> Sequence[TimedSegment]: ...
    @property
    def total_seconds(self) -> float: ...


class ScriptBounds(BaseModel):
    segment_min: float
    segment_max: float
    total_min: float
    total_max: float
    target: float


def bounds_of(video: VideoTiming) -> ScriptBounds:
    """The bounds a brief's video settings set on its script."""
    return ScriptBounds(segment_min=video.segment_min_seconds, segment_max=video.segment_max_seconds,
                        total_min=video.total_min_seconds, total_max=video.total_max_seconds,
                        target=video.target_seconds)


def most_segments(total_max: float, segment_min: float) -> int:
    """The segments a brief allows for (ken_burns indexes): the longest total in shortest segments, intro and outro."""
    return int(total_max // segment_min) + 2


def segment_count(bounds: ScriptBounds) -> int:
    """How many segments: about target / mid-segment length, at least 3, feasible for the bounds."""
    low, high, target = bounds.segment_min, bounds.segment_max, bounds.target
    preferred = round(target / ((low + high) / 2))
    if math.ceil(target / high) <= math.floor(target / low):
        preferred = min(max(preferred, math.ceil(target / high)), math.floor(target / low))
    fewest, most = math.ceil(bounds.total_min / high), math.floor(bounds.total_max / low)
    return max(1, min(max(preferred, 3, fewest), most))


def segment_kinds(count: int) -> list[str]:
    """The kind of each of `count` segments: an intro, segments between, an outro (a lone segment is the intro)."""
    if count == 1:
        return [INTRO]
    return [INTRO, *[SEGMENT] * (count - 2), OUTRO]


def violations(script: TimedScript, bounds: ScriptBounds) -> list[str]:
    """Every timing rule the script breaks, naming the segment, its duration and the rule."""
    problems = []
    for n, segment in enumerate(script.segments):
        if segment.index != n:
            problems.append(f"segment {n}: index is {segment.index}, expected {n}")
        if not bounds.segment_min <= segment.duration <= bounds.segment_max:
            problems.append(
                f"segment {n}: duration {segment.duration:g} s is outside "
                f"{bounds.segment_min:g}-{bounds.segment_max:g} s"
            )
    total = script.total_seconds
    if not bounds.total_min <= total <= bounds.total_max:
        problems.append(f"total: {total:g} s is outside {bounds.total_min:g}-{bounds.total_max:g} s")
    kinds = [s.kind for s in script.segments]
    if kinds[0] != INTRO or kinds[-1] != OUTRO or len(kinds) < 3:
        problems.append("structure: the script must open with an intro and close with an outro, segments between")
    return problems
