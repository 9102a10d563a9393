"""A project in each format through the assets: sizes by ffprobe and pixels, pictures in the assets' metadata,
and a format change that speaks and writes nothing again (offline providers, calls counted)."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.render.media import ffprobe

PICTURE = re.compile(r"!\[[^\]]*\]\(data:image/jpeg;base64,([A-Za-z0-9+/=]+)\)")


def _picture(metadata: dict) -> Image.Image:
    """The picture the asset page shows: the JPEG inline in the `preview` Markdown."""
    found = PICTURE.search(metadata["preview"].value)
    assert found, metadata["preview"].value[:200]
    return Image.open(io.BytesIO(base64.b64decode(found[1])))


def _size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _video_size(path) -> tuple[int, int]:
    stream = next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")
    return stream["width"], stream["height"]


@pytest.mark.e2e
def test_square_chinese_project_then_vertical_without_new_speech_or_text(data_dir):
    Image.new("RGBA", (90, 90), (20, 235, 60, 255)).save(data_dir / "logo.png")
    look = {**SHORT_VIDEO, "format": "1:1", "logo": "logo.png", "logo_position": "top-left", "title_card": True}
    style = {"font": "Noto Serif CJK SC", "color": "#FFD23F", "position": "top"}
    brief = small_brief("square-zh", "zh", video=look, thumbnail=style)
    CALLS.clear()
    result = materialize(brief, data_dir)
    assert result.success
    files = ProjectFiles(data_dir, brief.project_id)
    assert _video_size(files.path("video.mp4")) == (1080, 1080)
    images = json.loads(files.path("images.json").read_text())["images"]
    assert {_size(files.path(i["path"])) for i in images} == {(1080, 1080)}
    with Image.open(files.path("thumbnail.jpg")) as picture:
        thumb = np.asarray(picture).astype(int)
    assert thumb.shape[:2] == (1080, 1080)
    yellow = np.nonzero((np.abs(thumb - (255, 210, 63)).max(axis=2) < 40).any(axis=1))[0]
    assert len(yellow) > 50 and yellow.min() < 1080 / 3 and yellow.max() < 0.6 * 1080, "the title in its colour, on top"
    assert yellow.min() > 54 + round(0.15 * 1080), "below the logo in the top-left corner"
    assert np.abs(thumb[54 + 40, 54 + 40] - (20, 235, 60)).max() < 40, "the logo on the thumbnail too"

    sheet = _picture(result.asset_materializations_for_node("images")[0].metadata)
    strip = _picture(result.asset_materializations_for_node("video")[0].metadata)
    cover = _picture(result.asset_materializations_for_node("thumbnail")[0].metadata)
    assert sheet.width == 960 and sheet.height >= 960 // len(images), "a contact sheet of every image"
    assert strip.width > 5 * strip.height, "a strip of frames"
    assert cover.size == (960, 960), "the thumbnail itself, scaled down"
    assert (files.path("images", "contact-sheet.jpg")).exists() and (files.path("video", "frames.jpg")).exists()

    spoken, written = CALLS["speech"], CALLS["text:chapter"]
    assert spoken > 0 and written == brief.chapters
    CALLS.clear()
    vertical = small_brief("square-zh", "zh", video={**look, "format": "9:16"}, thumbnail=style)
    result = materialize(vertical, data_dir)
    assert result.success
    assert CALLS["speech"] == 0 and CALLS["text:chapter"] == 0 and CALLS["text:memory"] == 0
    assert CALLS["images"] == len(images), "the images are drawn again at the new size"
    assert _video_size(files.path("video.mp4")) == (1080, 1920)
    assert _size(files.path("thumbnail.jpg")) == (1080, 1920)
    images = json.loads(files.path("images.json").read_text())["images"]
    assert {_size(files.path(i["path"])) for i in images} == {(1080, 1920)}
    exported = json.loads((data_dir / "exports" / brief.project_id / "metadata.json").read_text())
    assert (exported["format"], exported["size"]) == ("9:16", "1080x1920")
    assert result.asset_materializations_for_node("publication")[0].metadata["format"].value == "9:16"
