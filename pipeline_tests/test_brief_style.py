"""The brief's subtitle style, word highlight, music and loudness: defaults, examples, each rule refused with the
field named."""

import subprocess
from pathlib import Path

import pytest

from pipeline.brief import BriefError, load_brief, parse_brief
from pipeline.documents import read_document
from pipeline.render.fonts import load_font
from pipeline.render.subtitle_style import DEFAULT, style_from

ROOT = Path(__file__).resolve().parents[1]


def good(video=None, language="en"):
    brief = {"project_id": "p1", "prompt": "A story about a lighthouse.", "language": language}
    if video is not None:
        brief["video"] = video
    return brief


def test_defaults_are_the_old_look_and_no_music():
    video = parse_brief(good()).video
    s = video.subtitles
    assert (s.mode, s.font, s.size, s.color, s.outline_color, s.outline_width, s.box, s.box_color, s.position,
            s.max_lines) == ("line", None, 1.0, "#FFFFFF", "#000000", None, True, "#000000", "bottom", None)
    assert style_from(s) == DEFAULT, "the default settings draw exactly the renderer's old subtitles"
    assert (video.music, video.music_volume, video.loudness) == (None, -20.0, -16.0)


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("subtitles-*.yaml")) +
                         sorted((ROOT / "examples").glob("music-*.yaml")), ids=lambda p: p.name)
def test_an_example_brief_per_option(path):
    brief = load_brief(path, ROOT / "data")
    assert brief.video.subtitles != parse_brief(good()).video.subtitles or brief.video.music is not None


def test_the_examples_cover_styles_words_and_both_kinds_of_music():
    briefs = [load_brief(p, ROOT / "data") for p in (ROOT / "examples").glob("*.yaml")]
    assert any(b.video.subtitles.font and b.video.subtitles.position.endswith("%") for b in briefs)
    assert any(b.video.subtitles.mode == "words" and b.language == "zh" for b in briefs)
    assert {b.video.music for b in briefs if b.video.music} >= {"generated", "sources/music/bright-loop.ogg"}


def test_an_unquoted_off_is_read_as_off(tmp_path):
    path = tmp_path / "brief.yaml"
    path.write_text("project_id: p1\nprompt: x\nvideo:\n  subtitles:\n    mode: off\n", encoding="utf-8")
    assert read_document(path)["video"]["subtitles"]["mode"] is False  # what YAML makes of it
    assert load_brief(path).video.subtitles.mode == "off"


RULES = [
    (good({"subtitles": {"mode": "karaoke"}}), "video.subtitles.mode: Input should be 'line', 'words' or 'off'"),
    (good({"subtitles": {"mode": True}}), "video.subtitles.mode: Input should be 'line', 'words' or 'off'"),
    (good({"subtitles": {"size": 3}}), "video.subtitles.size: Input should be less than or equal to 2.5"),
    (good({"subtitles": {"size": 0.2}}), "video.subtitles.size: Input should be greater than or equal to 0.5"),
    (good({"subtitles": {"color": "white"}}), "video.subtitles.color: 'white' is not a colour: write it as #RRGGBB"),
    (good({"subtitles": {"highlight_color": "#FFD4"}}), "video.subtitles.highlight_color: '#FFD4' is not a colour"),
    (good({"subtitles": {"outline_color": "#GG0000"}}), "video.subtitles.outline_color: '#GG0000' is not a colour"),
    (good({"subtitles": {"outline_width": 30}}), "video.subtitles.outline_width: Input should be less than or "
                                                 "equal to 20"),
    (good({"subtitles": {"outline_width": 2.5}}), "video.subtitles.outline_width: Input should be a valid integer"),
    (good({"subtitles": {"box": "none"}}), "video.subtitles.box: Input should be a valid boolean"),
    (good({"subtitles": {"box_color": "black"}}), "video.subtitles.box_color: 'black' is not a colour"),
    (good({"subtitles": {"box_opacity": 1.5}}), "video.subtitles.box_opacity: Input should be less than or equal to 1"),
    (good({"subtitles": {"position": "left"}}), "video.subtitles.position: 'left' is not a position: top, middle, "
                                                "bottom, or a percentage from the top such as 70%"),
    (good({"subtitles": {"position": "120%"}}), "video.subtitles.position: '120%': a percentage from the top lies "
                                                "between 0% and 100%"),
    (good({"subtitles": {"position": 70}}), "video.subtitles.position: Input should be a valid string"),
    (good({"subtitles": {"max_lines": 0}}), "video.subtitles.max_lines: Input should be greater than or equal to 1"),
    (good({"subtitles": {"font": "--help"}}), "video.subtitles.font: '--help' is neither a font family name"),
    (good({"subtitles": {"font": "No Such Family"}}), "video.subtitles.font: no font of the family 'No Such Family' "
                                                      "that draws language 'en' is installed"),
    (good({"subtitles": {"font": "DejaVu Sans"}}, language="zh"), "video.subtitles.font: no font of the family "
                                                                  "'DejaVu Sans' that draws language 'zh'"),
    (good({"subtitles": {"font": "../fonts/evil.ttf"}}), "video.subtitles.font: '../fonts/evil.ttf' leads outside "
                                                         "the data folder"),
    (good({"subtitles": {"colour": "#FFFFFF"}}), "video.subtitles.colour: unknown field"),
    (good({"music": "song"}), "video.music: 'song' is neither 'generated' nor an audio file"),
    (good({"music": "music/missing.mp3"}), "video.music: no file 'music/missing.mp3' in the data folder"),
    (good({"music": "../music.mp3"}), "video.music: '../music.mp3' leads outside the data folder"),
    (good({"music": "generated", "music_mood": "sad"}), "video.music_mood: Input should be 'calm', 'bright' or "
                                                        "'tense'"),
    (good({"music_volume": 6}), "video.music_volume: Input should be less than or equal to 0"),
    (good({"music_volume": -60}), "video.music_volume: Input should be greater than or equal to -40"),
    (good({"music_credit": "a\x07b"}), "video.music_credit: must not contain control characters"),
    (good({"loudness": -5}), "video.loudness: Input should be less than or equal to -10"),
    (good({"loudness": "-16"}), "video.loudness: Input should be a valid number"),
]


@pytest.mark.parametrize(("data", "message"), RULES, ids=[m[:60] for _, m in RULES])
def test_style_and_music_rules_name_the_field(data, message, data_dir):
    with pytest.raises(BriefError) as caught:
        parse_brief(data, data_dir)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_font_file_under_the_data_folder_must_draw_the_language(data_dir):
    fonts = data_dir / "fonts"
    fonts.mkdir()
    (fonts / "serif.ttf").write_bytes(Path(load_font("en", 10, face="DejaVu Serif").path).read_bytes())
    brief = parse_brief(good({"subtitles": {"font": "fonts/serif.ttf"}}), data_dir)
    assert brief.video.subtitles.font_face(data_dir) == fonts / "serif.ttf"
    with pytest.raises(BriefError, match="video.subtitles.font: fonts/serif.ttf|has no glyphs for language 'zh'"):
        parse_brief(good({"subtitles": {"font": "fonts/serif.ttf"}}, language="zh"), data_dir)
    cjk = Path(load_font("zh", 10, face="Noto Sans CJK SC").path)
    (fonts / "cjk.ttc").write_bytes(cjk.read_bytes())
    assert parse_brief(good({"subtitles": {"font": "fonts/cjk.ttc"}}, language="zh"), data_dir)


def test_a_music_file_must_be_audio_of_a_second_or_more(data_dir):
    music = data_dir / "music"
    music.mkdir()
    (music / "noise.mp3").write_bytes(b"not audio at all" * 100)
    with pytest.raises(BriefError, match="video.music: 'music/noise.mp3' is not audio ffprobe can read"):
        parse_brief(good({"music": "music/noise.mp3"}), data_dir)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=0.5",
                    str(music / "blip.wav")], check=True)
    with pytest.raises(BriefError, match="lasts 0.50 s; music must last at least 1 s"):
        parse_brief(good({"music": "music/blip.wav"}), data_dir)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=3",
                    "-c:a", "libmp3lame", str(music / "song.mp3")], check=True)
    brief = parse_brief(good({"music": "music/song.mp3", "music_volume": -25, "music_credit": "CC-BY 4.0, A. Person"}),
                        data_dir)
    assert (brief.video.music, brief.video.music_volume) == ("music/song.mp3", -25.0)
