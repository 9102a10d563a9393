"""Fonts that draw a language (found through fontconfig, or a font file), and text wrapped to a width."""

import functools
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.render.ffmpeg import MissingTool

# Punctuation that must not begin a line in CJK text (kinsoku).
_NO_LINE_START = set("，。！？；：、）》」』”’,.!?;:)")
FONT_FILES = (".ttf", ".otf", ".ttc")
SAMPLE = {"zh": "天地书店", "en": "Abg"}  # characters a font for the language must draw
FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")


@functools.cache
def find_font(language: str, bold: bool = True, family: str | None = None) -> tuple[str, int]:
    """(font file, face index) able to draw `language`, found through fontconfig; of `family` when given."""
    pattern = (family.replace("-", "\\-") if family else "") + (":lang=zh-cn" if language == "zh" else ":lang=en")
    try:
        out = subprocess.run(["fc-list", pattern, "file", "index", "family", "style"],
                             capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise MissingTool(f"cannot list fonts with fontconfig (fc-list): {e}") from e
    candidates = []
    for line in out.splitlines():
        file, _, rest = line.partition(": ")
        index = 0
        if ":index=" in rest:
            index = int(rest.split(":index=")[1].split(":")[0])
        score = 0
        if "Sans" in rest and not family:
            score += 2
        if (" SC" in rest or "Source Han Sans SC" in rest) and language == "zh":
            score += 3
        if ("Bold" in rest) == bold:
            score += 1
        if any(word in rest for word in ("Mono", "Oblique", "Italic", "Condensed", "Light")):
            score -= 3
        candidates.append((score, file, index))
    if not candidates and family:
        raise MissingTool(f"no font of the family {family!r} that draws language {language!r} is installed; "
                          f"`fc-list :lang={'zh-cn' if language == 'zh' else 'en'} family` lists those that are")
    if not candidates:
        package = "fonts-noto-cjk" if language == "zh" else "fonts-dejavu-core"
        raise MissingTool(
            f"no font that draws language {language!r} is installed; install one with "
            f"`apt-get install {package}` (make setup does this as root)"
        )
    _, file, index = max(candidates, key=lambda c: (c[0], c[1]))
    return file, index


def load_font(language: str, size: int, bold: bool = True, face: str | Path | None = None) -> ImageFont.FreeTypeFont:
    """A font of `size` px for `language`: the default bold sans, a family name (`face`), or a font file."""
    if isinstance(face, Path):
        return ImageFont.truetype(str(face), size=size)
    file, index = find_font(language, bold, face)
    return ImageFont.truetype(file, size=size, index=index)


def font_key(language: str, face: str | Path | None = None) -> tuple[str, int]:
    """What identifies the font drawn for `language` (for cache keys): its file and face index."""
    return (str(face), 0) if isinstance(face, Path) else find_font(language, True, face)


def draws(font: ImageFont.FreeTypeFont, text: str) -> bool:
    """Whether every character of `text` has a glyph of its own in `font` (not the missing-glyph box)."""
    def mask(character: str) -> bytes:
        image = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(image).text((0, 0), character, font=font, fill=255)
        return image.tobytes()

    missing = mask("\U0010fffd")  # a private-use code point no font draws (not a default-ignorable one)
    return all(mask(c) != missing for c in text)


def font_problem(face: str | Path, language: str) -> str | None:
    """Why `face` (a family name or a font file) cannot draw `language`; None when it can."""
    try:
        font = load_font(language, 48, face=face)
    except MissingTool as e:
        return str(e)
    except OSError:
        return f"{face} is not a font file Pillow can read (TrueType or OpenType)"
    if not draws(font, SAMPLE.get(language, SAMPLE["en"])):
        return f"{face} has no glyphs for language {language!r}"
    return None


def wrap_text(text: str, measure: Callable[[str], float], max_width: float, language: str) -> list[str]:
    """Break text into lines no wider than max_width: at spaces, or between any CJK characters."""
    tokens = list(text) if language == "zh" else text.split()
    joiner = "" if language == "zh" else " "
    lines: list[str] = []
    for token in tokens:
        candidate = (lines[-1] + joiner + token) if lines else token
        if lines and (measure(candidate) <= max_width or (language == "zh" and token in _NO_LINE_START)):
            lines[-1] = candidate
        else:
            lines.append(token)
    return lines


def fit_text(text: str, language: str, size: int, max_width: float, max_lines: int,
             face: str | Path | None = None, smallest: float = 0.6) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The font (from `size` px down to `smallest` of it) and lines that fit `text` in `max_lines` of `max_width`.

    At the smallest size the text keeps every line it needs: nothing is ever cut.
    """
    current = size
    while True:
        font = load_font(language, current, face=face)
        lines = wrap_text(text, font.getlength, max_width, language)
        if len(lines) <= max_lines or current * 0.9 < size * smallest:
            return font, lines
        current = round(current * 0.9)
