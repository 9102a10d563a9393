"""ffmpeg and ffprobe: argument lists (pure) and one way to run them with clear errors."""

import json
import shutil
import subprocess
from pathlib import Path


class RenderError(RuntimeError):
    """A render tool failed; the message says which, on what, and what to do."""


class MissingTool(RenderError):
    """A program or font the render needs is not installed: retrying cannot help."""


def tool(name: str) -> str:
    """The path of ffmpeg/ffprobe, or a RenderError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise MissingTool(
            f"{name} is not installed or not on PATH; install it with `apt-get install ffmpeg` "
            "(make setup does this when run as root)"
        )
    return path


def run(args: list[str], what: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run a tool, turning failure into a RenderError with the tail of its output."""
    try:
        return subprocess.run([tool(args[0]), *args[1:]], capture_output=True, check=True, timeout=timeout)
    except subprocess.CalledProcessError as e:
        raise RenderError(f"{what} failed (exit {e.returncode}): {tail(e.stderr)}") from e
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{what} did not finish within {timeout:.0f} s") from e


def tail(stderr: bytes | None, lines: int = 6) -> str:
    text = (stderr or b"").decode(errors="replace").strip().splitlines()
    message = " | ".join(text[-lines:]) or "no output"
    if "No space left on device" in message:
        message = "the disk is full (No space left on device): free space and run the step again"
    return message


X264_STILL = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "20",
              "-profile:v", "high", "-pix_fmt", "yuv420p", "-bf", "0"]
BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


def chunk_encode_args(out: Path, width: int, height: int, fps: int, chunk_frames: int) -> list[str]:
    """Encode one raw yuv420p frame per still from stdin into chunks of `chunk_frames` frames.

    Each still enters once, lasting chunk_frames/fps seconds, and the fps filter repeats it into
    exactly chunk_frames frames; every chunk starts with an access unit delimiter, SPS, PPS and an
    IDR frame, so any chunk, or the first frames of one, can be cut out and played on its own.
    """
    params = f"keyint={chunk_frames}:min-keyint={chunk_frames}:scenecut=0:repeat-headers=1:aud=1"
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
            "-framerate", f"{fps}/{chunk_frames}", "-i", "pipe:0", "-vf", f"fps={fps}",
            *X264_STILL, "-x264-params", params, "-forced-idr", "1",
            "-force_key_frames", f"expr:eq(mod(n,{chunk_frames}),0)", *BT709, "-f", "h264", str(out)]


def aac_args(audio: Path, out: Path, bitrate: str = "128k") -> list[str]:
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(audio),
            "-c:a", "aac", "-b:a", bitrate, "-ar", "48000", "-ac", "1", str(out)]


def mux_args(video_h264: Path, audio_m4a: Path, out: Path, fps: int, title: str = "") -> list[str]:
    """Put the assembled H.264 stream and the AAC track into an MP4 without re-encoding."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-r", str(fps), "-f", "h264", "-i", str(video_h264), "-i", str(audio_m4a),
            "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-video_track_timescale", str(fps * 512),
            "-metadata", f"title={title}",
            "-movflags", "+faststart", str(out)]


# Speech has short peaks far above its loudness; loudnorm's linear mode will not raise the level past
# the true-peak ceiling, and stops short of the target. A transparent limiter on those peaks first
# lets the linear gain reach the target (measured: -17.2 LUFS without it, -16.0 with it).
PEAK_LIMIT = "alimiter=limit=0.5:level=false:attack=5:release=50,"


def loudnorm_measure_args(audio: Path, target: float, limit: bool = True) -> list[str]:
    pre = PEAK_LIMIT if limit else ""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(audio),
            "-af", f"{pre}loudnorm=I={target}:TP=-1.5:LRA=11:print_format=json", "-f", "null", "-"]


def loudnorm_apply_args(audio: Path, out: Path, target: float, measured: dict) -> list[str]:
    """Second loudnorm pass: linear gain from the first pass's measurement, 48 kHz mono PCM."""
    af = (f"{PEAK_LIMIT}loudnorm=I={target}:TP=-1.5:LRA=11:measured_I={measured['input_i']}:"
          f"measured_TP={measured['input_tp']}:measured_LRA={measured['input_lra']}:"
          f"measured_thresh={measured['input_thresh']}:offset={measured['target_offset']}:"
          "linear=true:print_format=json")
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-i", str(audio), "-af", af,
            "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(out)]


def parse_loudnorm(stderr: bytes) -> dict:
    """The JSON block loudnorm prints at the end of its output."""
    text = stderr.decode(errors="replace")
    start = text.rfind("{")
    end = text.rfind("}")
    if start == -1 or end < start:
        raise RenderError(f"loudnorm printed no measurement: {tail(stderr)}")
    return json.loads(text[start : end + 1])


def probe(path: Path) -> dict:
    """ffprobe's JSON description of a media file (streams and format)."""
    result = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                  "-count_packets", str(path)], f"ffprobe of {path}")
    return json.loads(result.stdout)
