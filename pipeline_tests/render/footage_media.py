"""Short clips for footage tests, made by ffmpeg: testsrc2, whose every frame differs, with a tone when asked."""

import subprocess
from pathlib import Path


def clip_file(path: Path, size: str = "320x180", rate: int = 30, seconds: float = 1.0, tone: int | None = None) -> Path:
    """A testsrc2 H.264 MP4 of `size` at `rate` fps, `seconds` long; with a sine of `tone` Hz (AAC) when given."""
    args = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if tone:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:duration={seconds}", "-c:a", "aac",
                 "-shortest"]
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*args, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path
