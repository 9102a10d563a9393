"""Compose the frames of a slideshow: the segment's image, the burned-in subtitle, the logo."""

import functools
import subprocess
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.render.ffmpeg import MissingTool

# Punctuation that must not begin a line in CJK text (kinsoku).
_NO_LINE_START = set("，。！？；：、）》」』”’,.!?;:)")


@functools.cache
def find_font(language: str, bold: bool = True) -> tuple[str, int]:
    """(font file, face index) able to draw `language`, found through fontconfig."""
    pattern = ":lang=zh-cn" if language == "zh" else ":lang=en"
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
        if "Sans" in rest:
            score += 2
        if (" SC" in rest or "Source Han Sans SC" in rest) and language == "zh":
            score += 3
        if ("Bold" in rest) == bold:
            score += 1
        if any(word in rest for word in ("Mono", "Oblique", "Italic", "Condensed", "Light")):
            score -= 3
        candidates.append((score, file, index))
    if not candidates:
        package = "fonts-noto-cjk" if language == "zh" else "fonts-dejavu-core"
        raise MissingTool(
            f"no font that draws language {language!r} is installed; install one with "
            f"`apt-get install {package}` (make setup does this as root)"
        )
    _, file, index = max(candidates, key=lambda c: (c[0], c[1]))
    return file, index


def load_font(language: str, size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    file, index = find_font(language, bold)
    return ImageFont.truetype(file, size=size, index=index)


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


def compose_still(
    image: Path,
    text: str,
    language: str,
    size: tuple[int, int] = (1920, 1080),
    logo: Path | None = None,
) -> Image.Image:
    """The frame shown while one cue is spoken."""
    width, height = size
    with Image.open(image) as source:
        frame = source.convert("RGB")
    if frame.size != size:
        frame = frame.resize(size, Image.Resampling.LANCZOS)
    if text:
        _draw_subtitle(frame, text, language)
    if logo is not None:
        with Image.open(logo) as source:
            mark = source.convert("RGBA")
        mark.thumbnail((width // 8, height // 8))
        frame.paste(mark, (width - mark.width - 40, 40), mark)
    return frame


def _draw_subtitle(frame: Image.Image, text: str, language: str) -> None:
    width, height = frame.size
    font = load_font(language, size=round(height * 0.05))
    lines = wrap_text(text, font.getlength, width * 0.84, language)
    line_height = round(font.size * 1.35)
    block = line_height * len(lines)
    top = height - round(height * 0.07) - block
    overlay = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    widest = max(font.getlength(line) for line in lines)
    pad = round(font.size * 0.5)
    draw.rounded_rectangle(
        ((width - widest) / 2 - pad, top - pad / 2, (width + widest) / 2 + pad, top + block + pad / 2),
        radius=pad, fill=(0, 0, 0, 150),
    )
    for n, line in enumerate(lines):
        draw.text((width / 2, top + n * line_height + line_height / 2), line, font=font, anchor="mm",
                  fill=(255, 255, 255, 255), stroke_width=max(2, font.size // 18), stroke_fill=(0, 0, 0, 255))
    frame.paste(Image.alpha_composite(frame.convert("RGBA"), overlay).convert("RGB"))


def to_yuv420p(image: Image.Image) -> bytes:
    """Raw BT.709 limited-range yuv420p bytes of an RGB image with even sides."""
    import numpy as np

    rgb = np.asarray(image, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (0.2126 * r + 0.7152 * g + 0.0722 * b) * (219 / 255)
    u = 128 + (-0.1146 * r - 0.3854 * g + 0.5 * b) * (224 / 255)
    v = 128 + (0.5 * r - 0.4542 * g - 0.0458 * b) * (224 / 255)

    def half(plane):
        return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4

    planes = [y, half(u), half(v)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)
