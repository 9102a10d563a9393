"""Clip segments in the renderer, on real ffmpeg output: exact frames, the clip's own frames in order (looped
and trimmed to the segment), cover and contain, subtitles burned over the clip, its sound mixed or dropped,
and a re-render that encodes nothing again."""

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.render.pieces import ClipSource, Shot
from pipeline.render.slideshow import RenderRequest, render_slideshow
from pipeline_tests.render.footage_media import clip_file
from pipeline_tests.render.media import decoded_frames, ffprobe, solid_png, tone_wav

FPS = 30
STARTS = [0.0, 1.0, 2.0, 3.3]  # segment 0: one cue, segment 1 (the clip): two cues, segment 2: one cue
TOTAL = 4.0
W, H = 160, 90  # frames compared at this size


@pytest.fixture
def render(tmp_path):
    red, blue = solid_png(tmp_path / "red.png", (200, 40, 40)), solid_png(tmp_path / "blue.png", (40, 40, 200))
    narration = tone_wav(tmp_path / "narration.wav", TOTAL)

    def run(clip: ClipSource, texts=("One.", "Clip one.", "Clip two.", "Three."), out="out.mp4"):
        segments, images = [0, 1, 1, 2], [red, red, red, blue]
        shots = [Shot(image=i, text=t, start=s, segment=g, clip=clip if g == 1 else None)
                 for i, t, s, g in zip(images, texts, STARTS, segments)]
        return render_slideshow(RenderRequest(shots=shots, audio=narration, total=TOTAL, out=tmp_path / out,
                                              work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks"))

    return run


def best_match(frame: np.ndarray, source: np.ndarray, rows: int) -> tuple[int, float, float]:
    """The source frame nearest `frame` in its first `rows` rows: its index, its distance, the next best's."""
    distances = [np.abs(frame[:rows] - s[:rows]).mean() for s in source.astype(int)]
    order = np.argsort(distances)
    return int(order[0]), float(distances[order[0]]), float(distances[order[1]])


def test_clip_segment_has_the_clips_frames_looped_and_cut_to_its_narration(render, tmp_path):
    clip = clip_file(tmp_path / "clip.mp4")  # 30 frames: the 69-frame segment loops it twice and a bit
    result = render(ClipSource(clip))
    info = ffprobe(result.path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == round(TOTAL * FPS) == result.frames
    out = decoded_frames(result.path, W, H).astype(int)
    source = decoded_frames(clip, W, H)
    first, last = round(STARTS[1] * FPS), round(STARTS[3] * FPS)  # the clip segment's frames: [30, 99)
    rows = int(H * 0.7)  # clear of the subtitles
    for k in range(last - first):
        index, distance, runner_up = best_match(out[first + k], source, rows)
        assert index == k % len(source), (k, index)
        assert distance < 0.75 * runner_up
    red = np.array([200, 40, 40])
    assert np.abs(out[first - 1][:rows].mean(axis=(0, 1)) - red).max() < 12  # the still before
    assert np.abs(out[last][:rows].mean(axis=(0, 1)) - np.array([40, 40, 200])).max() < 12  # the still after
    # the subtitles are burned over the clip: its bottom band differs from the source frame there
    band, middle = slice(int(H * 0.85), int(H * 0.93)), slice(int(W * 0.42), int(W * 0.58))
    assert np.abs(out[first + 5][band, middle] - source[5].astype(int)[band, middle]).mean() > 30
    assert result.motion_segments == 0


def test_a_clip_of_another_rate_and_shape_fills_the_frame_or_is_contained(render, tmp_path):
    clip = clip_file(tmp_path / "tall.mp4", size="180x320", rate=25, seconds=3.0)
    covered = decoded_frames(render(ClipSource(clip, fit="cover")).path, W, H).astype(int)
    contained = decoded_frames(render(ClipSource(clip, fit="contain"), out="contain.mp4").path, W, H).astype(int)
    assert len(covered) == len(contained) == round(TOTAL * FPS)
    segment = covered[40], contained[40]
    sides = np.concatenate([segment[1][:60, :50], segment[1][:60, -50:]])
    assert sides.mean() < 8  # black bars beside the 9:16 picture
    assert segment[0][:60, :50].mean() > 30  # cover: the picture reaches the edges
    # 25 fps to 30: frame k shows the source frame of time k / 30
    source = decoded_frames(clip, W, H)
    for k in (0, 7, 20, 45):
        index, _, _ = best_match(covered[30 + k], np.stack([_cover(f) for f in source]), int(H * 0.7))
        assert abs(index - k * 25 / 30) <= 1, (k, index)


def _cover(frame: np.ndarray) -> np.ndarray:
    """A 9:16 frame (as decoded at W x H) covered into W x H as the renderer does: the centre strip, scaled."""
    from PIL import Image

    picture = Image.fromarray(frame)
    tall = picture.resize((W, round(W * 320 / 180)))  # the source's own aspect at the frame's width
    top = (tall.height - H) // 2
    return np.asarray(tall.crop((0, top, W, top + H)))


def _tone_energy(path: Path, start: float, end: float, hz: int) -> float:
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "48000",
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.int16)[round(start * 48000):round(end * 48000)].astype(float)
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / 48000)
    return float(spectrum[np.abs(freqs - hz) < 20].sum() / spectrum.sum())


def test_the_clips_sound_is_dropped_or_mixed_under_the_narration(render, tmp_path):
    clip = clip_file(tmp_path / "loud.mp4", tone=1000)
    dropped = render(ClipSource(clip, audio=0.0)).path
    mixed = render(ClipSource(clip, audio=0.5), out="mixed.mp4").path
    assert _tone_energy(dropped, 1.2, 3.1, 1000) < 0.01
    assert _tone_energy(mixed, 1.2, 3.1, 1000) > 0.2  # during the clip segment
    assert _tone_energy(mixed, 0.1, 0.9, 1000) < 0.01 and _tone_energy(mixed, 3.4, 3.9, 1000) < 0.01
    with wave.open(str(tmp_path / "work" / "narration-with-clips.wav")) as w:
        assert w.getnframes() == round(TOTAL * 48000)  # the track keeps its length


def test_a_rerender_encodes_no_clip_segment_again(render, tmp_path):
    clip = clip_file(tmp_path / "clip.mp4")
    render(ClipSource(clip))
    pieces = set((tmp_path / "chunks").glob("*.h264"))
    again = render(ClipSource(clip), out="again.mp4")
    assert again.stills_encoded == 0 and set((tmp_path / "chunks").glob("*.h264")) == pieces
    edited = render(ClipSource(clip), texts=("One.", "Clip one.", "Clip two, edited.", "Three."), out="edited.mp4")
    assert len(set((tmp_path / "chunks").glob("*.h264")) - pieces) == 1  # the clip segment, drawn anew
    assert edited.frames == round(TOTAL * FPS)
