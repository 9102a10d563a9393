"""Background music under the voice: a file or a bed the project synthesises, ducked under speech, mixed
and brought to the loudness target.

The generated beds are made here with numpy from sine partials and envelopes: no samples, no recordings,
nothing downloaded, the same samples on every machine (a fixed seed per mood). Each mood is a loop of a
few chords whose notes' tails wrap around its end, so it repeats without a seam; a file is looped with a
crossfade when it is shorter than the video, and either fades out over the video's last seconds.

Levels: the bed is set `volume` dB against the voice's integrated loudness (in the pauses) and ducked
`DUCK_DB` more while a cue is spoken: the gain falls over `ATTACK` seconds before each spoken stretch
and rises over `RELEASE` seconds after it (raised-cosine ramps), and pauses shorter than `HOLD` stay
ducked, so the music does not pump between the sentences of a segment. The mix is then normalised like
the narration (two-pass EBU R128, linear gain, true peak kept under the ceiling) to the target.
"""

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.render import ffmpeg
from pipeline.render.audio import LOUDNESS_TARGET, measure_loudness, normalise_loudness, read_wav, write_wav
from pipeline.store import file_digest

RATE = 48000
MIX_VERSION = 1  # bump when the beds, the ducking or the mix change, to invalidate cached mixes
DUCK_DB = 14.0  # how much lower the music is while a cue is spoken than in the pauses
ATTACK, RELEASE, HOLD = 0.2, 0.4, 0.5  # seconds
FADE_IN, FADE_OUT, CROSSFADE = 1.0, 3.0, 1.0  # seconds
MOODS = ("calm", "bright", "tense")
GENERATED_ORIGIN = ("synthesised offline by content-pipeline itself (pipeline/render/music.py: numpy sine partials "
                    "and envelopes; no samples, recordings or downloads)")
GENERATED_LICENCE = "CC0-1.0: the project's own synthesis, free to use without attribution"


@dataclass(frozen=True)
class AudioMix:
    """What the final audio mixes: `music` (a file, "generated" or None), the generated bed's `mood`, the
    music's level against the voice in dB, the loudness target, and the spans (seconds of the narration)
    during which a cue is spoken."""

    music: Path | str | None = None
    mood: str = "calm"
    volume: float = -20.0
    loudness: float = LOUDNESS_TARGET
    speech: tuple[tuple[float, float], ...] = ()

    @property
    def needed(self) -> bool:
        """Whether the voice alone, as narration normalised it, is not already the final audio."""
        return self.music is not None or self.loudness != LOUDNESS_TARGET

    def key(self) -> tuple:
        """What identifies the mix besides the voice, for the cached audio track."""
        music = f"file:{file_digest(self.music)}" if isinstance(self.music, Path) else self.music
        return ("mix", MIX_VERSION, music, self.mood if self.music == "generated" else None,
                self.volume if self.music is not None else None, self.loudness,
                [(round(a, 3), round(b, 3)) for a, b in self.speech] if self.music is not None else None)


# ---------------------------------------------------------------- the generated beds

# Semitones above the key's root of each chord's notes, per mood; bars per chord, tempo, key (MIDI), voices.
_MOODS = {
    "calm": dict(bpm=66, root=48, bars=2, chords=[(0, 4, 7, 11), (-3, 0, 4, 7), (-7, -3, 0, 4), (-5, -1, 2, 9)],
                 pad=0.55, arp=0.30, arp_steps=2, pluck=1.6, bass=0.35, pulse=0.0, seed=11),
    "bright": dict(bpm=104, root=55, bars=1, chords=[(0, 4, 7, 12), (7, 11, 14, 19), (9, 12, 16, 21),
                                                     (5, 9, 12, 17)],
                   pad=0.25, arp=0.42, arp_steps=4, pluck=0.45, bass=0.4, pulse=0.0, seed=23),
    "tense": dict(bpm=76, root=38, bars=2, chords=[(0, 3, 7, 13), (0, 3, 6, 10), (-2, 1, 5, 8), (-1, 3, 6, 9)],
                  pad=0.5, arp=0.16, arp_steps=1, pluck=0.9, bass=0.5, pulse=0.35, seed=37),
}


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _add(loop: np.ndarray, start: int, sound: np.ndarray) -> None:
    """Add `sound` into `loop` from `start`, wrapping past its end (so the loop repeats without a seam)."""
    n = len(loop)
    for offset in range(0, len(sound), n):
        piece = sound[offset:offset + n]
        first = (start + offset) % n
        head = min(len(piece), n - first)
        loop[first:first + head] += piece[:head]
        loop[:len(piece) - head] += piece[head:]


_TABLE = 8192  # samples of one period in a wavetable


def _table(partials: tuple[float, ...]) -> np.ndarray:
    x = np.arange(_TABLE) / _TABLE
    return sum(a * np.sin(2 * np.pi * (k + 1) * x) for k, a in enumerate(partials)).astype(np.float32)


def _tone(freq: float, seconds: float, partials: tuple[float, ...], attack: float, decay: float,
          release: float = 0.3) -> np.ndarray:
    """A note: sine partials (amplitudes of harmonics 1, 2, ...) read from a wavetable, an attack ramp,
    exponential decay, a release."""
    n = int((seconds + release) * RATE)
    t = np.arange(n, dtype=np.float64) / RATE
    wave = _table(partials)[((t * freq) % 1.0 * _TABLE).astype(np.int32)]
    t32 = t.astype(np.float32)
    env = np.minimum(np.float32(1), t32 / np.float32(max(attack, 1e-3))) * np.exp(-t32 / np.float32(decay))
    tail = int(seconds * RATE)
    env[tail:] *= np.cos(np.minimum(1.0, (t32[tail:] - seconds) / release) * np.pi / 2).astype(np.float32) ** 2
    return wave * env


@functools.lru_cache(maxsize=3)
def generated_loop(mood: str) -> np.ndarray:
    """One seamless cycle of the mood's bed, mono float32 at RATE, peak about 0.5."""
    spec = _MOODS[mood]
    beat = 60 / spec["bpm"]
    chord_seconds = 4 * beat * spec["bars"]
    loop = np.zeros(int(round(chord_seconds * len(spec["chords"]) * RATE)), np.float32)
    rng = np.random.default_rng(spec["seed"])
    for c, chord in enumerate(spec["chords"]):
        at = c * chord_seconds
        for n, note in enumerate(chord):  # a slow pad, each voice a little detuned
            for detune in (-0.04, 0.04):
                pad = _tone(_hz(spec["root"] + 12 + note + detune), chord_seconds, (1, 0.3, 0.1), attack=0.8,
                            decay=12, release=1.2)
                _add(loop, int(at * RATE), spec["pad"] / 8 * pad)
        _add(loop, int(at * RATE), spec["bass"] * _tone(_hz(spec["root"] - 12 + chord[0]), chord_seconds,
                                                       (1, 0.4, 0.15), attack=0.05, decay=3.0, release=0.6))
        steps = int(4 * spec["bars"] * spec["arp_steps"])
        for s in range(steps):  # an arpeggio of bell-like notes over the chord
            note = chord[(s * 2 + s // len(chord)) % len(chord)] + (12 if (s // len(chord)) % 2 else 0)
            velocity = spec["arp"] * (0.75 + 0.25 * rng.random())
            start = at + s * beat / spec["arp_steps"]
            _add(loop, int(start * RATE), velocity * _tone(_hz(spec["root"] + 24 + note), spec["pluck"],
                                                           (1, 0.25, 0.08), attack=0.004, decay=spec["pluck"] / 2.5))
        if spec["pulse"]:  # tense: a low pulse on every eighth
            for s in range(int(8 * spec["bars"])):
                _add(loop, int((at + s * beat / 2) * RATE), spec["pulse"] * _tone(
                    _hz(spec["root"] + chord[0]), 0.12, (1, 0.5, 0.2), attack=0.003, decay=0.08, release=0.05))
    return (loop / max(1e-9, float(np.abs(loop).max())) * 0.5).astype(np.float32)


# ---------------------------------------------------------------- beds to length, ducking, the mix

def decode(path: Path, seconds: float) -> np.ndarray:
    """The first `seconds` of an audio file, mono float32 at RATE (ffmpeg decodes any format it knows)."""
    args = [ffmpeg.tool("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path),
            "-map", "0:a:0", "-t", f"{seconds:.3f}", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"]
    try:
        raw = subprocess.run(args, capture_output=True, check=True, timeout=600).stdout
    except subprocess.CalledProcessError as e:
        raise ffmpeg.failure(f"decoding the music {path.name}", e.returncode, e.stderr, args) from e
    samples = np.frombuffer(raw, np.float32)
    if len(samples) < RATE // 2:
        raise ffmpeg.RenderError(f"the music {path.name} has less than half a second of audio")
    return samples


def to_length(bed: np.ndarray, n: int, seamless: bool) -> np.ndarray:
    """`bed` looped (with an equal-power crossfade unless `seamless`) or cut to `n` samples, faded in and out."""
    if len(bed) < n:
        fade = 0 if seamless else min(int(CROSSFADE * RATE), len(bed) // 4)
        out = np.zeros(n + len(bed), np.float32)
        step = len(bed) - fade
        ramp = np.sin(np.linspace(0, np.pi / 2, fade, dtype=np.float32)) if fade else None
        for at in range(0, n, step):
            piece = bed.copy()
            if fade and at > 0:
                piece[:fade] *= ramp
                out[at:at + fade] *= ramp[::-1]
            out[at:at + len(piece)] += piece
        bed = out
    bed = bed[:n].astype(np.float32)
    fade_in, fade_out = min(int(FADE_IN * RATE), n // 4), min(int(FADE_OUT * RATE), n // 4)
    bed[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
    bed[n - fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return bed


def ducking(speech: list[tuple[float, float]], n: int) -> np.ndarray:
    """The music's gain (linear, per sample): 1 in the pauses, DUCK_DB lower while a cue is spoken, with
    raised-cosine ramps ATTACK before and RELEASE after each spoken stretch (pauses under HOLD merged)."""
    merged: list[list[float]] = []
    for a, b in sorted(speech):
        if merged and a - merged[-1][1] < HOLD:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    amount = np.zeros(n, np.float32)
    for a, b in merged:
        first, start, end, last = (int(round(x * RATE)) for x in (a - ATTACK, a, b, b + RELEASE))
        first, last = max(0, first), min(n, last)
        if first < start:
            span = np.arange(first, min(start, n))
            amount[first:min(start, n)] = np.maximum(amount[first:min(start, n)],
                                                     0.5 - 0.5 * np.cos(np.pi * (span - (start - ATTACK * RATE))
                                                                        / (ATTACK * RATE)))
        amount[max(0, start):min(end, n)] = 1.0
        if end < last:
            span = np.arange(max(0, end), last)
            amount[max(0, end):last] = np.maximum(amount[max(0, end):last],
                                                  0.5 + 0.5 * np.cos(np.pi * (span - end) / (RELEASE * RATE)))
    return (10 ** (-DUCK_DB * amount / 20)).astype(np.float32)


def mix_track(mix: AudioMix, voice: Path, work_dir: Path, speech: list[tuple[float, float]],
              progress: ffmpeg.TickFn | None = None) -> Path:
    """The final audio: `voice` (48 kHz mono WAV) with the music ducked under `speech` (seconds of the voice
    track), normalised to the mix's loudness target; a 48 kHz mono WAV in `work_dir`."""
    samples, rate = read_wav(voice)
    if rate != RATE:
        raise ffmpeg.RenderError(f"{voice}: expected {RATE} Hz audio, got {rate} Hz")
    work_dir.mkdir(parents=True, exist_ok=True)
    raw, out = work_dir / "mix-raw.wav", work_dir / "mix.wav"
    speech_level = measure_loudness(voice, progress=progress)
    mixed = samples.astype(np.float32) / 32768
    if mix.music is not None:
        n = len(samples)
        if mix.music == "generated":
            bed = to_length(generated_loop(mix.mood), n, seamless=True)
        else:
            bed = to_length(decode(Path(mix.music), n / RATE + 1), n, seamless=False)
        peak = float(np.abs(bed).max())
        if peak > 0:
            bed = bed / peak * 0.5
            write_wav(work_dir / "music.wav", np.round(bed * 32767).astype(np.int16), RATE)
            music_level = measure_loudness(work_dir / "music.wav", progress=progress)
            if np.isfinite(music_level) and np.isfinite(speech_level):
                bed = bed * np.float32(10 ** ((speech_level + mix.volume - music_level) / 20))
            mixed = mixed + bed * ducking(speech, n)
            (work_dir / "music.wav").unlink(missing_ok=True)
    peak = float(np.abs(mixed).max())
    if peak > 0.98:  # keep the sum in range: the loudness pass sets the level anyway
        mixed = mixed * (0.98 / peak)
    write_wav(raw, np.round(mixed * 32767).astype(np.int16), RATE)
    normalise_loudness(raw, out, mix.loudness, progress=progress)
    raw.unlink(missing_ok=True)
    return out


def origin(music: str | None, mood: str, credit: str | None, data_dir: Path) -> dict | None:
    """Where the music comes from and its licence, for the publication's metadata (None: no music)."""
    if music is None:
        return None
    if music == "generated":
        return {"source": "generated", "mood": mood, "origin": GENERATED_ORIGIN,
                "licence": credit or GENERATED_LICENCE}
    path = Path(data_dir) / music
    return {"source": "file", "file": music, "sha256": file_digest(path) if path.is_file() else None,
            "origin": "a file of the data folder, supplied with the brief",
            "licence": credit or "not stated (video.music_credit): the user answers for the file's licence"}
