"""The rules asset checks apply: pure functions from artifacts to a list of violations."""

from pipeline.defs.text.models import Chapters, Outline
from pipeline.defs.video.models import Narration


def chapters_missing(outline: Outline, chapters: Chapters) -> list[str]:
    """Outline chapters not written, or written empty."""
    written = {c.index: c for c in chapters.chapters}
    problems = []
    for plan in outline.chapters:
        chapter = written.get(plan.index)
        if chapter is None:
            problems.append(f"chapter {plan.index} ({plan.title}) was not written")
        elif not chapter.text.strip():
            problems.append(f"chapter {plan.index} ({plan.title}) is empty")
    return problems


def cue_gaps(narration: Narration, tolerance: float = 0.002) -> list[str]:
    """Where subtitle cues fail to cover the narration from 0 to its end without gaps or overlaps."""
    problems = []
    position = 0.0
    for cue in narration.cues:
        if abs(cue.start - position) > tolerance:
            problems.append(f"cue {cue.index}: starts at {cue.start:.3f} s, previous ends at {position:.3f} s")
        if cue.end <= cue.start:
            problems.append(f"cue {cue.index}: ends at {cue.end:.3f} s, not after its start")
        position = cue.end
    if abs(position - narration.duration) > tolerance:
        problems.append(f"cues end at {position:.3f} s, narration lasts {narration.duration:.3f} s")
    return problems


def duration_mismatch(video_seconds: float, expected_seconds: float, tolerance: float = 0.02) -> str | None:
    """A message when the video's duration is off the expected one by more than `tolerance`."""
    if expected_seconds <= 0 or abs(video_seconds - expected_seconds) > tolerance * expected_seconds:
        return f"video lasts {video_seconds:.3f} s, expected {expected_seconds:.3f} s within {tolerance:.0%}"
    return None
