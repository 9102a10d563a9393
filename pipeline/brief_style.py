"""The brief's subtitle style (`video.subtitles`) and background music (`video.music`), validated.

Both are part of the video's look (`VideoSettings.LOOK`): changing them re-renders the video, never
the text or the speech. The renderer takes them as `pipeline.render.subtitle_style.SubtitleStyle` and
`pipeline.render.music.MusicBed`.
"""

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.documents import resolve_data_path

_Strict = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
POSITION = re.compile(r"(top|middle|bottom|(\d{1,3}(?:\.\d+)?)%)")
MUSIC_FILES = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac")
MAX_MUSIC_BYTES = 200 << 20
GENERATED = "generated"
MOODS = ("calm", "bright", "tense")


def hex_color(value: str) -> str:
    if not COLOR.fullmatch(value):
        raise ValueError(f"{value!r} is not a colour: write it as #RRGGBB, e.g. #FFCC00")
    return value.upper()


def font_name(value: str | None) -> str | None:
    """A font family name or a font file name: never an option or anything else."""
    from pipeline.render.fonts import FAMILY, FONT_FILES

    if value is not None and not value.lower().endswith(FONT_FILES) and not FAMILY.fullmatch(value):
        raise ValueError(f"{value!r} is neither a font family name (letters, digits, spaces, '-', '_', '.') "
                         f"nor a {', '.join(FONT_FILES)} file")
    return value


def font_face(font: str | None, data_dir: str | Path, field: str) -> str | Path | None:
    """A font as the renderer takes it: a family name, or the font file's path under `data_dir`."""
    from pipeline.render.fonts import FONT_FILES

    if font is not None and font.lower().endswith(FONT_FILES):
        return resolve_data_path(data_dir, font, field)
    return font


def check_font(font: str | None, data_dir: str | Path, language: str, field: str) -> None:
    """Refuse a font that is not installed (or not readable) or cannot draw `language`."""
    from pipeline.render.fonts import font_problem

    if font is not None:
        problem = font_problem(font_face(font, data_dir, field), language)  # type: ignore[arg-type]
        if problem is not None:
            raise ValueError(f"{field}: {problem}")


class SubtitleSettings(BaseModel):
    """How the burned-in subtitles look: font, size, colours, outline, box, position, lines, word highlight."""

    model_config = _Strict
    mode: Literal["line", "words", "off"] = Field(
        default="line", description="line: the cue's line; words: the word being spoken in highlight_color too; "
                                    "off: no burned-in subtitles (the SRT and WebVTT files are still made)")
    font: str | None = Field(default=None, max_length=200,
                             description="a font family installed on the machine (fc-list), or a .ttf, .otf or "
                                         ".ttc file under the data folder; default: a bold sans")
    size: float = Field(default=1.0, ge=0.5, le=2.5, description="text size against the format's own, 0.5-2.5")
    color: str = Field(default="#FFFFFF", description="the text's colour, #RRGGBB")
    highlight_color: str = Field(default="#FFD400", description="the spoken word's colour in words mode, #RRGGBB")
    outline_color: str = Field(default="#000000", description="the outline around the letters, #RRGGBB")
    outline_width: int | None = Field(default=None, ge=0, le=20,
                                      description="the outline's width in pixels, 0-20 (0: none); default: "
                                                  "an 18th of the text size, at least 2")
    box: bool = Field(default=True, description="a box behind the lines")
    box_color: str = Field(default="#000000", description="the box's colour, #RRGGBB")
    box_opacity: float = Field(default=0.59, ge=0.05, le=1.0, description="the box's opacity, 0.05-1")
    position: str = Field(default="bottom", description="top, middle, bottom (inside the safe area), or the "
                                                         "lines' centre as a percentage from the top, e.g. 70%")
    max_lines: int | None = Field(default=None, ge=1, le=8,
                                  description="most lines before the text shrinks, 1-8; default: the format's "
                                              "(3 for 16:9, 5 for 9:16, 4 for 1:1)")

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads an unquoted `off` as false

    @field_validator("color", "highlight_color", "outline_color", "box_color")
    @classmethod
    def _hex_color(cls, value: str) -> str:
        return hex_color(value)

    @field_validator("font")
    @classmethod
    def _font_name(cls, value: str | None) -> str | None:
        return font_name(value)

    @field_validator("position")
    @classmethod
    def _position(cls, value: str) -> str:
        match = POSITION.fullmatch(value)
        if not match:
            raise ValueError(f"{value!r} is not a position: top, middle, bottom, or a percentage from the top "
                             "such as 70%")
        if match[2] is not None and not 0 <= float(match[2]) <= 100:
            raise ValueError(f"{value!r}: a percentage from the top lies between 0% and 100%")
        return value

    def font_face(self, data_dir: str | Path) -> str | Path | None:
        return font_face(self.font, data_dir, "video.subtitles.font")

    def check_font(self, data_dir: str | Path, language: str) -> None:
        check_font(self.font, data_dir, language, "video.subtitles.font")


def music_name(value: str | None) -> str | None:
    """`generated`, or the name of an audio file (checked under the data folder by check_music)."""
    if value is None or value == GENERATED:
        return value
    if not value.lower().endswith(MUSIC_FILES):
        raise ValueError(f"{value!r} is neither 'generated' nor an audio file ({', '.join(MUSIC_FILES)}) under the "
                         "data folder")
    return value


def check_music(data_dir: str | Path, relative: str, field: str = "video.music") -> Path:
    """A music file under the data folder that ffprobe reads as audio of at least a second."""
    from pipeline.render import ffmpeg

    path = resolve_data_path(data_dir, relative, field)
    if path.stat().st_size > MAX_MUSIC_BYTES:
        raise ValueError(f"{field}: {relative!r} is larger than {MAX_MUSIC_BYTES >> 20} MiB")
    try:
        info = ffmpeg.probe(path)
    except ffmpeg.MissingTool:
        raise
    except ffmpeg.RenderError:
        info = {"streams": []}
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise ValueError(f"{field}: {relative!r} is not audio ffprobe can read: give a WAV, MP3, OGG, FLAC or "
                         "M4A file")
    seconds = float(info.get("format", {}).get("duration") or audio[0].get("duration") or 0)
    if seconds < 1:
        raise ValueError(f"{field}: {relative!r} lasts {seconds:.2f} s; music must last at least 1 s (it is "
                         "looped to the video's length)")
    return path
