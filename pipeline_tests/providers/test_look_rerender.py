"""Changing only the overlays or the format re-renders the video and asks no provider for text or speech again:
requests counted on the loopback OpenAI-compatible API."""

import json
import subprocess

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.render.frame import frame_for
from pipeline.render.overlays import Logo, place_logo
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.render.media import ffprobe

VIDEO = {"target_seconds": 20, "segment_min_seconds": 4, "segment_max_seconds": 12, "total_min_seconds": 10,
         "total_max_seconds": 40, "logo": "logo.png"}
ROUTES = ("/chat/completions", "/audio/speech", "/images/generations")
LOGO_COLOR = (20, 235, 60)


def _frame(path, number: int, size) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-vf", f"select=eq(n\\,{number})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(int)


def _logo_shows(video, logo: Logo, format: str) -> bool:
    frame = frame_for(format)
    mark, (x, y) = place_logo(logo, frame)
    picture = _frame(video, 40, frame.size)
    ground = picture[frame.height // 4, frame.width // 2]  # the segment's flat image, clear of every overlay
    assert np.abs(ground - LOGO_COLOR).max() > 80, "the logo must stand out from the image to be seen"
    return bool(np.abs(picture[y + mark.height // 2, x + mark.width // 2] - LOGO_COLOR).max() <= 40)


def _metadata(result, asset: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()}


@pytest.mark.e2e
def test_overlays_then_format_rerender_without_text_or_speech_requests(openai_api, data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_TEST_LOOK_KEY", KEY)
    Image.new("RGBA", (120, 120), (*LOGO_COLOR, 255)).save(data_dir / "logo.png")
    providers = {name: cls(base_url=f"{openai_api.url}/v1", api_key=dg.EnvVar("PIPELINE_TEST_LOOK_KEY"),
                           data_dir=str(data_dir), **FAST)
                 for name, cls in (("text_provider", OpenAIText), ("speech_provider", OpenAISpeech),
                                   ("image_provider", OpenAIImages))}
    instance = dg.DagsterInstance.ephemeral()
    first = small_brief("look-rerender", video=VIDEO)
    assert materialize(first, data_dir, instance=instance, **providers).success
    files = ProjectFiles(data_dir, first.project_id)
    before = {route: openai_api.count(route) for route in ROUTES}
    segments = len(json.loads(files.path("script.json").read_text())["segments"])
    assert before["/chat/completions"] > 0 and before["/audio/speech"] > 0 and before["/images/generations"] == segments
    logo = data_dir / "logo.png"
    assert _logo_shows(files.path("video.mp4"), Logo(logo), "16:9")

    # 1. Only the overlays: the logo to another corner, smaller, fainter, and a title card.
    overlays = {**VIDEO, "logo_position": "bottom-left", "logo_size": 0.1, "logo_opacity": 0.9, "title_card": True}
    second = small_brief("look-rerender", video=overlays)
    result = materialize(second, data_dir, instance=instance, **providers)
    assert result.success
    assert {route: openai_api.count(route) for route in ROUTES} == before, "no text, speech or image asked again"
    assert _metadata(result, "chapters")["generated"] == 0 and _metadata(result, "narration")["spoken"] == 0
    video = _metadata(result, "video")
    assert video["stills_encoded"] > 0 and video["format"] == "16:9"
    moved = Logo(logo, "bottom-left", 0.1, 0.9)
    assert _logo_shows(files.path("video.mp4"), moved, "16:9")
    assert not _logo_shows(files.path("video.mp4"), Logo(logo), "16:9"), "the old corner is clear"

    # 2. The format: images drawn again at the new aspect; still no text or speech.
    vertical = small_brief("look-rerender", video={**overlays, "format": "9:16"})
    result = materialize(vertical, data_dir, instance=instance, **providers)
    assert result.success
    after = {route: openai_api.count(route) for route in ROUTES}
    assert after["/chat/completions"] == before["/chat/completions"]
    assert after["/audio/speech"] == before["/audio/speech"]
    assert after["/images/generations"] == before["/images/generations"] + segments
    assert {s.json()["size"] for s in openai_api.seen[-segments:]} == {"1024x1792"}
    stream = next(s for s in ffprobe(files.path("video.mp4"))["streams"] if s["codec_type"] == "video")
    assert (stream["width"], stream["height"]) == (1080, 1920)
    assert _logo_shows(files.path("video.mp4"), moved, "9:16")
    with Image.open(files.path("thumbnail.jpg")) as thumb:
        assert thumb.size == (1080, 1920)
    exported = json.loads((data_dir / "exports" / first.project_id / "metadata.json").read_text())
    assert (exported["format"], exported["size"], exported["vertical"]) == ("9:16", "1080x1920", True)
    assert _metadata(result, "chapters")["generated"] == 0 and _metadata(result, "narration")["spoken"] == 0
