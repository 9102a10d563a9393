"""Presenter clips (any size, rate and audio) made to fit the slideshow's stream exactly."""

import os
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg
from pipeline.render.audio import LOUDNESS_TARGET, write_wav
from pipeline.render.h264 import split_access_units
from pipeline.store import file_digest, item_key

AUDIO_RATE = 48000
CLIP_VERSION = 1


@dataclass
class Clip:
    units: list[bytes]  # H.264 access units, 1920x1080 (or the render's size), `fps`, IDR every chunk
    audio: np.ndarray  # int16 mono at AUDIO_RATE, exactly len(units) / fps long

    def seconds(self, fps: int) -> float:
        return len(self.units) / fps


def clip_video_args(clip: Path, out: Path, width: int, height: int, fps: int, chunk_frames: int) -> list[str]:
    """Scale and pad to the frame, constant `fps`, same encoder settings as the slideshow's chunks."""
    vf = (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
          f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,fps={fps},format=yuv420p")
    params = f"keyint={chunk_frames}:min-keyint={chunk_frames}:scenecut=0:repeat-headers=1:aud=1"
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(clip), "-map", "0:v:0",
            "-vf", vf, *ffmpeg.X264_STILL, "-x264-params", params, *ffmpeg.BT709, "-f", "h264", str(out)]


def clip_audio_args(clip: Path, out: Path) -> list[str]:
    """The clip's speech, loudness-normalised like the narration, 48 kHz mono PCM (silence if none)."""
    speech = f"[0:a:0]loudnorm=I={LOUDNESS_TARGET:g}:TP=-1.5:LRA=11,aresample=48000[a]"
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(clip),
            "-f", "lavfi", "-i", f"anullsrc=r={AUDIO_RATE}:cl=mono", "-filter_complex",
            speech if _has_audio(clip) else "[1:a]anull[a]",
            "-map", "[a]", "-t", "3600", "-ac", "1", "-ar", str(AUDIO_RATE), "-c:a", "pcm_s16le", str(out)]


def _has_audio(clip: Path) -> bool:
    return any(s.get("codec_type") == "audio" for s in ffmpeg.probe(clip)["streams"])


def prepare_clip(clip: Path, cache: Path, width: int, height: int, fps: int, chunk_frames: int,
                 progress: ffmpeg.TickFn | None = None) -> Clip:
    """The clip as access units and audio of the same length, cached by the clip's content.

    `progress` is called at least every second while the clip is transcoded.
    """
    key = item_key("clip", CLIP_VERSION, file_digest(clip), width, height, fps, chunk_frames)
    video, audio = cache / f"{key}.h264", cache / f"{key}.wav"
    if not (video.exists() and audio.exists()):
        mine = f"{os.getpid()}-{threading.get_ident()}"  # two preparations of one clip never share a file
        tmp, tmp_audio = cache / f".{key}.{mine}.h264", cache / f".{key}.{mine}.wav"
        transcode = ffmpeg.Running(clip_video_args(clip, tmp, width, height, fps, chunk_frames),
                                   f"normalising clip {clip.name}", progress=True)
        try:  # the sound is extracted while the picture is transcoded
            ffmpeg.run(clip_audio_args(clip, tmp_audio), f"extracting the audio of {clip.name}", progress=progress)
            transcode.wait(progress, timeout=3600)
            tmp_audio.replace(audio)
            tmp.replace(video)
        except BaseException:
            transcode.kill()
            tmp.unlink(missing_ok=True)
            tmp_audio.unlink(missing_ok=True)
            raise
    units = split_access_units(video.read_bytes())
    with wave.open(str(audio), "rb") as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    want = round(len(units) / fps * AUDIO_RATE)
    samples = np.concatenate([samples[:want], np.zeros(max(0, want - len(samples)), np.int16)])
    return Clip(units=units, audio=samples)


def join_audio(parts: list[np.ndarray], narration: Path, out: Path) -> Path:
    """intro audio + narration + outro audio (parts[0] before, parts[1] after) as one 48 kHz WAV."""
    with wave.open(str(narration), "rb") as w:
        if w.getframerate() != AUDIO_RATE or w.getnchannels() != 1:
            raise ffmpeg.RenderError(f"{narration}: expected 48 kHz mono, got {w.getframerate()} Hz x {w.getnchannels()}")
        speech = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    joined = np.concatenate([parts[0], speech, parts[1]])
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_wav(out, joined, AUDIO_RATE)

