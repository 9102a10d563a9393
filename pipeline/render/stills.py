"""Compose the frames of a slideshow: the segment's image, the burned-in subtitle, the logo, the title card."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from pipeline.render.fonts import fit_text, find_font, load_font, wrap_text
from pipeline.render.frame import Frame, frame_for
from pipeline.render.overlays import Logo, TextBlock, frame_with_logo, paste_logo, title_layer

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
) -> Image.Image:
    """The frame shown while one cue is spoken: image, title card (when `title`), subtitle, logo on top."""
    frame = frame_with_logo(frame, logo)  # subtitles above a logo in a bottom corner
    picture = fit_picture(image, frame.size)
    if title:
        picture = Image.alpha_composite(picture.convert("RGBA"), title_layer(title, language, frame)).convert("RGB")
    if text:
        _draw_subtitle(picture, text, language, frame)
    if logo is not None:
        paste_logo(picture, logo, frame)
    return picture


def _subtitle_block(text: str, language: str, frame: Frame) -> TextBlock:
    """The subtitle's lines in the safe area's width, the band's bottom on `frame.subtitle_bottom`."""
    left, _, right, _ = frame.safe
    pad = round(frame.subtitle_px * 0.5)
    font, lines = fit_text(text, language, frame.subtitle_px, right - left - 2 * pad - 2, frame.max_lines)
    line_height, pad = round(font.size * 1.35), round(font.size * 0.5)
    top = frame.subtitle_bottom - 1 - pad / 2 - line_height * len(lines)  # the box's last row is drawn: inclusive
    return TextBlock(font, lines, (left + right) / 2, top, line_height, pad)


def subtitle_box(text: str, language: str, frame: Frame = LANDSCAPE) -> tuple[float, float, float, float]:
    """The subtitle band's box (left, top, right, bottom) in frame coordinates."""
    return _subtitle_block(text, language, frame).box


def subtitle_rows(text: str, language: str, frame: Frame = LANDSCAPE) -> tuple[int, int]:
    """The even-aligned rows [first, last) a subtitle can change, stroke and anti-aliasing included."""
    block = _subtitle_block(text, language, frame)
    box = block.box
    first = max(0, int(box[1]) - block.pad) // 2 * 2
    last = min(frame.height, -(-(int(box[3]) + block.pad) // 2) * 2)
    return first, last


def subtitle_layer(text: str, language: str, frame: Frame = LANDSCAPE, dy: int = 0,
                   height: int | None = None) -> Image.Image:
    """The subtitle alone on a transparent RGBA image (rows `dy` to `dy + height` of the frame)."""
    overlay = Image.new("RGBA", (frame.width, height or frame.height), (0, 0, 0, 0))
    _subtitle_block(text, language, frame).draw(ImageDraw.Draw(overlay), dy)
    return overlay


def _draw_subtitle(picture: Image.Image, text: str, language: str, frame: Frame, dy: int = 0) -> None:
    """Draw the subtitle on `picture`, which shows `frame` from row `dy` down."""
    overlay = subtitle_layer(text, language, frame, dy, picture.size[1])
    picture.paste(Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB"))


class StillMaker:
    """Raw yuv420p frames for cue stills: each image (with its logo, and title card when asked) decoded and
    converted once, then only the subtitle's band is drawn and converted for each cue."""

    def __init__(self, language: str, frame: Frame = LANDSCAPE, logo: Logo | None = None, title: str = ""):
        self.language = language
        self.layout = frame
        self.logo = logo
        self.title = title
        self._bases: dict[tuple[Path, bool], tuple[Image.Image, list]] = {}

    def _base(self, image: Path, titled: bool) -> tuple[Image.Image, list]:
        if (image, titled) not in self._bases:
            if len(self._bases) > 4:
                self._bases.pop(next(iter(self._bases)))
            picture = compose_still(image, "", self.language, self.layout, self.logo,
                                    self.title if titled else None)
            self._bases[(image, titled)] = (picture, _yuv_planes(picture))
        return self._bases[(image, titled)]

    def frame(self, image: Path, text: str, titled: bool = False) -> bytes:
        rgb, planes = self._base(image, titled)
        if not text:
            return b"".join(p.tobytes() for p in planes)
        first, last = subtitle_rows(text, self.language, self.layout)
        band = rgb.crop((0, first, self.layout.width, last))
        _draw_subtitle(band, text, self.language, self.layout, dy=first)
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
