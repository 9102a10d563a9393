"""Counting text: lengths as users count them, and what a speech engine reads."""

import pytest

from pipeline.rules.units import estimate_seconds, language_of, length_units, speech_units


@pytest.mark.parametrize("text, language, length, speech", [
    ("one two  three\nfour", "en", 4, 4),
    ("你好世界，AI 来了。", "zh", 6, 7),  # punctuation and spaces are not counted; a latin word is spoken
    ("钟表匠的手艺", "zh", 6, 6),
])
def test_length_and_speech_units(text, language, length, speech):
    assert (length_units(text, language), speech_units(text, language)) == (length, speech)


def test_estimate_seconds_rounds_to_a_tenth_and_needs_a_rate():
    assert estimate_seconds("one two three", "en", 2.0) == 1.5
    with pytest.raises(ValueError, match="rate must be positive"):
        estimate_seconds("one", "en", 0)


def test_language_of_a_text():
    assert language_of("储能电池可以把白天多余的电留到晚上使用。") == "zh"
    assert language_of("Solar panels convert sunlight, 太阳.") == "en"
