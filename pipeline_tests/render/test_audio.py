"""Narration audio: cue WAVs joined with pauses, loudness normalised; ffprobe's summary of a media file."""

import subprocess
import wave

import numpy as np
import pytest

from pipeline.render import ffmpeg
from pipeline.render.audio import (
    LOUDNESS_TARGET,
    assemble_track,
    measure_loudness,
    normalise_loudness,
    read_wav,
    write_wav,
)
from pipeline_tests.render.media import integrated_loudness, tone_wav


def _stereo(path, seconds: float, rate: int):
    samples = np.full((round(seconds * rate), 2), 1000, dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def test_cues_are_joined_at_the_first_cues_rate_with_their_pauses(tmp_path):
    first = write_wav(tmp_path / "a.wav", np.full(48000, 500, dtype=np.int16), 48000)
    second = _stereo(tmp_path / "b.wav", 0.5, 24000)
    spans, rate = assemble_track([(first, 0.25), (second, 0.6)], tmp_path / "track.wav")
    assert rate == 48000 and spans == [(0.0, 1.25), (1.25, 2.35)]
    samples, read_rate = read_wav(tmp_path / "track.wav")
    assert read_rate == 48000 and len(samples) == round(2.35 * 48000)
    assert samples[48000:60000].max() == 0 and samples[60000:84000].min() == 1000  # pause, then the mixed-down cue


def test_only_16_bit_pcm_is_read(tmp_path):
    path = tmp_path / "8bit.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(800))
    with pytest.raises(ffmpeg.RenderError, match="expected 16-bit PCM, got 8-bit"):
        read_wav(path)


def test_loudness_is_normalised_to_the_target(tmp_path):
    raw = tone_wav(tmp_path / "tone.wav", 3.0)
    out = tmp_path / "loud.wav"
    reported = normalise_loudness(raw, out)
    assert abs(reported - LOUDNESS_TARGET) <= 1.0
    assert abs(measure_loudness(out) - LOUDNESS_TARGET) <= 1.0
    assert abs(integrated_loudness(out) - LOUDNESS_TARGET) <= 1.0
    with wave.open(str(out), "rb") as w:
        assert (w.getframerate(), w.getnchannels()) == (48000, 1)


def test_media_summary_of_a_video_and_of_audio_alone(tmp_path):
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(clip)], check=True)
    summary = ffmpeg.media_summary(clip)
    assert (summary.frames, summary.width, summary.height, summary.fps) == (60, 320, 240, "30/1")
    assert (summary.video_codec, summary.audio_codec) == ("h264", "aac") and abs(summary.duration - 2.0) < 0.1
    sound = ffmpeg.media_summary(tone_wav(tmp_path / "tone.wav", 1.0))
    assert (sound.width, sound.height, sound.fps, sound.video_codec, sound.frames) == (None, None, None, None, 0)
    assert sound.audio_codec == "pcm_s16le" and sound.duration == pytest.approx(1.0, abs=0.01)
