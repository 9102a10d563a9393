"""Narration audio: 16-bit WAVs read, resampled, joined with pauses and written; EBU R128 loudness."""

import math
import wave
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg

LOUDNESS_TARGET = -16.0  # LUFS integrated (EBU R128), common for online video
SILENCE_LUFS = -70.0  # EBU R128's absolute gate: what ebur128 reports for silence
GAIN_PASSES = 3  # gain passes at most, each raising the gain by the loudness the ceiling took
LOUDNESS_TOLERANCE = 0.5  # LU off the target a normalised track may be


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
    """EBU R128 normalisation to `target` LUFS, true peak under `TRUE_PEAK`, 48 kHz mono; returns the
    output's loudness.

    With ffmpeg's ebur128, which measures at the track's own rate where loudnorm resamples to 192 kHz: the
    track is measured after the peak limiter, then given the gain that brings it to `target`, the ceiling
    limiter trimming what that lifts over the true-peak ceiling, and measured on the way out. Trimmed peaks
    cost loudness (speech from piper: 1.3 LU at -16), so the gain is raised by what is missing (where the
    line through the last two passes meets the target) and the pass made again, at most `GAIN_PASSES` times.
    For 240 s of piper's speech 6.4 s in all, against 17 s for loudnorm's two passes and its measurement,
    which left that speech at -17.3 LUFS.
    A silent track, one wider than `LOUDNESS_RANGE` or one the passes leave over the ceiling or more than
    `LOUDNESS_TOLERANCE` off goes through loudnorm's dynamic mode instead, as loudnorm's linear mode would.
    `progress` is called at least every second while ffmpeg works.
    """
    measured = ffmpeg.parse_ebur128(ffmpeg.run(ffmpeg.ebur128_args(raw), "loudness measurement",
                                               progress=progress).stderr)
    if measured.integrated > SILENCE_LUFS and measured.range <= ffmpeg.LOUDNESS_RANGE:
        gain, tried = target - measured.integrated, (0.0, measured.integrated)
        for _ in range(GAIN_PASSES):
            made = ffmpeg.parse_ebur128(ffmpeg.run(ffmpeg.gain_args(raw, out, gain), "loudness normalisation",
                                                   progress=progress).stderr)
            under = made.true_peak is not None and made.true_peak <= ffmpeg.TRUE_PEAK + 0.05  # ebur128 prints 0.1
            if under and abs(made.integrated - target) <= 0.2:
                return made.integrated
            # the next gain where the line through the last two passes meets the target (trimming makes
            # the loudness rise slower than the gain)
            slope = (made.integrated - tried[1]) / (gain - tried[0]) if gain != tried[0] else 1.0
            tried = (gain, made.integrated)
            gain += (target - made.integrated) / min(1.0, max(0.2, slope))
        if under and abs(made.integrated - target) <= LOUDNESS_TOLERANCE:
            return made.integrated
    return float(ffmpeg.parse_loudnorm(ffmpeg.run(ffmpeg.loudnorm_args(raw, out, target), "loudness normalisation",
                                                  progress=progress).stderr)["output_i"])


def measure_loudness(audio: Path, progress: ffmpeg.TickFn | None = None) -> float:
    """The integrated loudness (LUFS) of `audio` as it is, without the peak limiter (-inf for silence)."""
    level = ffmpeg.parse_ebur128(ffmpeg.run(ffmpeg.ebur128_args(audio, limit=False, peak=False),
                                            "loudness measurement", progress=progress).stderr).integrated
    return level if level > SILENCE_LUFS else -math.inf
