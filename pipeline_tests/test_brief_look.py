"""The brief's look: format, overlays and thumbnail style, each rule refused with the field named."""

from pathlib import Path

import pytest
from PIL import Image

from pipeline.brief import BriefError, load_brief, parse_brief
from pipeline.render.fonts import load_font

ROOT = Path(__file__).resolve().parents[1]


def good(video=None, thumbnail=None, language="en"):
    brief = {"project_id": "p1", "prompt": "A story about a lighthouse.", "language": language}
    if video is not None:
        brief["video"] = video
    if thumbnail is not None:
        brief["thumbnail"] = thumbnail
    return brief


def test_defaults_are_the_landscape_video_and_the_old_thumbnail():
    brief = parse_brief(good())
    v, t = brief.video, brief.thumbnail
    assert (v.format, v.logo_position, v.logo_size, v.logo_opacity, v.title_card, v.title_card_seconds) == \
        ("16:9", "top-right", 0.15, 1.0, False, 3.0)
    assert (t.font, t.color, t.outline_color, t.shade_color, t.position, t.logo) == \
        (None, "#FFFFFF", "#000000", "#000000", "bottom", True)


@pytest.mark.parametrize("format", ["16:9", "9:16", "1:1"])
def test_every_format_is_accepted(format):
    assert parse_brief(good({"format": format})).video.format == format


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("format-*.yaml")), ids=lambda p: p.name)
def test_an_example_brief_per_format(path):
    brief = load_brief(path, ROOT / "data")
    assert brief.video.format in path.stem.replace("x", ":").replace("format-", "")


def test_the_examples_cover_every_format():
    formats = {load_brief(p, ROOT / "data").video.format for p in (ROOT / "examples").glob("format-*.yaml")}
    assert formats == {"16:9", "9:16", "1:1"}


LOOK_RULES = [
    (good({"format": "4:3"}), "video.format: Input should be '16:9', '9:16' or '1:1'"),
    (good({"format": 556}), 'video.format: write the format in quotes, e.g. format: "9:16" (YAML reads it unquoted '
                            'as the number 556)'),
    (good({"logo_position": "middle"}), "video.logo_position: Input should be 'top-left', 'top-right', "
                                        "'bottom-left' or 'bottom-right'"),
    (good({"logo_size": 0.01}), "video.logo_size: Input should be greater than or equal to 0.03"),
    (good({"logo_size": 0.9}), "video.logo_size: Input should be less than or equal to 0.5"),
    (good({"logo_opacity": 0}), "video.logo_opacity: Input should be greater than or equal to 0.05"),
    (good({"logo_opacity": 1.5}), "video.logo_opacity: Input should be less than or equal to 1"),
    (good({"title_card": "yes"}), "video.title_card: Input should be a valid boolean"),
    (good({"title_card_seconds": 30}), "video.title_card_seconds: Input should be less than or equal to 10"),
    (good(thumbnail={"color": "red"}), "thumbnail.color: 'red' is not a colour: write it as #RRGGBB"),
    (good(thumbnail={"shade_color": "#12345"}), "thumbnail.shade_color: '#12345' is not a colour"),
    (good(thumbnail={"outline_color": 0}), "thumbnail.outline_color: Input should be a valid string"),
    (good(thumbnail={"position": "left"}), "thumbnail.position: Input should be 'top', 'center' or 'bottom'"),
    (good(thumbnail={"logo": 1}), "thumbnail.logo: Input should be a valid boolean"),
    (good(thumbnail={"font": "--help"}), "thumbnail.font: '--help' is neither a font family name"),
    (good(thumbnail={"font": "No Such Family"}), "thumbnail.font: no font of the family 'No Such Family' that "
                                                 "draws language 'en' is installed"),
    (good(thumbnail={"font": "DejaVu Serif"}, language="zh"), "no font of the family 'DejaVu Serif' that draws "
                                                              "language 'zh'"),
    (good(thumbnail={"font": "../fonts/evil.ttf"}),
     "thumbnail.font: '../fonts/evil.ttf' leads outside the data folder"),
    (good(thumbnail={"font": "fonts/missing.ttf"}), "thumbnail.font: no file 'fonts/missing.ttf' in the data folder"),
    (good(thumbnail={"size": 3}), "thumbnail.size: unknown field"),
]


@pytest.mark.parametrize(("data", "message"), LOOK_RULES, ids=[m[:50] for _, m in LOOK_RULES])
def test_look_rules_name_the_field(data, message, data_dir):
    with pytest.raises(BriefError) as caught:
        parse_brief(data, data_dir)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_font_file_under_the_data_folder(data_dir):
    fonts = data_dir / "fonts"
    fonts.mkdir()
    (fonts / "brand.ttf").write_bytes(Path(load_font("en", 10, face="DejaVu Serif").path).read_bytes())
    brief = parse_brief(good(thumbnail={"font": "fonts/brand.ttf"}), data_dir)
    assert brief.thumbnail.font_face(data_dir) == fonts / "brand.ttf"
    (fonts / "broken.ttf").write_bytes(b"not a font")
    with pytest.raises(BriefError, match="is not a font file Pillow can read"):
        parse_brief(good(thumbnail={"font": "fonts/broken.ttf"}), data_dir)
    with pytest.raises(BriefError, match="has no glyphs for language 'zh'"):
        parse_brief(good(thumbnail={"font": "fonts/brand.ttf"}, language="zh"), data_dir)


def test_a_cjk_family_for_a_chinese_thumbnail(data_dir):
    brief = parse_brief(good(thumbnail={"font": "Noto Serif CJK SC", "color": "#ffcc00"}, language="zh"), data_dir)
    assert brief.thumbnail.color == "#FFCC00"


def test_the_logo_fields_need_no_logo_but_are_checked(data_dir):
    Image.new("RGBA", (64, 32), (200, 20, 20, 255)).save(data_dir / "logo.png")
    brief = parse_brief(good({"logo": "logo.png", "logo_position": "bottom-left", "logo_size": 0.3,
                              "logo_opacity": 0.6, "title_card": True, "title_card_seconds": 4}), data_dir)
    assert (brief.video.logo_position, brief.video.logo_size, brief.video.title_card_seconds) == \
        ("bottom-left", 0.3, 4.0)
