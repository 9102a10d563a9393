"""Stills and thumbnails, checked by pixels: real glyphs (no tofu), wrapping, sizes."""

import numpy as np
import pytest
from PIL import Image

from pipeline.render.overlays import Logo
from pipeline.render.stills import compose_still, load_font, wrap_text
from pipeline.render.thumbnail import compose_thumbnail
from pipeline_tests.render.media import solid_png


def glyph(text: str, language: str) -> np.ndarray:
    font = load_font(language, 64)
    image = Image.new("L", (80, 80), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(image).text((8, 0), text, font=font, fill=255)
    return np.asarray(image) > 128


@pytest.mark.parametrize("a,b", [("天", "地"), ("书", "店"), ("灯", "火")])
def test_chinese_characters_draw_different_glyphs(a, b):
    ga, gb = glyph(a, "zh"), glyph(b, "zh")
    assert ga.sum() > 50 and gb.sum() > 50
    assert (ga != gb).sum() > 0.2 * max(ga.sum(), gb.sum())


def test_no_tofu_for_chinese():
    # A missing glyph draws the same box for every character: compare with a code point no font has.
    tofu = glyph("\U000e0fff", "zh")
    assert (glyph("天", "zh") != tofu).sum() > 100


@pytest.mark.parametrize("language,text", [
    ("en", "The quick brown fox jumps over the lazy dog again and again and again."),
    ("zh", "天色渐暗，城市的灯火一盏盏亮起，她走进了那家旧书店。"),
])
def test_wrap_respects_width(language, text):
    font = load_font(language, 54)
    lines = wrap_text(text, font.getlength, 600, language)
    assert len(lines) > 1
    assert all(font.getlength(line) <= 600 or len(line) <= 2 for line in lines)
    assert not any(line[0] in "，。！？" for line in lines)


def test_still_has_subtitle_band(tmp_path):
    still = compose_still(solid_png(tmp_path / "i.png", (90, 140, 200)), "字幕测试。", "zh")
    pixels = np.asarray(still)
    assert still.size == (1920, 1080)
    assert (pixels[:500] == (90, 140, 200)).all()  # the top is the untouched image
    bottom = pixels[900:1040]
    assert (bottom.min(axis=2) > 230).sum() > 500  # white text drawn over the band


def test_thumbnail_size_and_title(tmp_path):
    image = solid_png(tmp_path / "i.png", (90, 140, 200))
    thumb = compose_thumbnail(image, "雨巷茶馆", "zh")
    assert thumb.size == (1280, 720)
    pixels = np.asarray(thumb)
    assert (pixels[450:700].min(axis=2) > 230).sum() > 1000  # the title in white near the bottom


def test_logo_in_the_top_right_corner(tmp_path):
    logo = Logo(solid_png(tmp_path / "logo.png", (250, 10, 10), size=(200, 100)))
    still = np.asarray(compose_still(solid_png(tmp_path / "i.png", (20, 20, 20)), "", "en", logo=logo))
    assert (still[80, 1800] == (250, 10, 10)).all()
    assert (still[60, 100] == (20, 20, 20)).all()
