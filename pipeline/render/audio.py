"""Narration audio: 16-bit WAVs read, resampled, joined with pauses and written; EBU R128 loudness."""

import wave
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg

LOUDNESS_TARGET = -16.0  # LUFS integrated (EBU R128), common for online video


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """The samples of a 16-bit PCM WAV (mixed down to mono) and its sample rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ffmpeg.RenderError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            samples = samples.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
        return samples, w.getframerate()


def write_wav(out: Path, samples: np.ndarray, rate: int) -> Path:
    """`samples` (int16 mono) as a 16-bit PCM WAV at `rate`."""
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """`samples` at `rate` Hz, linearly interpolated to `target` Hz."""
    if rate == target:
        return samples
    n = round(len(samples) * target / rate)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(np.int16)


def assemble_track(parts: list[tuple[Path, float]], out: Path) -> tuple[list[tuple[float, float]], int]:
    """Concatenate cue WAVs, each followed by its pause, into one WAV; return each cue's (start, end)."""
    decoded = [(read_wav(p), pause) for p, pause in parts]
    rate = decoded[0][0][1]
    spans, chunks, position = [], [], 0
    for (samples, r), pause in decoded:
        samples = resample(samples, r, rate)
        silence = np.zeros(round(pause * rate), dtype=np.int16)
        spans.append((position / rate, (position + len(samples) + len(silence)) / rate))
        chunks += [samples, silence]
        position += len(samples) + len(silence)
    write_wav(out, np.concatenate(chunks), rate)
    return spans, rate


def normalise_loudness(raw: Path, out: Path, target: float = LOUDNESS_TARGET,
                       progress: ffmpeg.TickFn | None = None) -> float:
    """Two-pass EBU R128 normalisation to `target` LUFS, 48 kHz mono; returns the output's loudness.

    `progress` is called at least every second while ffmpeg works.
    """
    measured = ffmpeg.parse_loudnorm(ffmpeg.run(ffmpeg.loudnorm_measure_args(raw, target), "loudness measurement",
                                                progress=progress).stderr)
    applied = ffmpeg.parse_loudnorm(ffmpeg.run(ffmpeg.loudnorm_apply_args(raw, out, target, measured),
                                               "loudness normalisation", progress=progress).stderr)
    return float(applied["output_i"])


def measure_loudness(audio: Path, target: float = LOUDNESS_TARGET, progress: ffmpeg.TickFn | None = None) -> float:
    """The integrated loudness (LUFS) of `audio` as it is, without the peak limiter."""
    return float(ffmpeg.parse_loudnorm(ffmpeg.run(
        ffmpeg.loudnorm_measure_args(audio, target, False), "loudness measurement",
        progress=progress).stderr)["input_i"])
