"""Draw the README's frames of the brief's look fields with the renderer itself (offline, a few seconds).

    .venv/bin/python docs/look/make.py
"""

import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.providers.images import draw_procedural  # noqa: E402
from pipeline.render.fonts import load_font  # noqa: E402
from pipeline.render.frame import FORMATS, frame_for, thumbnail_frame  # noqa: E402
from pipeline.render.overlays import Logo  # noqa: E402
from pipeline.render.stills import compose_still  # noqa: E402
from pipeline.render.thumbnail import ThumbnailStyle, compose_thumbnail  # noqa: E402

LOGO = ROOT / "data" / "sources" / "brand" / "logo.png"
TITLE = "How Tides Work"
LINE = "Twice a day the sea climbs the harbour wall, then slips away again."
PANEL_HEIGHT = 300


def picture(folder: Path, format: str) -> Path:
    path = folder / f"{format.replace(':', 'x')}.png"
    if not path.exists():
        draw_procedural("harbour wall at dawn", 4, *frame_for(format).size).save(path)
    return path


def safe_outline(image: Image.Image, safe: tuple[int, int, int, int]) -> Image.Image:
    """The frame with its safe area drawn as a thin dashed yellow line (for the docs only)."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = safe
    step = 24
    for x in range(left, right, step * 2):
        draw.line((x, top, min(x + step, right), top), fill=(255, 230, 0), width=4)
        draw.line((x, bottom, min(x + step, right), bottom), fill=(255, 230, 0), width=4)
    for y in range(top, bottom, step * 2):
        draw.line((left, y, left, min(y + step, bottom)), fill=(255, 230, 0), width=4)
        draw.line((right, y, right, min(y + step, bottom)), fill=(255, 230, 0), width=4)
    return image


def sheet(panels: list[tuple[Image.Image, str]], out: Path) -> None:
    """Panels side by side, each PANEL_HEIGHT high, with its caption under it."""
    scaled = [(p.resize((round(p.width * PANEL_HEIGHT / p.height), PANEL_HEIGHT), Image.Resampling.LANCZOS), c)
              for p, c in panels]
    gap, caption = 8, 30
    width = sum(p.width for p, _ in scaled) + gap * (len(scaled) + 1)
    canvas = Image.new("RGB", (width, PANEL_HEIGHT + caption + 2 * gap), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    font = load_font("en", 17, bold=False)
    x = gap
    for panel, text in scaled:
        canvas.paste(panel, (x, gap))
        draw.text((x + panel.width / 2, gap + PANEL_HEIGHT + caption / 2 + 2), text, font=font, anchor="mm",
                  fill=(30, 30, 30))
        x += panel.width + gap
    canvas.save(out, "JPEG", quality=82, optimize=True)
    print(f"{out.relative_to(ROOT)}: {canvas.width}x{canvas.height}, {out.stat().st_size // 1024} KB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wide = frame_for("16:9")
        sheet([(safe_outline(compose_still(picture(folder, f), LINE, "en", frame_for(f)), frame_for(f).safe),
                f'format: "{f}" (safe area dashed)') for f in FORMATS], HERE / "format.jpg")
        sheet([(safe_outline(compose_still(picture(folder, f), "天色渐暗，城市的灯火一盏盏亮起，她走进了那家旧书店。", "zh",
                                           frame_for(f)), frame_for(f).safe), f'"{f}", language: zh')
               for f in ("9:16", "1:1")], HERE / "subtitles-zh.jpg")
        image = picture(folder, "16:9")
        sheet([(compose_still(image, LINE, "en", wide, Logo(LOGO)), "logo (top-right, 0.15, 1)"),
               (compose_still(image, LINE, "en", wide, Logo(LOGO, "bottom-left")), "logo_position: bottom-left"),
               (compose_still(image, LINE, "en", wide, Logo(LOGO, size=0.3)), "logo_size: 0.3"),
               (compose_still(image, LINE, "en", wide, Logo(LOGO, opacity=0.4)), "logo_opacity: 0.4")],
              HERE / "logo.jpg")
        tall = frame_for("9:16")
        sheet([(compose_still(image, LINE, "en", wide, Logo(LOGO), title=TITLE), "title_card: true (16:9)"),
               (compose_still(picture(folder, "9:16"), LINE, "en", tall, Logo(LOGO, "bottom-right"), title=TITLE),
                "9:16, logo bottom-right")], HERE / "title-card.jpg")
        thumb = thumbnail_frame("16:9")
        styles = [(ThumbnailStyle(), "default (bottom)"),
                  (ThumbnailStyle(position="top", color=(255, 210, 63), outline=(27, 27, 30)),
                   'position: top, color: "#FFD23F"'),
                  (ThumbnailStyle(position="center", shade=(11, 61, 145)), 'center, shade_color: "#0B3D91"'),
                  (ThumbnailStyle(font="DejaVu Serif"), 'font: "DejaVu Serif"')]
        sheet([(compose_thumbnail(image, TITLE, "en", thumb, style), text) for style, text in styles],
              HERE / "thumbnail.jpg")
        sheet([(compose_thumbnail(image, TITLE, "en", thumb, ThumbnailStyle(), Logo(LOGO)), "logo: true (16:9)"),
               (compose_thumbnail(picture(folder, "9:16"), TITLE, "en", thumbnail_frame("9:16"),
                                  ThumbnailStyle(position="center"), Logo(LOGO)), "9:16 cover 1080x1920"),
               (compose_thumbnail(picture(folder, "1:1"), "潮汐是怎么来的", "zh", thumbnail_frame("1:1"),
                                  ThumbnailStyle(font="Noto Serif CJK SC", position="top")), "1:1, zh serif")],
              HERE / "thumbnail-formats.jpg")


if __name__ == "__main__":
    main()
