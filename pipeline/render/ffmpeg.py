"""ffmpeg and ffprobe: argument lists (pure) and one way to run them with clear errors.

A tool that may run long is watched (`Running.wait`): ffmpeg's `-progress` output is read while it
runs and the caller is called back at least every second, so a long render is never silent.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


class RenderError(RuntimeError):
    """A render tool failed; the message says which, on what, and what to do."""


class MissingTool(RenderError):
    """A program or font the render needs is not installed: retrying cannot help."""


class DiskFull(RenderError):
    """A render tool ran out of disk space (or quota) writing `path`: retrying cannot help until space is freed."""

    def __init__(self, what: str, reason: str, path: Path | None = None):
        super().__init__(f"{what} failed: disk full ({reason})" + (f" writing {path}" if path else ""))
        self.what, self.reason, self.path = what, reason, path


FULL_DISK_MESSAGES = ("No space left on device", "Disk quota exceeded")


def tool(name: str) -> str:
    """The path of ffmpeg/ffprobe, or a RenderError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise MissingTool(
            f"{name} is not installed or not on PATH; install it with `apt-get install ffmpeg` "
            "(make setup does this when run as root)"
        )
    return path


@dataclass(frozen=True)
class Tick:
    """How far a running tool got: frames written and seconds of output (ffmpeg's -progress), seconds since start."""

    frames: int = 0
    seconds: float = 0.0
    elapsed: float = 0.0


TickFn = Callable[[Tick], None]


def run(args: list[str], what: str, timeout: float = 3600,
        progress: TickFn | None = None) -> subprocess.CompletedProcess:
    """Run a tool, turning failure into a RenderError with the tail of its output (DiskFull for a full disk).

    With `progress` (ffmpeg only), the tool reports through `-progress` and `progress` is called at
    least every second until it ends; stdout is then not returned.
    """
    if progress is not None:
        running = Running(args, what, progress=True)
        try:
            stderr = running.wait(progress, timeout=timeout)
        except BaseException:
            running.kill()
            raise
        return subprocess.CompletedProcess(args, 0, b"", stderr)
    try:
        return subprocess.run([tool(args[0]), *args[1:]], capture_output=True, check=True, timeout=timeout)
    except subprocess.CalledProcessError as e:
        raise failure(what, e.returncode, e.stderr, args) from e
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{what} did not finish within {timeout:.0f} s") from e


def no_space(folder: Path) -> bool:
    """Whether the file system of `folder` has no block left for this user."""
    try:
        return os.statvfs(folder).f_bavail == 0
    except OSError:
        return False


def failure(what: str, code: int, stderr: bytes | None, args: list[str]) -> RenderError:
    """The error a tool's non-zero exit stands for: DiskFull when it ran out of space, else a RenderError."""
    text = (stderr or b"").decode(errors="replace")
    full = next((m for m in FULL_DISK_MESSAGES if m in text), None)
    if full is not None:
        return DiskFull(what, full, output_of(args))
    return RenderError(f"{what} failed (exit {code}): {tail(stderr)}")


def output_of(args: list[str]) -> Path | None:
    """The file an ffmpeg command writes: its last argument (None for a pipe or the null muxer's '-')."""
    last = args[-1] if len(args) > 1 else "-"
    return None if last == "-" or last.startswith("pipe:") or last.startswith("-") else Path(last)


def tail(stderr: bytes | None, lines: int = 6) -> str:
    text = (stderr or b"").decode(errors="replace").strip().splitlines()
    message = " | ".join(text[-lines:]) or "no output"
    if "No space left on device" in message:
        message = "the disk is full (No space left on device): free space and run the step again"
    return message


def progress_fields(line: str, fields: dict[str, str]) -> Tick | None:
    """Add one line of ffmpeg's `-progress` output to `fields`; at the end of a block, the Tick it gives."""
    key, _, value = line.strip().partition("=")
    if not key:
        return None
    fields[key] = value.strip()
    if key != "progress":
        return None
    frames, micros = fields.get("frame", ""), fields.get("out_time_us", "")  # "N/A" before the first frame
    return Tick(frames=int(frames) if frames.isdigit() else 0,
                seconds=max(int(micros), 0) / 1e6 if micros.lstrip("-").isdigit() else 0.0)


class Running:
    """A tool running in the background: stderr collected so it never blocks on a full pipe, and with
    `progress` (ffmpeg), its `-progress` reports read as they come."""

    def __init__(self, args: list[str], what: str, stdin: bool = False, progress: bool = False):
        self.args, self.what = args, what
        argv = [tool(args[0]), *(["-progress", "pipe:1", "-nostats"] if progress else []), *args[1:]]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if progress else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self._errors = bytearray()
        self._latest = Tick()
        self._readers = [threading.Thread(target=self._read_errors, daemon=True)]
        if progress:
            self._readers.append(threading.Thread(target=self._read_progress, daemon=True))
        for reader in self._readers:
            reader.start()

    @property
    def stdin(self):
        return self.proc.stdin

    def latest(self) -> Tick:
        """The last progress the tool reported, with the seconds it has been running."""
        return Tick(self._latest.frames, self._latest.seconds, time.monotonic() - self.started)

    def wait(self, on_tick: TickFn | None = None, every: float = 1.0, timeout: float | None = None) -> bytes:
        """Wait for the tool, calling `on_tick` every `every` seconds meanwhile; its stderr, or a RenderError."""
        deadline = None if timeout is None else self.started + timeout
        while True:
            try:
                code = self.proc.wait(timeout=every)
                break
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() > deadline:
                    self.kill()
                    raise RenderError(f"{self.what} did not finish within {timeout:.0f} s") from None
                if on_tick is not None:
                    on_tick(self.latest())
        for reader in self._readers:
            reader.join()
        self._close()
        if code != 0:
            raise failure(self.what, code, bytes(self._errors), self.args)
        return bytes(self._errors)

    def feed(self, frames: Iterable[bytes], on_tick: TickFn | None = None) -> bytes:
        """Write each of `frames` to the tool's stdin, close it and wait for the tool (`wait`): a tool that died
        is reported by `wait`, and an error while the frames are made stops the tool before it is raised."""
        try:
            for data in frames:
                self.proc.stdin.write(data)  # type: ignore[union-attr]
            self.proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # the tool died; wait() reports why
        except BaseException:
            self.kill()
            raise
        return self.wait(on_tick)

    def kill(self) -> None:
        """Stop the tool and reap it, whatever state it is in."""
        self.proc.kill()
        self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        self._close()

    def _close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except BrokenPipeError:
                    pass  # an encoder that died with input still buffered

    def _read_errors(self) -> None:
        self._errors.extend(self.proc.stderr.read())  # type: ignore[union-attr]

    def _read_progress(self) -> None:
        fields: dict[str, str] = {}
        for raw in self.proc.stdout:  # type: ignore[union-attr]
            tick = progress_fields(raw.decode(errors="replace"), fields)
            if tick is not None:
                self._latest = tick


X264_STILL = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "20",
              "-profile:v", "high", "-pix_fmt", "yuv420p", "-bf", "0"]
BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


# x264's parameters for pictures that are repeated by re-stamped skip frames (render/restamp.py): one
# IDR frame where the caller forces it, frame numbers wide enough for any run
REPEATABLE = "keyint=1000000:min-keyint=1000000:scenecut=0:repeat-headers=1:aud=1"


def chunk_encode_args(out: Path, width: int, height: int, fps: int) -> list[str]:
    """Encode each raw yuv420p frame from stdin (one per still) as an IDR frame with its own access unit
    delimiter, SPS and PPS: the start of a still's chunk, whose other frames are skip frames re-stamped
    after it (render/karaoke.py `still_chunk`) instead of encoded, a ninth of the CPU for 20-frame chunks."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(fps),
            "-i", "pipe:0", *X264_STILL, "-x264-params", REPEATABLE, "-forced-idr", "1",
            "-force_key_frames", "expr:1", *BT709, "-f", "h264", str(out)]


Overlay = tuple[Path, int, int, int]  # a picture, the first and last frame it shows on, the row its top goes at


def segment_args(inputs: list[str], ground: str, layers: list[Overlay], logo: tuple[Path, int, int] | None,
                 out: Path, frames: int, fps: int, chunk_frames: int) -> list[str]:
    """ffmpeg arguments for a segment rendered frame by frame: the filter `ground` (its input `[0:v...]`, its
    output `[v0]`) from `inputs`, each layer shown on frames [a, b] at its row, `logo` (a picture already
    scaled and faded, its x and y) on top; `frames` frames in chunks with the still chunks' encoder settings."""
    inputs, graph, last = list(inputs), [ground], "v0"
    for n, (layer, first, end, row) in enumerate(layers, start=1):
        inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(layer)]
        graph.append(f"[{last}][{n}:v]overlay=0:{row}:enable='between(n,{first},{end})'[v{n}]")
        last = f"v{n}"
    if logo is not None:
        n = len(layers) + 1
        picture, x, y = logo
        inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(picture)]
        graph.append(f"[{last}][{n}:v]overlay={x}:{y}[vl]")
        last = "vl"
    graph.append(f"[{last}]format=yuv420p[out]")
    params = f"keyint={chunk_frames}:min-keyint={chunk_frames}:scenecut=0:repeat-headers=1:aud=1"
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs,
            "-filter_complex", ";".join(graph), "-map", "[out]", "-frames:v", str(frames), "-an",
            *X264_STILL, "-x264-params", params, "-forced-idr", "1", *BT709, "-f", "h264", str(out)]


# ffmpeg's "fast" AAC coder: on 240 s of piper's speech at 128 kb/s mono 2.8 s against 8.2 s for the default
# "twoloop", and 37.6 against 26.6 dB SNR (on a pure tone it is the slower one: benchmarks/README.md "Latency").
AAC_CODER = "fast"


def aac_args(audio: Path, out: Path, bitrate: str = "128k") -> list[str]:
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(audio),
            "-c:a", "aac", "-aac_coder", AAC_CODER, "-b:a", bitrate, "-ar", "48000", "-ac", "1", str(out)]


def mux_args(video_h264: Path, audio_m4a: Path, out: Path, fps: int, title: str = "") -> list[str]:
    """Put the assembled H.264 stream and the AAC track into an MP4 without re-encoding."""
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-r", str(fps), "-f", "h264", "-i", str(video_h264), "-i", str(audio_m4a),
            "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-video_track_timescale", str(fps * 512),
            "-metadata", f"title={title}",
            "-movflags", "+faststart", str(out)]


# Speech has short peaks far above its loudness; a linear gain would lift them past the true-peak ceiling.
# A transparent limiter on those peaks first (as loudnorm was given: -17.2 LUFS without it, -16.0 with it),
# then the gain, then a ceiling limiter a little under the true-peak target, which only trims what the gain
# lifted over it. `latency=true`: the limiters' look-ahead does not delay the track (the cues keep their times).
PEAK_LIMIT = "alimiter=limit=0.5:level=false:attack=5:release=50:latency=true,"
TRUE_PEAK = -1.5  # dBTP, the ceiling of a normalised track
CEILING_DB = TRUE_PEAK - 0.5  # the sample-peak limit under it: inter-sample peaks of speech stay within 0.5 dB
LOUDNESS_RANGE = 11.0  # LU, as loudnorm is told for its dynamic mode


@dataclass(frozen=True)
class Loudness:
    """What ffmpeg's ebur128 filter measured (EBU R128): integrated loudness and its relative gate (LUFS),
    loudness range (LU), true peak (dBTP, None unless asked for). Silence measures -70 LUFS."""

    integrated: float
    threshold: float
    range: float
    true_peak: float | None = None


def ebur128_args(audio: Path, limit: bool = True, peak: bool = True) -> list[str]:
    """Measure `audio` (after the peak limiter with `limit`) without writing anything. ebur128 works at
    the file's own rate (4x oversampled for the true peak), where loudnorm resamples to 192 kHz: it
    measures a 240 s track in a fifth of loudnorm's time."""
    pre = PEAK_LIMIT if limit else ""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(audio),
            "-af", f"{pre}ebur128=peak={'true' if peak else 'none'}:framelog=verbose", "-f", "null", "-"]


def gain_args(audio: Path, out: Path, gain_db: float) -> list[str]:
    """The peak limiter, a linear gain and the ceiling limiter, 48 kHz mono PCM, measured on the way out
    (ebur128 passes the audio through)."""
    ceiling = 10 ** (CEILING_DB / 20)
    af = (f"{PEAK_LIMIT}volume={gain_db:.2f}dB,aresample=48000,"
          f"alimiter=limit={ceiling:.4f}:level=false:attack=5:release=50:latency=true,"
          "ebur128=peak=true:framelog=verbose")
    return ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-i", str(audio), "-af", af,
            "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", str(out)]


def parse_ebur128(stderr: bytes) -> Loudness:
    """The summary ebur128 prints when it ends."""
    text = stderr.decode(errors="replace")
    at = text.rfind("Summary:")
    summary = text[at:] if at != -1 else ""

    def value(name: str, unit: str) -> float | None:
        found = re.search(rf"\b{name}:\s+(-?inf|-?\d+(?:\.\d+)?) {unit}\b", summary)
        return float(found.group(1)) if found else None

    integrated, threshold, spread = value("I", "LUFS"), value("Threshold", "LUFS"), value("LRA", "LU")
    if integrated is None or threshold is None or spread is None:
        raise RenderError(f"ebur128 printed no loudness summary: {tail(stderr)}")
    return Loudness(integrated, threshold, spread, value("Peak", "dBFS"))


def loudnorm_args(audio: Path, out: Path, target: float) -> list[str]:
    """loudnorm's dynamic mode (for a track a linear gain cannot bring to `target`): 48 kHz mono PCM."""
    af = f"{PEAK_LIMIT}loudnorm=I={target}:TP={TRUE_PEAK}:LRA={LOUDNESS_RANGE:g}:print_format=json"
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


@dataclass(frozen=True)
class MediaSummary:
    """What assets report of a media file: duration, frames, picture size and rate, codecs (None: no such stream)."""

    duration: float
    frames: int
    width: int | None
    height: int | None
    fps: str | None  # ffprobe's r_frame_rate, e.g. "30/1"
    video_codec: str | None
    audio_codec: str | None


def media_summary(path: Path) -> MediaSummary:
    """The summary of a media file, as ffprobe reads it (frames counted from its packets)."""
    info = probe(path)
    video = next((s for s in info["streams"] if s["codec_type"] == "video"), {})
    audio = next((s for s in info["streams"] if s["codec_type"] == "audio"), {})
    width, height = video.get("width"), video.get("height")
    return MediaSummary(duration=float(info["format"]["duration"]),
                        frames=int(video.get("nb_read_packets") or video.get("nb_frames") or 0),
                        width=None if width is None else int(width), height=None if height is None else int(height),
                        fps=video.get("r_frame_rate"), video_codec=video.get("codec_name"),
                        audio_codec=audio.get("codec_name"))
