"""Small pictures of the results for the Dagster UI: a contact sheet of images, a strip of video frames.

They go into asset metadata as Markdown with the JPEG inline (a `data:` URL), which the UI's Markdown
renderer shows on the asset page; they are kept small (at most `MAX_SIDE` px, JPEG quality 80).
"""

import base64
import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw

from pipeline.render import ffmpeg
from pipeline.render.fonts import load_font

MAX_SIDE = 960
GAP = 4
STRIP_FRAMES = 6


def contact_sheet(paths: list[Path], labels: list[str] | None = None, width: int = MAX_SIDE) -> Image.Image:
    """Every picture as a tile, in rows, labelled (e.g. with its segment index), on a dark ground."""
    with Image.open(paths[0]) as first:
        aspect = first.width / first.height
    columns = max(1, min(len(paths), round(math.sqrt(len(paths) * 1.6 / aspect))))
    tile_w = (width - GAP * (columns + 1)) // columns
    tile_h = round(tile_w / aspect)
    rows = math.ceil(len(paths) / columns)
    sheet = Image.new("RGB", (width, rows * tile_h + GAP * (rows + 1)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font = load_font("en", max(12, tile_h // 8))
    for n, path in enumerate(paths):
        with Image.open(path) as source:
            tile = source.convert("RGB").resize((tile_w, tile_h), Image.Resampling.LANCZOS)
        x, y = GAP + (n % columns) * (tile_w + GAP), GAP + (n // columns) * (tile_h + GAP)
        sheet.paste(tile, (x, y))
        if labels:
            draw.text((x + 6, y + 4), labels[n], font=font, fill=(255, 255, 255), stroke_width=2,
                      stroke_fill=(0, 0, 0))
    return sheet


def frame_strip(video: Path, count: int = STRIP_FRAMES, height: int | None = None) -> Image.Image:
    """`count` frames of the video at evenly spaced times, side by side, each `height` px high (by default
    taller for a vertical video, so its frames stay readable)."""
    facts = ffmpeg.media_summary(video)
    if not facts.width or not facts.height:
        raise ffmpeg.RenderError(f"{video} has no video stream")
    height = height or (180 if facts.width > facts.height else 240 if facts.width == facts.height else 320)
    width = round(height * facts.width / facts.height / 2) * 2
    def grab(n: int) -> bytes:
        at = facts.duration * (n + 0.5) / count
        return ffmpeg.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-ss", f"{at:.3f}",
                           "-i", str(video), "-frames:v", "1", "-vf", f"scale={width}:{height}",
                           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], f"a frame of {video.name} at {at:.1f} s").stdout

    with ThreadPoolExecutor(max_workers=max(1, min(count, os.cpu_count() or 1))) as pool:  # one seek each
        grabbed = list(pool.map(grab, range(count)))
    frames = [Image.frombytes("RGB", (width, height), raw[:width * height * 3]) for raw in grabbed
              if len(raw) >= width * height * 3]
    strip = Image.new("RGB", (len(frames) * (width + GAP) + GAP, height + 2 * GAP), (24, 24, 28))
    for n, picture in enumerate(frames):
        strip.paste(picture, (GAP + n * (width + GAP), GAP))
    return strip


def jpeg(picture: Image.Image, max_side: int = MAX_SIDE, quality: int = 80) -> bytes:
    """The picture as a JPEG of at most `max_side` px on its longer side."""
    picture = picture.convert("RGB")
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def markdown_picture(picture: Image.Image, alt: str, caption: str = "", max_side: int = MAX_SIDE) -> str:
    """Markdown showing the picture inline (a data: URL), with a caption line under it."""
    data = base64.b64encode(jpeg(picture, max_side)).decode()
    text = f"![{alt}](data:image/jpeg;base64,{data})"
    return f"{text}\n\n{caption}" if caption else text


def save_jpeg(picture: Image.Image, path: Path, max_side: int = MAX_SIDE) -> Path:
    """The preview also as a file beside the artifacts (what the metadata's path points at)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}")
    tmp.write_bytes(jpeg(picture, max_side))
    tmp.replace(path)
    return path

