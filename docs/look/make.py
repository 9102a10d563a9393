"""Draw the README's frames of the brief's look fields with the renderer itself (offline, a few seconds).

    .venv/bin/python docs/look/make.py
"""

import sys
import tempfile
from pathlib import Path

from dataclasses import replace

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
ZH = "元宵节的晚上，老街上挂满了红灯笼。"
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
    name = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"{name}: {canvas.width}x{canvas.height}, {out.stat().st_size // 1024} KB")


def style_of(example: str):
    """The subtitle style of an example brief, as the renderer takes it."""
    from pipeline.brief import load_brief
    from pipeline.render.subtitle_style import style_from

    brief = load_brief(ROOT / "examples" / example, ROOT / "data")
    return style_from(brief.video.subtitles, brief.video.subtitles.font_face(ROOT / "data"))


def subtitle_sheets(folder: Path, out_dir: Path = HERE) -> list[Path]:
    """The sheets of `video.subtitles` (styles, word mode) and of the music's ducking under the voice."""
    from pipeline.render.subtitle_style import SubtitleStyle, style_from

    wide, tall = frame_for("16:9"), frame_for("9:16")
    image = picture(folder, "16:9")
    styled = style_of("subtitles-styled.yaml")
    boxed = SubtitleStyle(position="top", box=(11, 61, 145, 204), outline_width=0)
    words = SubtitleStyle(mode="words")
    zh = replace(style_of("subtitles-words-zh.yaml"), mode="line")
    sheet([(compose_still(image, LINE, "en", wide), "default"),
           (compose_still(image, LINE, "en", wide, style=styled), "subtitles-styled.yaml: serif, 70%, no box"),
           (compose_still(image, LINE, "en", wide, Logo(LOGO), style=boxed),
            'top (below the logo), box "#0B3D91", outline 0'),
           (top_square(compose_still(picture(folder, "9:16"), ZH, "zh", tall, style=zh)), "9:16 (top), zh serif")],
          out_dir / "subtitles.jpg")
    zh_words = style_of("subtitles-words-zh.yaml")
    sheet([(compose_still(image, LINE, "en", wide, style=words, highlight=k), caption) for k, caption in
           ((0, "mode: words, the first word"), (4, 'the fifth word, "sea"'), (-1, "after the line is spoken"))] +
          [(top_square(compose_still(picture(folder, "9:16"), ZH, "zh", tall, style=zh_words, highlight=4)),
            "9:16 (top), zh, #FF5A36")], out_dir / "words.jpg")
    return [out_dir / "subtitles.jpg", out_dir / "words.jpg", ducking_plot(out_dir / "music.png")]


def top_square(image: Image.Image) -> Image.Image:
    """The top square of a vertical frame (where its subtitles are), so they show at a readable size."""
    return image.crop((0, 0, image.width, image.width))


def ducking_plot(out: Path) -> Path:
    """The music's level under three spoken cues (the renderer's own gain curve), small."""
    import numpy as np

    from pipeline.render.music import DUCK_DB, RATE, ducking

    speech, seconds = [(0.6, 2.6), (2.9, 4.4), (5.6, 7.6)], 8.4  # a short pause (held down), a long one
    gain = 20 * np.log10(ducking(speech, round(seconds * RATE)))[::RATE // 200]
    width, height, left, top, bottom = 720, 170, 46, 14, 34
    canvas = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    font = load_font("en", 13, bold=False)
    x = lambda t: left + t / seconds * (width - left - 10)  # noqa: E731
    y = lambda db: top + (-db) / (DUCK_DB + 2) * (height - top - bottom)  # noqa: E731
    for a, b in speech:
        draw.rectangle((x(a), top, x(b), height - bottom), fill=(214, 228, 246))
        draw.text((x((a + b) / 2), height - bottom + 4), "cue spoken", font=font, anchor="mt", fill=(40, 70, 120))
    for db in (0, -DUCK_DB):
        draw.line((left, y(db), width - 10, y(db)), fill=(200, 200, 200))
        draw.text((left - 6, y(db)), f"{db:g} dB", font=font, anchor="rm", fill=(60, 60, 60))
    points = [(x(n / 200), y(g)) for n, g in enumerate(gain)]
    draw.line(points, fill=(200, 60, 30), width=3)
    draw.text((width - 10, height - 4), f"{seconds:g} s", font=font, anchor="rs", fill=(60, 60, 60))
    draw.text((width - 12, top + 4), "music level (0 dB: music_volume under the voice)", font=font, anchor="rt",
              fill=(200, 60, 30))
    canvas.save(out, "PNG", optimize=True)
    return out


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
        subtitle_sheets(folder)


if __name__ == "__main__":
    main()
