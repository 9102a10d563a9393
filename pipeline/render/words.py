"""When each word of a cue is spoken: from the speech engine where it says (piper's phoneme durations), else
estimated within the cue's voiced stretch by syllables (English) or characters (Chinese).

A cue's engine timings are kept beside its WAV (`<cue>.words.json`, written by narration before the WAV
itself, so a WAV whose engine gave timings always has them); `Cue.words` carries them into the video step.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.render.audio import read_wav
from pipeline.render.subtitle_style import tokens
from pipeline.store import atomic_write

VOICED_DB = -35.0  # a 10 ms frame at most this far below the cue's loudest is silence
_VOWELS = re.compile(r"[aeiouy]+")
_HIATUS = re.compile(r"ia|io|eo|ua|uo|iu")  # two vowels, two syllables (giant, radio, video)
_CLAUSE_END = re.compile(r"[,;:.!?，、；：。！？…]$")


@dataclass(frozen=True)
class CueWords:
    """Word starts (seconds in the track) of one cue, when its speech ends, and where the starts come from."""

    starts: list[float]
    end: float
    source: str  # "engine" or "estimated"


def sidecar(wav: Path) -> Path:
    return wav.with_name(f"{wav.stem}.words.json")


def save_starts(wav: Path, starts: list[float] | None) -> None:
    """Keep the engine's word starts (seconds from the WAV's start) beside the cue's WAV."""
    if starts:
        atomic_write(sidecar(wav), json.dumps([round(s, 4) for s in starts]))


def load_starts(wav: Path) -> list[float] | None:
    """The engine's word starts of a cue's WAV, or None when it gave none (or the file is not usable)."""
    try:
        value = json.loads(sidecar(wav).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return [float(v) for v in value]
    return None


def voiced(wav: Path) -> tuple[float, float]:
    """The first and last second of a cue's WAV that are not silence (10 ms frames against the loudest)."""
    samples, rate = read_wav(wav)
    hop = max(1, rate // 100)
    count = len(samples) // hop
    if count == 0:
        return 0.0, len(samples) / max(rate, 1)
    frames = samples[:count * hop].astype(np.float32).reshape(count, hop)
    level = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-9)
    loud = np.nonzero(level >= level.max() + VOICED_DB)[0]
    if len(loud) == 0:
        return 0.0, len(samples) / rate
    return float(loud[0] * hop / rate), float(min(len(samples), (loud[-1] + 1) * hop) / rate)


def syllables(word: str) -> float:
    """A word's weight in speaking time: its vowel groups (digits count one each), a pause after a clause."""
    bare = word.lower()
    stem = bare.rstrip("e") or bare
    count = len(_VOWELS.findall(stem)) + len(_HIATUS.findall(stem)) + sum(c.isdigit() for c in bare)
    return max(1, count) + (0.6 if _CLAUSE_END.search(word) else 0.0)


def estimate(text: str, language: str, start: float, end: float) -> list[float]:
    """Word starts spread over [start, end] by weight: syllables (en), characters with a pause after
    punctuation (zh)."""
    words = tokens(text, language)
    if not words:
        return []
    if language == "zh":
        weights, k = [], -1
        for c in text:
            if words and k + 1 < len(words) and c == words[k + 1]:
                weights.append(1.0)
                k += 1
            elif weights and _CLAUSE_END.search(c):
                weights[-1] += 0.5
    else:
        weights = [syllables(w) for w in words]
    if len(weights) != len(words):
        weights = [1.0] * len(words)
    edges = np.concatenate([[0.0], np.cumsum(weights)[:-1]]) / sum(weights)
    return [start + float(e) * (end - start) for e in edges]


def cue_words(text: str, language: str, start: float, wav: Path, engine: list[float] | None) -> CueWords:
    """The word timing of a cue spoken from `start` (seconds in the track) from its WAV: the engine's starts
    when it gave one per word, else an estimate over the WAV's voiced stretch."""
    first, last = voiced(wav)
    count = len(tokens(text, language))
    if engine is not None and len(engine) == count and all(b >= a for a, b in zip(engine, engine[1:])):
        return CueWords([start + s for s in engine], start + last, "engine")
    return CueWords(estimate(text, language, start + first, start + last), start + last, "estimated")
