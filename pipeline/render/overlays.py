"""What is drawn over the picture besides subtitles: the logo in a corner, the title card, text blocks."""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.render.fonts import fit_text
from pipeline.render.frame import Frame
from pipeline.store import file_digest, item_key

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
TITLE_SCALE = 1.6  # the title card's text against the subtitles'
BOX = (0, 0, 0, 150)  # the translucent box behind subtitles and the title card


@dataclass(frozen=True)
class Logo:
    """A logo image and how it is shown: corner, size (its longer side as a share of the frame's shorter
    side) and opacity."""

    path: Path
    corner: str = "top-right"
    size: float = 0.15
    opacity: float = 1.0

    def key(self) -> str:
        """What identifies the logo as drawn (its content and placement), for cache keys."""
        return item_key(file_digest(self.path), self.corner, self.size, self.opacity)


def place_logo(logo: Logo, frame: Frame) -> tuple[Image.Image, tuple[int, int]]:
    """The logo scaled to its size, with its opacity, and the top-left pixel it goes at in `frame`'s safe area."""
    with Image.open(logo.path) as source:
        mark = source.convert("RGBA")
    side = max(1, round(logo.size * frame.shorter))
    scale = side / max(mark.size)
    mark = mark.resize((max(1, round(mark.width * scale)), max(1, round(mark.height * scale))),
                       Image.Resampling.LANCZOS)
    if logo.opacity < 1:
        alpha = mark.getchannel("A").point(lambda a: round(a * logo.opacity))
        mark.putalpha(alpha)
    left, top, right, bottom = frame.safe
    x = left if logo.corner.endswith("left") else right - mark.width
    y = top if logo.corner.startswith("top") else bottom - mark.height
    return mark, (x, y)


def frame_with_logo(frame: Frame, logo: Logo | None) -> Frame:
    """`frame` with the subtitles kept above a logo in a bottom corner (a gap of 1.5 % of the shorter side)."""
    if logo is None or not logo.corner.startswith("bottom"):
        return frame
    mark, (_, y) = place_logo(logo, frame)
    return frame.subtitles_above(y - round(0.015 * frame.shorter))


def paste_logo(picture: Image.Image, logo: Logo, frame: Frame) -> None:
    mark, at = place_logo(logo, frame)
    picture.paste(mark, at, mark)


@dataclass(frozen=True)
class TextBlock:
    """Lines of text centred on `center_x`, from `top` down, with the box behind them."""

    font: ImageFont.FreeTypeFont
    lines: list[str]
    center_x: float
    top: float
    line_height: int
    pad: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        widest = max(self.font.getlength(line) for line in self.lines)
        block = self.line_height * len(self.lines)
        return (self.center_x - widest / 2 - self.pad, self.top - self.pad / 2,
                self.center_x + widest / 2 + self.pad, self.top + block + self.pad / 2)

    def draw(self, draw: ImageDraw.ImageDraw, dy: int = 0, box: tuple | None = BOX,
             fill=(255, 255, 255, 255), stroke=(0, 0, 0, 255), stroke_width: int | None = None) -> None:
        if box is not None:
            x0, y0, x1, y1 = self.box
            draw.rounded_rectangle((x0, y0 - dy, x1, y1 - dy), radius=self.pad, fill=box)
        width = stroke_width if stroke_width is not None else max(2, self.font.size // 18)
        for n, line in enumerate(self.lines):
            draw.text((self.center_x, self.top + n * self.line_height + self.line_height / 2 - dy), line,
                      font=self.font, anchor="mm", fill=fill, stroke_width=width, stroke_fill=stroke)


def title_block(title: str, language: str, frame: Frame, face: str | Path | None = None) -> TextBlock:
    """The title card's text: the subtitle font (`face`: the subtitle style's), larger, at most 3 lines, centred
    in the safe area."""
    left, top, right, bottom = frame.safe
    size = round(frame.subtitle_px * TITLE_SCALE)
    pad = round(size * 0.5)
    font, lines = fit_text(title, language, size, right - left - 2 * pad, 3, face=face)
    line_height = round(font.size * 1.3)
    block = line_height * len(lines)
    return TextBlock(font, lines, (left + right) / 2, (top + bottom - block) / 2, line_height, pad)


def title_layer(title: str, language: str, frame: Frame, face: str | Path | None = None) -> Image.Image:
    """The title card alone on a transparent frame-sized RGBA image, in the subtitle font `face`."""
    layer = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    title_block(title, language, frame, face).draw(ImageDraw.Draw(layer))
    return layer
