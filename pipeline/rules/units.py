"""How text is counted: words (en) or CJK characters (zh) for lengths, and what a speech engine reads."""

import re

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in `text`."""
    return len(CJK.findall(text))


def language_of(text: str) -> str:
    """'zh' when CJK ideographs make up over a third of `text`, else 'en'."""
    return "zh" if cjk_count(text) * 3 > len(text) else "en"


def length_units(text: str, language: str) -> int:
    """Length as users count it (a brief's chapter_words, a chapter's words): words (en), CJK characters (zh)."""
    return cjk_count(text) if language == "zh" else len(text.split())


def speech_units(text: str, language: str) -> int:
    """What a speech engine reads: words (en) or CJK characters plus latin words (zh)."""
    if language == "zh":
        return cjk_count(text) + len(LATIN_WORD.findall(CJK.sub(" ", text)))
    return len(text.split())


def estimate_seconds(text: str, language: str, rate: float) -> float:
    """Narration seconds of `text` at `rate` units per second, rounded to 0.1."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    return round(speech_units(text, language) / rate, 1)
