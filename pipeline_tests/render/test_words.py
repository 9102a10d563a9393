"""Word mode, measured on the output: which word is drawn in the highlight colour on every frame, against the
word timings; the repeated frames are exact copies; runs are reused when only the timing changes."""

import subprocess
from dataclasses import replace

import numpy as np
import pytest

from pipeline.render.frame import frame_for
from pipeline.render.karaoke import word_shots
from pipeline.render.overlays import Logo, frame_with_logo
from pipeline.render.restamp import build_run, parameters
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline.render.stills import StillMaker, compose_still, to_yuv420p
from pipeline.render.subtitle_style import SubtitleStyle, block, tokens, word_box
from pipeline.render.words import estimate
from pipeline_tests.render.media import solid_png, tone_wav

SMALL = frame_for("16:9", (640, 360))
WORDS = SubtitleStyle(mode="words")
GROUND = (40, 70, 120)
CUES = [  # text, start, word starts (seconds in the track), end of speech
    ("Tides rise twice a day.", 0.0, [0.05, 0.41, 0.80, 1.23, 1.37], 1.71),
    ("The moon pulls the sea toward it.", 2.0, [2.02, 2.30, 2.71, 3.07, 3.23, 3.61, 4.12], 4.4),
]
TOTAL = 4.9


def highlighted(band: np.ndarray) -> np.ndarray:
    """Pixels in the highlight colour (#FFD400) rather than white, black or the ground."""
    r, g, b = (band[..., i].astype(int) for i in range(3))
    return (r > 190) & (g > 150) & (g < 235) & (b < 110)


def shown_word(frame: np.ndarray, text: str, style: SubtitleStyle = WORDS, layout=SMALL) -> int:
    """Which word of `text` is drawn highlighted on a decoded frame (-1: none)."""
    lines = block(text, "en", layout, style)
    counts = []
    for k in range(len(tokens(text, "en"))):
        x0, y0, x1, y1 = word_box(lines, style, "en", k)
        counts.append(int(highlighted(frame[max(0, y0):y1, max(0, x0):x1]).sum()))
    best = int(np.argmax(counts))
    return best if counts[best] > 15 else -1


def frames_of(path, size=SMALL.size) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True)
    assert raw.stderr == b"", raw.stderr  # the re-stamped frames decode without a single complaint
    return np.frombuffer(raw.stdout, np.uint8).reshape(-1, size[1], size[0], 3)


def word_request(tmp_path, cues=CUES, style=WORDS, **changes) -> RenderRequest:
    image = solid_png(tmp_path / "ground.png", GROUND, SMALL.size)
    shots = []
    for n, (text, start, starts, end) in enumerate(cues):
        until = cues[n + 1][1] if n + 1 < len(cues) else TOTAL
        shots += word_shots(Shot(image=image, text=text, start=start, segment=n), starts, end, until)
    request = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", TOTAL), total=TOTAL,
                            out=tmp_path / "words.mp4", work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks",
                            frame=SMALL, subtitles=style)
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def expected(cues=CUES, fps=30) -> list[tuple[int, int]]:
    """(cue, word) shown on every frame: word k from the frame nearest its start, none after the speech ends."""
    bounds = []
    for n, (_, start, starts, end) in enumerate(cues):
        bounds += [(round((start if k == 0 else s) * fps), (n, k)) for k, s in enumerate(starts)]
        bounds.append((round(end * fps), (n, -1)))
    out, current = [], (0, 0)
    for frame in range(round(TOTAL * fps)):
        for at, which in bounds:
            if at <= frame:
                current = which
        out.append(current)
    return out


def test_each_word_is_highlighted_from_the_frame_nearest_its_start(tmp_path):
    result = render_slideshow(word_request(tmp_path))
    frames = frames_of(result.path)
    assert len(frames) == round(TOTAL * 30) == result.frames
    want = expected()
    shown = [(cue, shown_word(f, CUES[cue][0])) for f, (cue, _) in zip(frames, want)]
    assert shown == want
    # one still per word (and one after each cue's speech), each encoded once: no 20-frame chunk per word
    assert result.stills == result.stills_encoded == sum(len(c[2]) + 1 for c in CUES)
    assert result.encoded_frames == result.stills_encoded


def test_new_word_timings_reuse_the_encoded_words(tmp_path):
    first = render_slideshow(word_request(tmp_path))
    retimed = [(text, start, [s + 0.1 * (k > 0) for k, s in enumerate(starts)], end)
               for text, start, starts, end in CUES]
    again = render_slideshow(word_request(tmp_path, retimed))
    assert first.stills_encoded > 0 and again.stills_encoded == 0
    frames = frames_of(again.path)
    want = expected(retimed)
    assert [(cue, shown_word(f, retimed[cue][0])) for f, (cue, _) in zip(frames, want)] == want


def test_word_mode_with_a_moving_segment_a_title_card_and_a_logo(tmp_path):
    mark = tmp_path / "logo.png"
    solid_png(mark, (20, 230, 60), (60, 60))
    request = word_request(tmp_path, title="Tides", title_card_seconds=1.0, logo=Logo(mark, "bottom-right", 0.1))
    request.shots = [s if s.segment == 0 else replace(s, motion=True) for s in request.shots]
    result = render_slideshow(request)
    frames = frames_of(result.path)
    assert len(frames) == round(TOTAL * 30) and result.motion_segments == 1
    want = expected()
    layout = frame_with_logo(SMALL, request.logo)  # the lines above the logo
    shown = [(cue, shown_word(f, CUES[cue][0], layout=layout)) for f, (cue, _) in zip(frames, want)]
    # the zoom moves the picture under the words of cue 1 but not the words: they are overlaid at their frames
    assert shown == want


def test_word_mode_over_a_clip_segment_in_the_briefs_style(tmp_path):
    """A clip segment draws its subtitles as the stills do: the brief's style (here at the top, on an opaque
    box) and the spoken word highlighted from its frame."""
    from pipeline.render.pieces import ClipSource
    from pipeline_tests.render.footage_media import clip_file

    style = replace(WORDS, position="top", box=(0, 0, 0, 255))
    request = word_request(tmp_path, style=style)
    clip = ClipSource(clip_file(tmp_path / "clip.mp4", size="640x360"))
    request.shots = [s if s.segment == 0 else replace(s, clip=clip) for s in request.shots]
    result = render_slideshow(request)
    frames = frames_of(result.path)
    assert len(frames) == round(TOTAL * 30)
    want = expected()
    assert [(cue, shown_word(f, CUES[cue][0], style)) for f, (cue, _) in zip(frames, want)] == want
    # in line mode the same clip segment shows its lines with no word highlighted
    again = render_slideshow(word_request(tmp_path, style=replace(style, mode="line"), out=tmp_path / "line.mp4",
                                          shots=[replace(s, highlight=None) for s in request.shots
                                                 if s.highlight in (0, None)]))
    assert all(shown_word(f, CUES[cue][0], style) == -1 for f, (cue, _) in zip(frames_of(again.path), want))


def test_the_fast_word_frames_are_the_composed_stills(tmp_path):
    image = solid_png(tmp_path / "g.png", GROUND, SMALL.size)
    text = "The keeper climbed the stairs one last time, counting every step in the dark."
    maker = StillMaker("en", SMALL, style=WORDS)
    for k in (-1, 0, 4, 9, 13):
        assert maker.frame(image, text, False, k) == to_yuv420p(compose_still(image, text, "en", SMALL, style=WORDS,
                                                                                 highlight=k))
    zh = "天色渐暗，城市的灯火一盏盏亮起。"
    maker = StillMaker("zh", SMALL, style=WORDS)
    for k in (0, 5, 12):
        assert maker.frame(image, zh, False, k) == to_yuv420p(compose_still(image, zh, "zh", SMALL, style=WORDS,
                                                                              highlight=k))


def test_repeat_frames_copy_the_frame_before_them(tmp_path):
    """A run re-stamped from x264's output decodes to exactly its distinct frames, each repeated."""
    from pipeline.render.h264 import split_access_units
    from pipeline.render.karaoke import run_args, skip_frame

    width, height = 320, 192
    rng = np.random.default_rng(3)
    base = rng.integers(0, 255, (height, width), np.uint8)  # noise: x264 would refine it, given the chance

    def picture(x):
        y = base.copy()
        y[120:160, x:x + 80] = 250
        return y.tobytes() + np.full(width * height // 2, 128, np.uint8).tobytes()

    raw = tmp_path / "run.h264"
    subprocess.run(run_args(raw, width, height, 30, [0]), input=b"".join(picture(x) for x in (10, 90, 200)),
                   check=True)
    units = split_access_units(raw.read_bytes())
    counts = [7, 1, 30]
    stream = b"".join(build_run(units[0], skip_frame(tmp_path, width, height, 30), units[1:], counts,
                                parameters(units)))
    (tmp_path / "built.h264").write_bytes(stream)

    def decode(path):
        out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                             capture_output=True, check=True)
        assert out.stderr == b""
        return np.frombuffer(out.stdout, np.uint8).reshape(-1, height, width)

    distinct, built = decode(raw), decode(tmp_path / "built.h264")
    assert len(built) == sum(counts)
    order = [k for k, n in enumerate(counts) for _ in range(n)]
    assert all(np.array_equal(frame, distinct[k]) for frame, k in zip(built, order))


@pytest.mark.parametrize("text, language", [("One small step for a man, one giant leap.", "en"),
                                            ("天色渐暗，城市的灯火亮起。", "zh")])
def test_estimated_word_starts_follow_syllables_within_the_cue(text, language):
    starts = estimate(text, language, 1.0, 4.0)
    assert len(starts) == len(tokens(text, language)) and starts[0] == 1.0
    assert all(b > a for a, b in zip(starts, starts[1:])) and starts[-1] < 4.0
    if language == "en":  # "giant" (2 syllables) takes longer than "one" (1), and a comma adds a pause
        gaps = np.diff([*starts, 4.0])
        assert gaps[tokens(text, "en").index("giant")] > gaps[tokens(text, "en").index("one", 1)]
