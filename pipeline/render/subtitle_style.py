"""How burned-in subtitles look (the brief's `video.subtitles`), and the subtitle block laid out in that style.

The default style is the renderer's look before styles existed, pixel for pixel: the format's bold
sans at its size, white text with a black outline of a 18th of the text size, a translucent black box,
the lines' bottom on the safe area's bottom (or above a logo in a bottom corner). In word mode the
line is drawn the same way and the word being spoken is drawn over it in the highlight colour.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from PIL import ImageDraw

from pipeline.render.fonts import fit_text
from pipeline.render.frame import Frame
from pipeline.render.overlays import BOX, Logo, TextBlock, place_logo

RGB = tuple[int, int, int]
MODES = ("line", "words", "off")
_PUNCTUATION = set("，。！？；：、）》」』“”‘’（《「『…—,.!?;:()\"' ")


@dataclass(frozen=True)
class SubtitleStyle:
    """The subtitles' look. `position` is top, middle, bottom or a percentage from the top (`"70%"`);
    `box` is the box's RGBA (None: no box); `max_lines` and `outline_width` None take the format's own."""

    mode: str = "line"
    font: str | Path | None = None
    size: float = 1.0
    color: RGB = (255, 255, 255)
    highlight: RGB = (255, 212, 0)
    outline: RGB = (0, 0, 0)
    outline_width: int | None = None
    box: tuple[int, int, int, int] | None = BOX
    position: str = "bottom"
    max_lines: int | None = None
    top_row: int | None = None  # the highest row the lines may use (below a logo in a top corner); set by `placed`

    @property
    def words(self) -> bool:
        return self.mode == "words"

    @property
    def off(self) -> bool:
        return self.mode == "off"

    def key(self) -> tuple:
        """What identifies the look, for cache keys: nothing for the default (so its chunks keep their keys)."""
        if self == DEFAULT:
            return ()
        font = self.font
        if isinstance(font, Path):
            from pipeline.store import file_digest

            font = f"file:{file_digest(font)}"
        return ("subtitles", self.mode, font, self.size, self.color, self.highlight, self.outline,
                self.outline_width, self.box, self.position, self.max_lines, self.top_row)


DEFAULT = SubtitleStyle()


def rgb(color: str) -> RGB:
    """#RRGGBB as an (r, g, b) tuple."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def style_from(settings, font: str | Path | None = None) -> SubtitleStyle:
    """The renderer's style from the brief's `video.subtitles` (pipeline.brief_style.SubtitleSettings), its font
    resolved by the caller (a family name, or a font file's path)."""
    box = (*rgb(settings.box_color), round(settings.box_opacity * 255)) if settings.box else None
    return SubtitleStyle(mode=settings.mode, font=font, size=settings.size, color=rgb(settings.color),
                         highlight=rgb(settings.highlight_color), outline=rgb(settings.outline_color),
                         outline_width=settings.outline_width, box=box, position=settings.position,
                         max_lines=settings.max_lines)


def placed(style: SubtitleStyle, frame: Frame, logo: Logo | None) -> SubtitleStyle:
    """`style` kept clear of a logo in a top corner when the lines may go high (top, middle, a percentage); a
    bottom logo already lifts the lines (overlays.frame_with_logo)."""
    if logo is None or not logo.corner.startswith("top") or style.position == "bottom" or style.off:
        return style
    mark, (_, y) = place_logo(logo, frame)
    return replace(style, top_row=y + mark.height + round(0.015 * frame.shorter))


def tokens(text: str, language: str) -> list[str]:
    """The words a line is highlighted by, in order: space-separated words, or each CJK character that is not
    punctuation."""
    if language == "zh":
        return [c for c in text if c not in _PUNCTUATION and not c.isspace()]
    return text.split()


def block(text: str, language: str, frame: Frame, style: SubtitleStyle = DEFAULT) -> TextBlock:
    """The subtitle's lines in the safe area's width, placed where the style says (default: the band's bottom on
    `frame.subtitle_bottom`)."""
    left, safe_top, right, _ = frame.safe
    size = round(frame.subtitle_px * style.size)
    pad = round(size * 0.5)
    font, lines = fit_text(text, language, size, right - left - 2 * pad - 2, style.max_lines or frame.max_lines,
                           face=style.font)
    line_height, pad = round(font.size * 1.35), round(font.size * 0.5)
    height = line_height * len(lines)
    lowest = frame.subtitle_bottom - 1 - pad / 2 - height  # the box's last row is drawn: inclusive
    highest = max(safe_top, style.top_row or 0) + pad / 2
    if style.position == "bottom":
        top = lowest
    elif style.position == "top":
        top = highest
    else:
        centre = (highest - pad / 2 + frame.subtitle_bottom) / 2 if style.position == "middle" else \
            float(style.position.rstrip("%")) / 100 * frame.height
        top = min(max(centre - height / 2, highest), lowest) if highest <= lowest else lowest
    return TextBlock(font, lines, (left + right) / 2, top, line_height, pad)


def _ink(style: SubtitleStyle, block_: TextBlock) -> tuple[tuple, tuple, int]:
    width = style.outline_width if style.outline_width is not None else max(2, block_.font.size // 18)
    return (*style.color, 255), (*style.outline, 255), width


def draw(draw_: ImageDraw.ImageDraw, block_: TextBlock, style: SubtitleStyle, dy: int = 0,
         words: bool = False) -> None:
    """The box and the lines in the style's colours. With `words`, each line is set from its left end (as
    its highlighted word is), so a word drawn over it by `draw_word` lands on its own letters."""
    fill, stroke, width = _ink(style, block_)
    if not words:
        block_.draw(draw_, dy, box=style.box, fill=fill, stroke=stroke, stroke_width=width)
        return
    if style.box is not None:
        x0, y0, x1, y1 = block_.box
        draw_.rounded_rectangle((x0, y0 - dy, x1, y1 - dy), radius=block_.pad, fill=style.box)
    for n, line in enumerate(block_.lines):
        x, y = _line_origin(block_, n)
        draw_.text((x, y - dy), line, font=block_.font, anchor="lm", fill=fill, stroke_width=width, stroke_fill=stroke)


def _line_origin(block_: TextBlock, n: int) -> tuple[float, float]:
    line = block_.lines[n]
    return (block_.center_x - block_.font.getlength(line) / 2,
            block_.top + n * block_.line_height + block_.line_height / 2)


def word_place(block_: TextBlock, language: str, index: int) -> tuple[float, float, str] | None:
    """Where word `index` (of `tokens`) is drawn: its left end, its middle row and its text; None past the end."""
    seen = 0
    for n, line in enumerate(block_.lines):
        x, y = _line_origin(block_, n)
        if language == "zh":
            for i, c in enumerate(line):
                if c in _PUNCTUATION or c.isspace():
                    continue
                if seen == index:
                    return x + block_.font.getlength(line[:i]), y, c
                seen += 1
        else:
            words = line.split(" ")
            for i, word in enumerate(words):
                if not word:
                    continue
                if seen == index:
                    return x + block_.font.getlength(" ".join(words[:i]) + (" " if i else "")), y, word
                seen += 1
    return None


def word_box(block_: TextBlock, style: SubtitleStyle, language: str, index: int) -> tuple[int, int, int, int] | None:
    """The pixels (left, top, right, bottom; exclusive) the highlighted word `index` can change, outline included."""
    place = word_place(block_, language, index)
    if place is None:
        return None
    x, y, word = place
    _, _, width = _ink(style, block_)
    x0, y0, x1, y1 = block_.font.getbbox(word, anchor="lm", stroke_width=width)
    return int(x + x0) - 2, int(y + y0) - 2, int(x + x1) + 3, int(y + y1) + 3


def draw_word(draw_: ImageDraw.ImageDraw, block_: TextBlock, style: SubtitleStyle, language: str, index: int,
              dx: int = 0, dy: int = 0) -> None:
    """Word `index` in the highlight colour, over its place in the lines (on an image showing the frame from
    column `dx` and row `dy`)."""
    place = word_place(block_, language, index)
    if place is None:
        return
    x, y, word = place
    _, stroke, width = _ink(style, block_)
    draw_.text((x - dx, y - dy), word, font=block_.font, anchor="lm", fill=(*style.highlight, 255),
               stroke_width=width, stroke_fill=stroke)
