"""Word timings from the offline voice: piper's phoneme durations matched to the words, against its own audio;
kept beside the cue's WAV; estimated when an engine gives none."""

import wave

import numpy as np

from pipeline.providers.speech import OfflineSpeech
from pipeline.render.words import cue_words, load_starts, save_starts, voiced

SENTENCE = "The lamp was lit long before the ships came in, and the fog rolled over the bay."


def _samples(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(float), w.getframerate()


def test_piper_gives_a_start_for_every_word_where_its_sound_begins(tmp_path):
    result = OfflineSpeech().synthesize(SENTENCE, "en", None, tmp_path / "cue.wav")
    starts = result.words
    assert starts is not None and len(starts) == len(SENTENCE.split())
    assert all(b > a for a, b in zip(starts, starts[1:])) and 0 <= starts[0] < 0.3 and starts[-1] < result.duration
    samples, rate = _samples(tmp_path / "cue.wav")
    first, last = voiced(tmp_path / "cue.wav")
    assert abs(starts[0] - first) < 0.08, "the first word starts where the voice does"
    # after "in," piper pauses: the stretch before "and" is quieter than the word itself
    k = SENTENCE.split().index("and")
    at = round(starts[k] * rate)
    before = np.sqrt(np.mean(samples[at - round(0.06 * rate):at] ** 2))
    after = np.sqrt(np.mean(samples[at:at + round(0.12 * rate)] ** 2))
    assert before < after / 2, (before, after)


def test_words_that_become_several_spoken_words_still_match(tmp_path):
    text = "In 1999 the U.K. lighthouse went dark."
    starts = OfflineSpeech().synthesize(text, "en", None, tmp_path / "cue.wav").words
    assert starts is not None and len(starts) == len(text.split())
    gaps = np.diff(starts)
    assert gaps[text.split().index("1999")] > 2 * np.median(gaps), "1999 takes four spoken words' time"


def test_timings_are_kept_beside_the_wav_and_used_when_they_fit(tmp_path):
    wav = tmp_path / "cue.wav"
    starts = OfflineSpeech().synthesize(SENTENCE, "en", None, wav).words
    save_starts(wav, starts)
    assert (tmp_path / "cue.words.json").exists() and load_starts(wav) == [round(s, 4) for s in starts]
    timed = cue_words(SENTENCE, "en", 10.0, wav, load_starts(wav))
    assert timed.source == "engine" and timed.starts[0] == 10.0 + round(starts[0], 4)
    guessed = cue_words(SENTENCE, "en", 10.0, wav, None)  # an engine without timings: estimated in the voice
    first, last = voiced(wav)
    assert guessed.source == "estimated" and guessed.starts[0] == 10.0 + first and guessed.end == 10.0 + last
    assert cue_words(SENTENCE, "en", 10.0, wav, starts[:-1]).source == "estimated", "a word short: not used"


def test_espeak_gives_no_timings_and_chinese_is_estimated_by_character(tmp_path):
    wav = tmp_path / "zh.wav"
    result = OfflineSpeech().synthesize("钟楼在夜里倒着走。", "zh", None, wav)
    assert result.words is None
    timed = cue_words("钟楼在夜里倒着走。", "zh", 0.0, wav, None)
    assert timed.source == "estimated" and len(timed.starts) == 8
    assert np.allclose(np.diff(timed.starts), np.diff(timed.starts)[0]), "one character, one share of the time"
