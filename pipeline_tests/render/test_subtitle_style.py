"""Subtitle styles, measured on the pixels: colours, outline, box colour and opacity (or none), position, size,
maximum lines, font (family, file, CJK), `off`; and on a rendered video."""

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.render.fonts import load_font
from pipeline.render.frame import frame_for
from pipeline.render.overlays import Logo, place_logo
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline.render.stills import compose_still, subtitle_box
from pipeline.render.subtitle_style import DEFAULT, SubtitleStyle, block
from pipeline_tests.render.media import solid_png, tone_wav

GROUND = (90, 140, 200)
WIDE = frame_for("16:9")
TEXT = "The keeper climbed the stairs one last time."
LONG = "The keeper climbed the stairs one last time, counting every step in the dark before the dawn came up."


@pytest.fixture
def ground(tmp_path) -> Path:
    return solid_png(tmp_path / "ground.png", GROUND, WIDE.size)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=int)


def near(picture: np.ndarray, color, tolerance=10) -> np.ndarray:
    return np.abs(picture - np.array(color)).max(axis=-1) <= tolerance


def changed_rows(picture: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero((np.abs(picture - np.array(GROUND)).max(axis=2) > 12).any(axis=1))[0]
    return int(rows.min()), int(rows.max()) + 1


def test_colours_outline_and_box_are_the_style_s(ground):
    style = SubtitleStyle(color=(250, 30, 200), outline=(10, 240, 20), outline_width=6, box=(255, 255, 0, 128))
    still = pixels(compose_still(ground, TEXT, "en", WIDE, style=style))
    assert near(still, (250, 30, 200), 2).sum() > 3000, "the letters in the text colour"
    assert near(still, (10, 240, 20), 2).sum() > 3000, "a wide outline in the outline colour"
    box = subtitle_box(TEXT, "en", WIDE, style)
    inside = still[int((box[1] + box[3]) / 2), int(box[0]) + 4]  # the box's left edge, clear of the letters
    expected = (np.array(GROUND) * (1 - 128 / 255) + np.array((255, 255, 0)) * 128 / 255)
    assert np.abs(inside - expected).max() <= 2, (inside, expected)


def test_no_box_and_no_outline(ground):
    style = SubtitleStyle(box=None, outline_width=0)
    still = pixels(compose_still(ground, TEXT, "en", WIDE, style=style))
    box = subtitle_box(TEXT, "en", WIDE, style)
    assert (still[int(box[1]) + 2, int(box[0]) + 2] == GROUND).all(), "no box: the picture shows between letters"
    top, bottom = changed_rows(still)
    letters = still[top:bottom]
    dark = (letters.max(axis=2) < 60).sum()
    assert dark == 0, "no outline: nothing darker than the ground around the white letters"
    default = pixels(compose_still(ground, TEXT, "en", WIDE))
    assert (default.max(axis=2) < 60).sum() > 1000, "the default has its black outline"


@pytest.mark.parametrize("position", ["top", "middle", "bottom", "25%", "80%"])
def test_position(ground, position):
    style = SubtitleStyle(position=position)
    top, bottom = changed_rows(pixels(compose_still(ground, TEXT, "en", WIDE, style=style)))
    left, safe_top, right, safe_bottom = WIDE.safe
    centre = (top + bottom) / 2
    want = {"top": None, "bottom": None, "middle": (safe_top + safe_bottom) / 2,
            "25%": 0.25 * WIDE.height, "80%": 0.8 * WIDE.height}[position]
    if position == "top":
        assert safe_top - 3 <= top <= safe_top + 3
    elif position == "bottom":
        assert safe_bottom - 4 <= bottom <= safe_bottom + 1
        assert (top, bottom) == changed_rows(pixels(compose_still(ground, TEXT, "en", WIDE))), "as by default"
    else:
        assert abs(centre - want) <= 4, (centre, want)


def test_a_percentage_stays_inside_the_safe_area(ground):
    for position in ("0%", "100%"):
        still = compose_still(ground, LONG, "en", WIDE, style=SubtitleStyle(position=position))
        top, bottom = changed_rows(pixels(still))
        assert WIDE.safe[1] - 3 <= top and bottom <= WIDE.safe[3] + 1, (position, top, bottom)


def test_top_lines_keep_clear_of_a_top_logo(tmp_path, ground):
    mark = solid_png(tmp_path / "logo.png", (255, 0, 0), (400, 400))
    logo = Logo(mark, "top-right", 0.2)
    still = pixels(compose_still(ground, LONG, "en", WIDE, logo, style=SubtitleStyle(position="top")))
    icon, (_, y) = place_logo(logo, WIDE)
    text_rows = np.nonzero((np.abs(still - np.array(GROUND)).max(axis=2) > 12)[:, :WIDE.width // 2].any(axis=1))[0]
    assert text_rows.min() >= y + icon.height, "the lines start below the logo"


def test_size_and_max_lines(ground):
    def height(style):
        top, bottom = changed_rows(pixels(compose_still(ground, TEXT, "en", WIDE, style=style)))
        return bottom - top

    short = "One last time."
    def short_height(style):
        top, bottom = changed_rows(pixels(compose_still(ground, short, "en", WIDE, style=style)))
        return bottom - top

    assert 1.4 < short_height(SubtitleStyle(size=1.5)) / short_height(DEFAULT) < 1.6
    assert height(SubtitleStyle(size=1.5)) > 1.9 * height(DEFAULT), "larger: the line now wraps to two"
    default_lines = len(block(LONG, "en", WIDE).lines)
    one = block(LONG, "en", WIDE, SubtitleStyle(max_lines=1))
    assert default_lines == 2 and len(one.lines) <= 2 and one.font.size < block(LONG, "en", WIDE).font.size
    four = block(LONG, "en", WIDE, SubtitleStyle(size=2.0, max_lines=4))
    assert len(four.lines) > default_lines and WIDE.subtitle_px * 1.5 < four.font.size <= WIDE.subtitle_px * 2


def test_fonts_a_family_a_file_and_cjk(tmp_path, ground):
    serif = compose_still(ground, TEXT, "en", WIDE, style=SubtitleStyle(font="DejaVu Serif"))
    default = compose_still(ground, TEXT, "en", WIDE)
    assert (pixels(serif) != pixels(default)).any()
    file = tmp_path / "brand.ttf"
    file.write_bytes(Path(load_font("en", 10, face="DejaVu Serif").path).read_bytes())
    from_file = compose_still(ground, TEXT, "en", WIDE, style=SubtitleStyle(font=file))
    assert (pixels(from_file) == pixels(compose_still(ground, TEXT, "en", WIDE, style=SubtitleStyle(
        font="DejaVu Serif")))).mean() > 0.99
    zh = pixels(compose_still(ground, "天色渐暗，城市的灯火一盏盏亮起。", "zh", WIDE,
                              style=SubtitleStyle(font="Noto Serif CJK SC", color=(255, 210, 0))))
    assert near(zh, (255, 210, 0), 3).sum() > 2000


def test_the_title_card_is_set_in_the_subtitle_font(ground):
    """The title card shows the video's title in the subtitle font: the style's family, or the default."""
    from pipeline.render.overlays import title_layer

    serif = pixels(compose_still(ground, "", "en", WIDE, title="Tides", style=SubtitleStyle(font="DejaVu Serif")))
    assert (serif != pixels(compose_still(ground, "", "en", WIDE, title="Tides"))).any()
    card = Image.alpha_composite(Image.open(ground).convert("RGBA"), title_layer("Tides", "en", WIDE, "DejaVu Serif"))
    assert np.abs(pixels(card.convert("RGB")) - serif).max() <= 1


def test_off_draws_nothing(ground):
    still = pixels(compose_still(ground, TEXT, "en", WIDE, style=SubtitleStyle(mode="off")))
    assert (still == np.array(GROUND)).all()


def test_a_styled_video_shows_the_style_on_its_frames(tmp_path):
    small = frame_for("16:9", (640, 360))
    image = solid_png(tmp_path / "g.png", GROUND, small.size)
    style = SubtitleStyle(color=(255, 40, 40), position="top", box=None, size=2.0)
    shots = [Shot(image=image, text="First line.", start=0.0), Shot(image=image, text="Second line.", start=1.0)]
    request = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", 2.0), total=2.0, out=tmp_path / "v.mp4",
                            work_dir=tmp_path / "w", chunk_cache=tmp_path / "c", frame=small, subtitles=style)
    result = render_slideshow(request)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 360, 640, 3).astype(int)
    red = near(frames, (255, 40, 40), 40)
    rows = np.nonzero(red.any(axis=(0, 2)))[0]
    assert rows.min() >= small.safe[1] - 2 and rows.max() < small.height / 3, "the red lines at the top"
    off = render_slideshow(replace(request, out=tmp_path / "off.mp4", subtitles=SubtitleStyle(mode="off"),
                                   shots=[replace(s, text="") for s in shots]))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(off.path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    plain = np.frombuffer(raw, np.uint8).reshape(-1, 360, 640, 3).astype(int)
    assert np.abs(plain - np.array(GROUND)).max() <= 6 and off.stills == 1
