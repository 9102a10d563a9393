"""Image providers ask for the format's aspect and deliver the exact size: offline, OpenAI-compatible, Stability."""

import numpy as np
import pytest
from PIL import Image

from pipeline.providers.images import ProceduralImages
from pipeline.providers.openai_compat import OpenAIImages, request_size
from pipeline.providers.stability import StabilityImages, aspect_ratio
from pipeline.render.frame import SIZES
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY

ASKED = {"dall-e-3": {"16:9": "1792x1024", "9:16": "1024x1792", "1:1": "1024x1024"},
         "gpt-image-1": {"16:9": "1536x1024", "9:16": "1024x1536", "1:1": "1024x1024"}}


def _exact(path, size, color=None):
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", size)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    if color is not None:
        assert (np.abs(pixels - color).max(axis=2) <= 2).all()
    return pixels


@pytest.mark.parametrize("format", SIZES)
def test_offline_images_are_drawn_at_the_formats_size(tmp_path, format):
    ProceduralImages().generate("a harbour at dawn", 3, *SIZES[format], tmp_path / "p.png")
    pixels = _exact(tmp_path / "p.png", SIZES[format])
    assert pixels.std() > 10, "a picture, not a flat fill"


@pytest.mark.parametrize("model", ASKED)
@pytest.mark.parametrize("format", SIZES)
def test_openai_images_ask_the_models_size_for_the_aspect(openai_api, settings, tmp_path, model, format):
    OpenAIImages(**{**settings, "model": model}).generate("A lighthouse", 1, *SIZES[format], tmp_path / "o.png")
    assert openai_api.seen[-1].json()["size"] == ASKED[model][format]
    _exact(tmp_path / "o.png", SIZES[format], fakes.color_of("A lighthouse"))


def test_a_configured_size_wins(openai_api, settings, tmp_path):
    OpenAIImages(**{**settings, "size": "1024x1024"}).generate("x", 1, 1080, 1920, tmp_path / "s.png")
    assert openai_api.seen[-1].json()["size"] == "1024x1024"
    _exact(tmp_path / "s.png", (1080, 1920))


@pytest.mark.parametrize("format,ratio", [("16:9", "16:9"), ("9:16", "9:16"), ("1:1", "1:1")])
def test_stability_asks_the_formats_aspect_ratio(stability_api, tmp_path, format, ratio):
    provider = StabilityImages(base_url=stability_api.url, api_key=KEY, data_dir=str(tmp_path / "d"), **FAST)
    provider.generate("Lanterns", 5, *SIZES[format], tmp_path / "s.png")
    assert stability_api.seen[-1].form()["aspect_ratio"] == ratio
    _exact(tmp_path / "s.png", SIZES[format], fakes.color_of("Lanterns"))


def test_nearest_sizes_for_other_shapes():
    assert (aspect_ratio(1280, 720), aspect_ratio(1000, 1250), aspect_ratio(2560, 1080)) == ("16:9", "4:5", "21:9")
    assert request_size("dall-e-2", 1920, 1080) == "1024x1024"
    assert request_size("some-local-model", 1080, 1920) == "1024x1792"
