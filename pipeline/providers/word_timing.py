"""Word starts from piper's phoneme alignments: the audio samples each phoneme took, grouped into words.

piper speaks the espeak-ng phonemes of a text, words separated by a space phoneme, sentences each between
a start (`^`) and an end (`$`) mark. A text word can become several phoneme words (`1999` is three) or
none (a dash), so each word's own phonemes are counted first; when the counts add up to the sentence's,
word k starts where its first phoneme word does. When they do not, there is no timing (None) and the
video estimates it within the cue.
"""

from collections.abc import Sequence

_MARKS = {"^", "$", "_"}  # sentence start and end, padding
_PUNCTUATION = set(".,;:!?¡¿—–-…\"'«»“”„()[]")


def _groups(phonemes: Sequence[str]) -> list[int]:
    """Indexes in `phonemes` where each phoneme word (one with a sound, not punctuation alone) begins."""
    starts, current, voiced = [], None, False
    for n, p in enumerate([*phonemes, " "]):
        if p == " " or p in _MARKS:
            if current is not None and voiced:
                starts.append(current)
            current, voiced = None, False
            continue
        if current is None:
            current = n
        voiced = voiced or p not in _PUNCTUATION
    return starts


def word_starts(voice, text: str, alignments: Sequence, sample_rate: int) -> list[float] | None:
    """Seconds from the audio's start at which each word of `text` (split at spaces) begins, from piper's
    `PhonemeAlignment`s for it; None when its phonemes cannot be matched to its words."""
    if not alignments:
        return None
    phonemes = [a.phoneme for a in alignments]
    offsets, position = [], 0
    for a in alignments:
        offsets.append(position)
        position += int(a.num_samples)
    groups = _groups(phonemes)
    words = text.split()
    counts = []
    for word in words:
        try:
            counts.append(sum(len(_groups(sentence)) for sentence in voice.phonemize(word)))
        except Exception:  # noqa: BLE001 - a phonemizer failure only costs the timing
            return None
    if sum(counts) != len(groups) or not groups:
        return None
    starts, k = [], 0
    for count in counts:
        at = groups[min(k, len(groups) - 1)]
        starts.append(offsets[at] / sample_rate)
        k += count
    return starts
