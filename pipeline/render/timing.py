"""Subtitle cues: splitting text into spoken lines, frame-exact spans, SRT and WebVTT."""

import re
from collections.abc import Sequence

_SENTENCE = {
    "en": re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+"),
    "zh": re.compile(r"(?<=[。！？；])"),
}
_CLAUSE = {"en": re.compile(r"(?<=[,;:])\s+"), "zh": re.compile(r"(?<=[，、：])")}
# Longest cue, in words (en) or characters (zh): two subtitle lines.
MAX_CUE_UNITS = {"en": 16, "zh": 30}


def _units(text: str, language: str) -> int:
    return len(text) if language == "zh" else len(text.split())


def _halve(text: str, language: str) -> list[str]:
    if language == "zh":
        mid = len(text) // 2
        return [text[:mid], text[mid:]]
    words = text.split()
    mid = len(words) // 2
    return [" ".join(words[:mid]), " ".join(words[mid:])]


def split_cues(text: str, language: str) -> list[str]:
    """Split narration into cues: sentences, long ones at clauses, then in halves, each <= 2 lines."""
    lang = language if language in _SENTENCE else "en"
    limit = MAX_CUE_UNITS[lang]
    cues: list[str] = []
    for sentence in _SENTENCE[lang].split(text.strip()):
        sentence = sentence.strip()
        if not sentence:
            continue
        pending = [sentence]
        while pending:
            piece = pending.pop(0).strip()
            if _units(piece, lang) <= limit:
                cues.append(piece)
                continue
            clauses = [c for c in _CLAUSE[lang].split(piece) if c.strip()]
            pending[:0] = _merge(clauses, lang, limit) if len(clauses) > 1 else _halve(piece, lang)
    return cues


def _merge(parts: list[str], language: str, limit: int) -> list[str]:
    """Join neighbouring clauses while they fit in one cue."""
    joiner = "" if language == "zh" else " "
    merged: list[str] = []
    for part in parts:
        if merged and _units(merged[-1] + joiner + part, language) <= limit:
            merged[-1] = merged[-1] + joiner + part
        else:
            merged.append(part)
    return merged


def frame_spans(starts: Sequence[float], total: float, fps: int) -> list[int]:
    """Frames each cue is shown: cue i runs from frame round(start_i*fps) to the next cue's first.

    The spans add up to exactly round(total*fps), so the video matches the audio to the frame.
    """
    bounds = [round(s * fps) for s in starts] + [round(total * fps)]
    return [max(0, b - a) for a, b in zip(bounds, bounds[1:])]


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[tuple[float, float, str]]) -> str:
    """SubRip text for (start, end, text) cues."""
    blocks = [f"{n}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{t}\n" for n, (a, b, t) in enumerate(cues, 1)]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[tuple[float, float, str]]) -> str:
    """WebVTT text for (start, end, text) cues."""
    blocks = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{t}\n" for a, b, t in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)
