"""Music under the voice, measured on the output MP4's audio: ducked at least 10 dB while a cue is spoken,
smooth ramps, looped and faded to the length, the loudness target met, the true peak under -1 dBTP; and
changing only the music re-mixes the audio without encoding any video chunk again."""

import re
import subprocess

import numpy as np
import pytest

from pipeline.render.audio import write_wav
from pipeline.render.frame import frame_for
from pipeline.render.music import ATTACK, RATE, RELEASE, AudioMix, generated_loop
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline_tests.render.media import loudness_and_peak, solid_png

SMALL = frame_for("16:9", (320, 180))
SPEECH = [(0.5, 2.5), (4.0, 6.0), (7.5, 9.5)]  # cue spans (voice), with 1.5 s pauses between them
TOTAL = 11.0
VOICE_HZ = 4000  # the "voice": a tone far above what the measurement keeps of the music
KEEP_MUSIC = ",".join(["lowpass=f=700"] * 6)  # about 6 x 12 dB per octave: the voice gone, the bed's low voices kept


def voice_wav(path) -> object:
    """A 48 kHz mono narration: a tone during each cue, silence in the pauses."""
    t = np.arange(round(TOTAL * RATE)) / RATE
    tone = 0.3 * np.sin(2 * np.pi * VOICE_HZ * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))
    on = np.zeros_like(t)
    for a, b in SPEECH:  # each cue's tone with 20 ms edges, as a voice has (a hard edge would click)
        on = np.maximum(on, np.clip(np.minimum(t - a, b - t) / 0.02, 0, 1))
    return write_wav(path, np.round(tone * on * 32767).astype(np.int16), RATE)


def bass_wav(path, seconds=2.0) -> object:
    """A music file: 2 s of a low chord repeating every 20 ms (shorter than the video: it must loop)."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * f * t) for f in (100, 150, 200)) / 3
    return write_wav(path, np.round(0.5 * wave * 32767).astype(np.int16), RATE)


def render(tmp_path, mix: AudioMix | None, out="out.mp4"):
    image = solid_png(tmp_path / "g.png", (30, 60, 90), SMALL.size)
    shots = [Shot(image=image, text=f"Cue {n}.", start=a) for n, (a, _) in enumerate(SPEECH)]
    shots[0] = Shot(image=image, text="Cue 0.", start=0.0)
    request = RenderRequest(shots=shots, audio=voice_wav(tmp_path / "voice.wav"), total=TOTAL, out=tmp_path / out,
                            work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks", frame=SMALL, mix=mix)
    return render_slideshow(request)


def level(path, start: float, seconds: float, filters: str = KEEP_MUSIC) -> float:
    """RMS level (dBFS) of the output's audio over [start, start + seconds], after `filters`."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-ss", f"{start}", "-t", f"{seconds}", "-i", str(path),
                          "-map", "0:a:0", "-af", f"{filters},astats=metadata=0:measure_perchannel=none",
                          "-f", "null", "-"], capture_output=True, check=True).stderr.decode()
    return float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", out)[-1])


def samples(path, filters: str = KEEP_MUSIC) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-af", filters, "-ac", "1",
                          "-ar", str(RATE), "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def spoken_and_pauses(path) -> tuple[list[float], list[float]]:
    """The music's level in the middle of each cue and of each pause (clear of the ramps)."""
    spoken = [level(path, a + 0.4, b - a - 0.8) for a, b in SPEECH]
    pauses = [level(path, b + RELEASE + 0.1, c - b - RELEASE - ATTACK - 0.2)
              for (_, b), (c, _) in zip(SPEECH, SPEECH[1:])]
    return spoken, pauses


def test_music_is_ducked_under_every_cue_and_the_mix_meets_the_target(tmp_path):
    result = render(tmp_path, AudioMix(music=bass_wav(tmp_path / "bass.wav"), volume=-12.0, speech=tuple(SPEECH)))
    spoken, pauses = spoken_and_pauses(result.path)  # a steady chord: its level is the ducking alone
    assert max(spoken) <= min(pauses) - 10, (spoken, pauses)
    integrated, peak = loudness_and_peak(result.path)
    assert abs(integrated - -16.0) <= 0.7 and peak <= -1.0, (integrated, peak)
    # the voice is still all there: its tone, measured alone, far above the music under it
    voice = [level(result.path, a + 0.4, b - a - 0.8, f"highpass=f={VOICE_HZ // 2},highpass=f={VOICE_HZ // 2}")
             for a, b in SPEECH]
    assert min(voice) - max(spoken) >= 15


@pytest.mark.parametrize("mood", ["calm", "tense"])
def test_a_generated_bed_is_ducked_under_every_cue(tmp_path, mood):
    """The bed's own level moves with its notes, so each stretch is compared with the same stretch of the same bed
    mixed with no speech to duck under."""
    ducked = render(tmp_path, AudioMix(music="generated", mood=mood, volume=-12.0, speech=tuple(SPEECH)))
    plain = render(tmp_path, AudioMix(music="generated", mood=mood, volume=-12.0, speech=((TOTAL - 0.01, TOTAL),)),
                   out="plain.mp4")
    spoken, pauses = spoken_and_pauses(ducked.path)
    spoken_plain, pauses_plain = spoken_and_pauses(plain.path)
    assert all(p - s >= 10 for s, p in zip(spoken, spoken_plain)), (spoken, spoken_plain)
    assert all(abs(a - b) <= 2 for a, b in zip(pauses, pauses_plain)), (pauses, pauses_plain)
    integrated, peak = loudness_and_peak(ducked.path)
    assert abs(integrated - -16.0) <= 0.7 and peak <= -1.0, (integrated, peak)


def test_ducking_ramps_are_smooth(tmp_path):
    result = render(tmp_path, AudioMix(music=bass_wav(tmp_path / "bass.wav"), volume=-10.0, speech=tuple(SPEECH)))
    music = samples(result.path).astype(np.float64)
    window, hop = RATE // 50, RATE // 100  # 20 ms (the chord's period) every 10 ms
    power = np.convolve(music ** 2, np.ones(window) / window, mode="valid")[::hop]
    db = 10 * np.log10(power + 1e-12)  # db[k]: the 20 ms from k x 10 ms
    for edge in (SPEECH[1][0], SPEECH[0][1]):  # the attack into cue 1, the release after cue 0
        around = db[int((edge - 0.6) * 100):int((edge + 0.6) * 100)]
        change = around.max() - around.min()
        assert change >= 10  # the whole change, within the 1.2 s around the edge
        # no jump: at most a quarter of it between neighbouring 10 ms windows (AAC's frames step the level by
        # its scale factors' 1.5 dB), and 10 % to 90 % of it take most of the ramp's time
        assert np.abs(np.diff(around)).max() < change / 4, np.abs(np.diff(around)).max()
        inside = np.nonzero((around > around.min() + 0.1 * change) & (around < around.max() - 0.1 * change))[0]
        ramp = ATTACK if edge == SPEECH[1][0] else RELEASE
        assert len(inside) / 100 >= 0.5 * ramp, (len(inside), ramp)
    # attack: the music is already down when the cue starts; release: still rising after the cue ends
    start = SPEECH[1][0]
    assert db[int((start - ATTACK - 0.05) * 100)] > db[int(start * 100) + 1] + 8
    end = SPEECH[0][1]
    assert db[int(end * 100) + 1] < db[int((end + RELEASE + 0.1) * 100)] - 6


def test_a_short_file_is_looped_to_the_length_and_faded_out(tmp_path):
    result = render(tmp_path, AudioMix(music=bass_wav(tmp_path / "bass.wav"), volume=-10.0, speech=tuple(SPEECH)))
    first_pause = level(result.path, 2.5 + RELEASE + 0.1, 0.8)
    second_pause = level(result.path, 6.0 + RELEASE + 0.1, 0.8)  # 6.5 s into a 2 s file: looped, still playing
    assert abs(second_pause - first_pause) <= 1.5
    assert level(result.path, TOTAL - 0.25, 0.2) < first_pause - 10  # faded out at the end
    # across a seam of the loop: a 2.3 s file of noise repeats every 1.725 s (crossfaded over 0.575 s), so a seam
    # falls in the pause from 6.9 s; its level holds: no dip, no bump against the 0.4 s before it
    rng = np.random.default_rng(5)
    noise = np.convolve(rng.standard_normal(round(2.3 * RATE)), np.ones(40) / 40, mode="same")
    wavy = write_wav(tmp_path / "noise.wav", np.round(noise / np.abs(noise).max() * 0.5 * 32767).astype(np.int16),
                     RATE)
    looped = render(tmp_path, AudioMix(music=wavy, volume=-10.0, speech=tuple(SPEECH)), out="noise.mp4")
    before, seam = level(looped.path, 6.48, 0.4), level(looped.path, 6.9, 0.4)
    assert abs(seam - before) < 1.5, (before, seam)


def test_the_loudness_target_is_configurable(tmp_path):
    result = render(tmp_path, AudioMix(music="generated", loudness=-20.0, speech=tuple(SPEECH)))
    integrated, peak = loudness_and_peak(result.path)
    assert abs(integrated - -20.0) <= 0.7 and peak <= -1.0, (integrated, peak)
    alone = render(tmp_path, AudioMix(loudness=-23.0), out="voice-only.mp4")  # no music, another target
    assert abs(loudness_and_peak(alone.path)[0] - -23.0) <= 0.7


def test_changing_the_music_encodes_no_video_again(tmp_path):
    first = render(tmp_path, None)
    assert first.stills_encoded == 3
    bed = render(tmp_path, AudioMix(music="generated", speech=tuple(SPEECH)), out="bed.mp4")
    louder = render(tmp_path, AudioMix(music="generated", volume=-8.0, speech=tuple(SPEECH)), out="louder.mp4")
    for again in (bed, louder):
        assert again.stills_encoded == 0 and again.encoded_frames == 0
    assert level(louder.path, 2.5 + RELEASE + 0.1, 0.9) > level(bed.path, 2.5 + RELEASE + 0.1, 0.9) + 8
    # the video stream is the same bytes: only the audio was mixed and encoded again
    def video_stream(path):
        return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "h264",
                               "-"], capture_output=True, check=True).stdout
    assert video_stream(first.path) == video_stream(bed.path) == video_stream(louder.path)


@pytest.mark.parametrize("mood", ["calm", "bright", "tense"])
def test_generated_beds_are_deterministic_loops(mood):
    loop = generated_loop(mood)
    generated_loop.cache_clear()
    assert np.array_equal(loop, generated_loop(mood)), "the same samples every time"
    assert 8 * RATE <= len(loop) <= 40 * RATE and 0.4 <= np.abs(loop).max() <= 0.5
    seam = np.abs(loop[0] - loop[-1])
    assert seam < 4 * np.abs(np.diff(loop)).mean() + 0.01, "the loop's end runs into its start"
    others = [generated_loop(m) for m in ("calm", "bright", "tense") if m != mood]
    assert all(len(o) != len(loop) or not np.allclose(o, loop) for o in others)


def test_the_music_s_origin_and_licence_for_the_publication(tmp_path):
    from pipeline.render.music import origin
    from pipeline.store import file_digest

    assert origin(None, "calm", None, tmp_path) is None
    made = origin("generated", "tense", None, tmp_path)
    assert made["source"] == "generated" and made["mood"] == "tense" and made["licence"].startswith("CC0")
    bass_wav(tmp_path / "song.wav")
    given = origin("song.wav", "calm", "CC-BY 4.0, A. Person", tmp_path)
    assert given == {"source": "file", "file": "song.wav", "sha256": file_digest(tmp_path / "song.wav"),
                     "origin": "a file of the data folder, supplied with the brief", "licence": "CC-BY 4.0, A. Person"}
    assert "not stated" in origin("song.wav", "calm", None, tmp_path)["licence"]
