"""Compose the frames of a slideshow: the segment's image, the burned-in subtitle, the logo, the title card."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from pipeline.render.fonts import find_font, load_font, wrap_text
from pipeline.render.frame import Frame, frame_for
from pipeline.render.overlays import Logo, TextBlock, frame_with_logo, paste_logo, title_layer
from pipeline.render.subtitle_style import DEFAULT, SubtitleStyle, block, draw, draw_word, placed, word_box

__all__ = ["find_font", "load_font", "wrap_text", "compose_still", "subtitle_layer", "subtitle_rows", "StillMaker"]
LANDSCAPE = frame_for("16:9")


def fit_picture(image: Path, size: tuple[int, int]) -> Image.Image:
    """The image as RGB at `size`: scaled to cover it and cropped at the centre when its aspect differs."""
    with Image.open(image) as source:
        picture = source.convert("RGB")
    if picture.size != size:
        picture = ImageOps.fit(picture, size, method=Image.Resampling.LANCZOS)
    return picture


def compose_still(
    image: Path,
    text: str,
    language: str,
    frame: Frame = LANDSCAPE,
    logo: Logo | None = None,
    title: str | None = None,
    style: SubtitleStyle = DEFAULT,
    highlight: int | None = None,
) -> Image.Image:
    """The frame shown while one cue is spoken: image, title card (when `title`), subtitle, logo on top.

    In word mode (`highlight` given), word `highlight` of the line is drawn in the style's highlight colour
    (-1: none, the line as it is set in word mode)."""
    style = placed(style, frame, logo)
    frame = frame_with_logo(frame, logo)  # subtitles above a logo in a bottom corner
    picture = fit_picture(image, frame.size)
    if title:
        picture = Image.alpha_composite(picture.convert("RGBA"), title_layer(title, language, frame,
                                                                               style.font)).convert("RGB")
    if text and not style.off:
        _draw_subtitle(picture, text, language, frame, style=style, highlight=highlight)
    if logo is not None:
        paste_logo(picture, logo, frame)
    return picture


def _subtitle_block(text: str, language: str, frame: Frame, style: SubtitleStyle = DEFAULT) -> TextBlock:
    """The subtitle's lines in the safe area's width, placed as the style says (default: the band's bottom on
    `frame.subtitle_bottom`)."""
    return block(text, language, frame, style)


def subtitle_box(text: str, language: str, frame: Frame = LANDSCAPE,
                 style: SubtitleStyle = DEFAULT) -> tuple[float, float, float, float]:
    """The subtitle band's box (left, top, right, bottom) in frame coordinates."""
    return _subtitle_block(text, language, frame, style).box


def subtitle_rows(text: str, language: str, frame: Frame = LANDSCAPE,
                  style: SubtitleStyle = DEFAULT) -> tuple[int, int]:
    """The even-aligned rows [first, last) a subtitle can change, stroke and anti-aliasing included."""
    block = _subtitle_block(text, language, frame, style)
    box = block.box
    reach = max(block.pad, (style.outline_width or 0) + 2)
    first = max(0, int(box[1]) - reach) // 2 * 2
    last = min(frame.height, -(-(int(box[3]) + reach) // 2) * 2)
    return first, last


def subtitle_layer(text: str, language: str, frame: Frame = LANDSCAPE, dy: int = 0,
                   height: int | None = None, style: SubtitleStyle = DEFAULT,
                   highlight: int | None = None) -> Image.Image:
    """The subtitle alone on a transparent RGBA image (rows `dy` to `dy + height` of the frame); in word mode
    (`highlight` given) with that word in the highlight colour."""
    overlay = Image.new("RGBA", (frame.width, height or frame.height), (0, 0, 0, 0))
    if style.off:
        return overlay
    lines = _subtitle_block(text, language, frame, style)
    draw(ImageDraw.Draw(overlay), lines, style, dy, words=highlight is not None)
    if highlight is not None and highlight >= 0:
        word = Image.new("RGBA", overlay.size, (0, 0, 0, 0))
        draw_word(ImageDraw.Draw(word), lines, style, language, highlight, dy=dy)
        overlay = Image.alpha_composite(overlay, word)
    return overlay


def _draw_subtitle(picture: Image.Image, text: str, language: str, frame: Frame, dy: int = 0,
                   style: SubtitleStyle = DEFAULT, highlight: int | None = None) -> None:
    """Draw the subtitle on `picture`, which shows `frame` from row `dy` down."""
    if highlight is None:
        overlay = subtitle_layer(text, language, frame, dy, picture.size[1], style)
        picture.paste(Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB"))
        return
    # word mode: the line, then the highlighted word over it (StillMaker redraws only the word's pixels)
    lines = _subtitle_block(text, language, frame, style)
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw(ImageDraw.Draw(overlay), lines, style, dy, words=True)
    base = Image.alpha_composite(picture.convert("RGBA"), overlay)
    if highlight >= 0:
        word = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        draw_word(ImageDraw.Draw(word), lines, style, language, highlight, dy=dy)
        base = Image.alpha_composite(base, word)
    picture.paste(base.convert("RGB"))


class StillMaker:
    """Raw yuv420p frames for cue stills: each image (with its logo, and title card when asked) decoded and
    converted once, then only the subtitle's band is drawn and converted for each cue; in word mode, only
    the highlighted word's pixels for each word of a cue."""

    def __init__(self, language: str, frame: Frame = LANDSCAPE, logo: Logo | None = None, title: str = "",
                 style: SubtitleStyle = DEFAULT):
        self.language = language
        self.layout = frame
        self.logo = logo
        self.title = title
        self.style = placed(style, frame, logo)
        self._bases: dict[tuple[Path, bool], tuple[Image.Image, list]] = {}
        self._line: tuple | None = None  # word mode: (image, titled, text) -> the line drawn, unhighlighted

    def _base(self, image: Path, titled: bool) -> tuple[Image.Image, list]:
        if (image, titled) not in self._bases:
            if len(self._bases) > 4:
                self._bases.pop(next(iter(self._bases)))
            picture = compose_still(image, "", self.language, self.layout, self.logo,
                                    self.title if titled else None, self.style)
            self._bases[(image, titled)] = (picture, _yuv_planes(picture))
        return self._bases[(image, titled)]

    def frame(self, image: Path, text: str, titled: bool = False, highlight: int | None = None) -> bytes:
        rgb, planes = self._base(image, titled)
        if not text or self.style.off:
            return b"".join(p.tobytes() for p in planes)
        if highlight is not None:
            return self._word_frame(image, text, titled, highlight)
        first, last = subtitle_rows(text, self.language, self.layout, self.style)
        band = rgb.crop((0, first, self.layout.width, last))
        _draw_subtitle(band, text, self.language, self.layout, dy=first, style=self.style)
        y, u, v = (p.copy() for p in planes)
        by, bu, bv = _yuv_planes(band)
        y[first:last] = by
        u[first // 2:last // 2] = bu
        v[first // 2:last // 2] = bv
        return b"".join(p.tobytes() for p in (y, u, v))

    def _word_frame(self, image: Path, text: str, titled: bool, highlight: int) -> bytes:
        """The frame with word `highlight` of the line in the highlight colour: the line (drawn once per cue)
        with only the word's own rectangle drawn and converted again."""
        which = (image, titled, text)
        if self._line is None or self._line[0] != which:
            rgb, planes = self._base(image, titled)
            first, last = subtitle_rows(text, self.language, self.layout, self.style)
            band = rgb.crop((0, first, self.layout.width, last))
            _draw_subtitle(band, text, self.language, self.layout, dy=first, style=self.style, highlight=-1)
            picture = rgb.copy()
            picture.paste(band, (0, first))
            y, u, v = (p.copy() for p in planes)
            by, bu, bv = _yuv_planes(band)
            y[first:last] = by
            u[first // 2:last // 2] = bu
            v[first // 2:last // 2] = bv
            lines = _subtitle_block(text, self.language, self.layout, self.style)
            self._line = (which, picture, (y, u, v), lines)
        _, picture, planes, lines = self._line
        box = word_box(lines, self.style, self.language, highlight) if highlight >= 0 else None
        if box is None:
            return b"".join(p.tobytes() for p in planes)
        x0, y0 = max(0, box[0]) // 2 * 2, max(0, box[1]) // 2 * 2
        x1, y1 = min(self.layout.width, -(-box[2] // 2) * 2), min(self.layout.height, -(-box[3] // 2) * 2)
        patch = picture.crop((x0, y0, x1, y1)).convert("RGBA")
        word = Image.new("RGBA", patch.size, (0, 0, 0, 0))
        draw_word(ImageDraw.Draw(word), lines, self.style, self.language, highlight, dx=x0, dy=y0)
        py, pu, pv = _yuv_planes(Image.alpha_composite(patch, word).convert("RGB"))
        y, u, v = (p.copy() for p in planes)
        y[y0:y1, x0:x1] = py
        u[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = pu
        v[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = pv
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
