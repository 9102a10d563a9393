"""Script shape: the bounds a brief sets, how many segments, and the timing rules a script must keep."""

import pytest

from pipeline.brief import parse_brief
from pipeline.defs.video.models import Script
from pipeline.rules.script import ScriptBounds, bounds_of, most_segments, segment_count, segment_kinds, violations

BOUNDS = ScriptBounds(segment_min=5, segment_max=20, total_min=30, total_max=60, target=40)


def _script(durations: list[float], kinds: list[str] | None = None) -> Script:
    kinds = kinds or segment_kinds(len(durations))
    return Script(title="T", segments=[
        {"index": n, "kind": kind, "text": "Words.", "duration": d, "image_description": "A picture."}
        for n, (kind, d) in enumerate(zip(kinds, durations))])


def test_bounds_come_from_the_briefs_video_settings():
    brief = parse_brief({"project_id": "p", "prompt": "x", "video": {
        "target_seconds": 90, "segment_min_seconds": 4, "segment_max_seconds": 12,
        "total_min_seconds": 60, "total_max_seconds": 120}})
    assert bounds_of(brief.video) == ScriptBounds(segment_min=4, segment_max=12, total_min=60, total_max=120, target=90)


@pytest.mark.parametrize("bounds, count", [
    ({"segment_min": 5, "segment_max": 20, "total_min": 180, "total_max": 600, "target": 240}, 19),
    ({"segment_min": 4, "segment_max": 12, "total_min": 20, "total_max": 60, "target": 30}, 4),
    ({"segment_min": 5, "segment_max": 20, "total_min": 10, "total_max": 30, "target": 20}, 3),  # at least 3
    ({"segment_min": 20, "segment_max": 40, "total_min": 10, "total_max": 30, "target": 20}, 1),  # one fits
])
def test_segment_count_aims_at_the_target_within_the_bounds(bounds, count):
    assert segment_count(ScriptBounds(**bounds)) == count


def test_kinds_open_with_an_intro_and_close_with_an_outro():
    assert segment_kinds(1) == ["intro"]
    assert segment_kinds(2) == ["intro", "outro"]
    assert segment_kinds(4) == ["intro", "segment", "segment", "outro"]


def test_a_brief_allows_segment_indexes_up_to_the_most_a_script_could_have():
    assert most_segments(600, 5) == 122 and most_segments(60, 7.5) == 10


def test_a_script_within_the_bounds_breaks_no_rule():
    assert violations(_script([10, 10, 10, 10]), BOUNDS) == []


def test_violations_name_the_segment_the_total_and_the_structure():
    script = _script([3, 10, 25], ["segment", "segment", "intro"])
    assert violations(script, BOUNDS) == [
        "segment 0: duration 3 s is outside 5-20 s",
        "segment 2: duration 25 s is outside 5-20 s",
        "structure: the script must open with an intro and close with an outro, segments between",
    ]
    short = _script([5, 5, 5])
    assert violations(short, BOUNDS) == ["total: 15 s is outside 30-60 s"]
    renumbered = short.model_copy(update={"segments": [s.model_copy(update={"index": 7}) for s in short.segments]})
    assert violations(renumbered, BOUNDS)[0] == "segment 0: index is 7, expected 0"
