"""The thumbnail: an image with the title set large and readable over a darkened band."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pipeline.render.stills import load_font, wrap_text

SIZE = (1280, 720)


def compose_thumbnail(image: Path, title: str, language: str, size: tuple[int, int] = SIZE) -> Image.Image:
    """The first image cropped to size, darkened at the bottom, with the title in at most 3 lines."""
    width, height = size
    with Image.open(image) as source:
        base = source.convert("RGB")
    scale = max(width / base.width, height / base.height)
    base = base.resize((round(base.width * scale), round(base.height * scale)), Image.Resampling.LANCZOS)
    left, top = (base.width - width) // 2, (base.height - height) // 2
    base = base.crop((left, top, left + width, top + height))
    shade = np.linspace(0.0, 0.75, height, dtype=np.float32)[:, None, None] ** 1.5
    pixels = np.asarray(base, dtype=np.float32) * (1 - shade)
    frame = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(frame)
    for font_size in (96, 84, 72, 60, 52):
        font = load_font(language, font_size)
        lines = wrap_text(title, font.getlength, width * 0.9, language)
        if len(lines) <= 3:
            break
    lines = lines[:3]
    line_height = round(font.size * 1.2)
    y = height - round(height * 0.08) - line_height * len(lines)
    for n, line in enumerate(lines):
        draw.text((width / 2, y + n * line_height + line_height / 2), line, font=font, anchor="mm",
                  fill=(255, 255, 255), stroke_width=max(3, font.size // 14), stroke_fill=(0, 0, 0))
    return frame
