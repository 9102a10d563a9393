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


def _subtitle_layout(text: str, language: str, size: tuple[int, int]):
    """Font, lines, line height, first line's top and the band's box, in frame coordinates."""
    width, height = size
    font = load_font(language, size=round(height * 0.05))
    lines = wrap_text(text, font.getlength, width * 0.84, language)
    line_height = round(font.size * 1.35)
    block = line_height * len(lines)
    top = height - round(height * 0.07) - block
    widest = max(font.getlength(line) for line in lines)
    pad = round(font.size * 0.5)
    box = ((width - widest) / 2 - pad, top - pad / 2, (width + widest) / 2 + pad, top + block + pad / 2)
    return font, lines, line_height, top, box, pad


def subtitle_rows(text: str, language: str, size: tuple[int, int]) -> tuple[int, int]:
    """The even-aligned rows [first, last) a subtitle can change, stroke and anti-aliasing included."""
    *_, box, pad = _subtitle_layout(text, language, size)
    first = max(0, int(box[1]) - pad) // 2 * 2
    last = min(size[1], -(-(int(box[3]) + pad) // 2) * 2)
    return first, last


def subtitle_layer(text: str, language: str, size: tuple[int, int], dy: int = 0,
                   height: int | None = None) -> Image.Image:
    """The subtitle alone on a transparent RGBA image (rows `dy` to `dy + height` of the frame)."""
    font, lines, line_height, top, box, pad = _subtitle_layout(text, language, size)
    overlay = Image.new("RGBA", (size[0], height or size[1]), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((box[0], box[1] - dy, box[2], box[3] - dy), radius=pad, fill=(0, 0, 0, 150))
    for n, line in enumerate(lines):
        draw.text((size[0] / 2, top + n * line_height + line_height / 2 - dy), line, font=font, anchor="mm",
                  fill=(255, 255, 255, 255), stroke_width=max(2, font.size // 18), stroke_fill=(0, 0, 0, 255))
    return overlay


def _draw_subtitle(frame: Image.Image, text: str, language: str, size: tuple[int, int] | None = None,
                   dy: int = 0) -> None:
    """Draw the subtitle on `frame`, which shows the full frame of `size` from row `dy` down."""
    overlay = subtitle_layer(text, language, size or frame.size, dy, frame.size[1])
    frame.paste(Image.alpha_composite(frame.convert("RGBA"), overlay).convert("RGB"))


class StillMaker:
    """Raw yuv420p frames for cue stills: each image decoded and converted once, then only the
    subtitle's band is drawn and converted for each cue."""

    def __init__(self, language: str, size: tuple[int, int], logo: Path | None = None):
        self.language = language
        self.size = size
        self.logo = logo
        self._bases: dict[Path, tuple[Image.Image, list]] = {}

    def _base(self, image: Path) -> tuple[Image.Image, list]:
        if image not in self._bases:
            if len(self._bases) > 4:
                self._bases.pop(next(iter(self._bases)))
            frame = compose_still(image, "", self.language, self.size, self.logo)
            self._bases[image] = (frame, _yuv_planes(frame))
        return self._bases[image]

    def frame(self, image: Path, text: str) -> bytes:
        rgb, planes = self._base(image)
        if not text:
            return b"".join(p.tobytes() for p in planes)
        first, last = subtitle_rows(text, self.language, self.size)
        band = rgb.crop((0, first, self.size[0], last))
        _draw_subtitle(band, text, self.language, self.size, dy=first)
        y, u, v = (p.copy() for p in planes)
        by, bu, bv = _yuv_planes(band)
        y[first:last] = by
        u[first // 2:last // 2] = bu
        v[first // 2:last // 2] = bv
        return b"".join(p.tobytes() for p in (y, u, v))


def _yuv_planes(image: Image.Image) -> list:
    """BT.709 limited-range Y, U, V planes (U, V at half size) of an RGB image with even sides."""
    import numpy as np

    rgb = np.asarray(image, dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + (0.2126 * r + 0.7152 * g + 0.0722 * b) * (219 / 255)
    u = 128 + (-0.1146 * r - 0.3854 * g + 0.5 * b) * (224 / 255)
    v = 128 + (0.5 * r - 0.4542 * g - 0.0458 * b) * (224 / 255)

    def half(plane):
        return (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) / 4

    return [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, half(u), half(v))]


def to_yuv420p(image: Image.Image) -> bytes:
    """Raw BT.709 limited-range yuv420p bytes of an RGB image with even sides."""
    return b"".join(p.tobytes() for p in _yuv_planes(image))
