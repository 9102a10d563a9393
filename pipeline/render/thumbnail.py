"""The thumbnail: an image with the title set large and readable over a shaded band, in a style."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pipeline.render.fonts import fit_text
from pipeline.render.frame import Frame, thumbnail_frame
from pipeline.render.overlays import Logo, TextBlock, paste_logo, place_logo
from pipeline.render.stills import fit_picture

SIZE = (1280, 720)  # of 16:9; render.frame.THUMBNAIL_SIZES has every format's
POSITIONS = ("top", "center", "bottom")
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class ThumbnailStyle:
    """How the title is set: font (a family name or a font file; None: the subtitles' bold sans), colours
    of the text, its outline and the shade behind it, and where it goes."""

    font: str | Path | None = None
    color: RGB = (255, 255, 255)
    outline: RGB = (0, 0, 0)
    shade: RGB = (0, 0, 0)
    position: str = "bottom"


def _shade(height: int, position: str) -> np.ndarray:
    """How much of the shade colour each row takes: strongest where the title is, none far from it."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)
    if position == "top":
        t = t[::-1]
    elif position == "center":
        t = 1 - np.abs(t - 0.5) * 2
    return (t * 0.75) ** 1.5


def compose_thumbnail(image: Path, title: str, language: str, frame: Frame | None = None,
                      style: ThumbnailStyle = ThumbnailStyle(), logo: Logo | None = None) -> Image.Image:
    """The image cropped to the thumbnail's size, shaded toward the title, the title in at most 3 lines
    inside the safe area, and the logo in its corner when given."""
    frame = frame or thumbnail_frame("16:9")
    base = np.asarray(fit_picture(image, frame.size), dtype=np.float32)
    amount = _shade(frame.height, style.position)[:, None, None]
    pixels = base * (1 - amount) + np.array(style.shade, np.float32) * amount
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    left, top, right, bottom = frame.safe
    if logo is not None and logo.corner.startswith(style.position):  # the title keeps clear of the logo
        mark, (_, y) = place_logo(logo, frame)
        gap = round(0.015 * frame.shorter)
        top, bottom = (y + mark.height + gap, bottom) if style.position == "top" else (top, y - gap)
    scale = frame.shorter / 720
    font, lines = fit_text(title, language, round(96 * scale), right - left, 3, face=style.font, smallest=0.54)
    lines = lines[:3]
    line_height = round(font.size * 1.2)
    block = line_height * len(lines)
    y = {"top": top, "center": (top + bottom - block) / 2, "bottom": bottom - block}[style.position]
    TextBlock(font, lines, (left + right) / 2, y, line_height, 0).draw(
        ImageDraw.Draw(picture), box=None, fill=style.color, stroke=style.outline,
        stroke_width=max(3, font.size // 14))
    if logo is not None:
        paste_logo(picture, logo, frame)
    return picture
