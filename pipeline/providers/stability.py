"""Stability AI images: the v2beta Stable Image API (core, ultra), multipart in, image bytes out."""

import math
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from pipeline.providers.errors import ContentPolicyError, PermanentProviderError
from pipeline.providers.http_client import Reply
from pipeline.providers.http_resource import HttpSettings
from pipeline.providers.images import ImageProvider
from pipeline.providers.media import save_cover

STABILITY_BASE_URL = "https://api.stability.ai"
MAX_SEED = 4294967294


ASPECT_RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")  # what the API accepts


def aspect_ratio(width: int, height: int) -> str:
    """The accepted aspect ratio nearest `width` x `height` (the image is then cropped to the exact size)."""
    def value(ratio: str) -> float:
        a, b = ratio.split(":")
        return int(a) / int(b)

    return min(ASPECT_RATIOS, key=lambda r: abs(math.log(value(r) * height / width)))


class StabilityImages(ImageProvider, HttpSettings):
    """Images from Stability AI's `POST /v2beta/stable-image/generate/<model>`, cropped to the asked size."""

    base_url: str = Field(default=STABILITY_BASE_URL, description="API root")
    model: str = Field(default="core", description="Stable Image service: core or ultra")
    aspect_ratio: str | None = Field(default=None, description="aspect ratio asked of the API (unset: the one "
                                                               "nearest the asked size, e.g. 16:9 or 9:16)")
    timeout: float = Field(default=120.0, gt=0, description="seconds to wait for an image")

    role: ClassVar[str] = "images"
    vendor: ClassVar[str] = "stability"
    key_variable: ClassVar[str] = "STABILITY_API_KEY"
    url_variable: ClassVar[str] = ""
    api: ClassVar[str] = "Stability AI's API"

    @property
    def name(self) -> str:
        return f"stability:{self.model}"

    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        client = self.client(self.model)
        form = {"prompt": description, "aspect_ratio": self.aspect_ratio or aspect_ratio(width, height),
                "output_format": "png",
                "seed": str(seed % (MAX_SEED + 1))}
        reply = client.request("POST", f"/v2beta/stable-image/generate/{self.model}", multipart=form,
                               accept="image/*", cache=True,
                               check=lambda r: _require_image(r, client.provider, client.role))
        save_cover(reply.content, width, height, out_path, client.provider, client.role)


def _require_image(reply: Reply, provider: str, role: str | None) -> None:
    """Refuse a filtered or non-image answer (the API may blur a filtered image and still answer 200)."""
    if reply.headers.get("finish-reason", "").upper() == "CONTENT_FILTERED":
        raise ContentPolicyError(provider, "the image was filtered by the provider's content policy",
                                 hint="rephrase the image description", role=role)
    if not reply.headers.get("content-type", "image/").startswith("image/"):
        raise PermanentProviderError(provider, f"the answer is {reply.headers['content-type']}, not an image",
                                     hint="check PIPELINE_IMAGES_BASE_URL and PIPELINE_IMAGES_MODEL", role=role)
