"""Helpers for tests that look at real media: solid test images and decoded frames."""

import json
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image


def solid_png(path: Path, color: tuple[int, int, int], size=(1920, 1080)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def tone_wav(path: Path, seconds: float, rate: int = 48000) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate={rate}:duration={seconds}", "-ac", "1", str(path)], check=True)
    return path


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                          "-count_frames", str(path)], capture_output=True, check=True).stdout
    return json.loads(out)


def decoded_frames(path: Path, width: int = 64, height: int = 36) -> np.ndarray:
    """Every video frame, scaled down, as an array (frames, height, width, 3)."""
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-vf", f"scale={width}:{height}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def nearest_color(frame: np.ndarray, colors: list[tuple[int, int, int]]) -> int:
    """Index of the colour closest to the frame's top half (clear of subtitles)."""
    mean = frame[: frame.shape[0] // 2].reshape(-1, 3).mean(axis=0)
    return int(np.argmin([np.abs(mean - np.array(c)).sum() for c in colors]))


def integrated_loudness(path: Path) -> float:
    """EBU R128 integrated loudness (LUFS) of a file's audio, measured by ffmpeg's ebur128 filter."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0",
                          "-af", "ebur128", "-f", "null", "-"], capture_output=True, check=True).stderr.decode()
    summary = out[out.rfind("Integrated loudness:"):]
    return float(summary.split("I:")[1].split("LUFS")[0])


def loudness_and_peak(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file's audio, by ffmpeg's ebur128 filter."""
    import re

    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0",
                          "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True,
                         check=True).stderr.decode()
    summary = out[out.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)[1])
    return integrated, peak
