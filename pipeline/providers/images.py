"""The image role, and the offline implementation: procedural pictures drawn locally."""

import hashlib
import math
import random
from abc import abstractmethod
from pathlib import Path

import dagster as dg
import numpy as np
from PIL import Image, ImageDraw, ImageFilter


class ImageProvider(dg.ConfigurableResource):
    """Draws one image for a description. Implementations: procedural, OpenAI-compatible, Stability."""

    max_in_flight: int = 4

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata, messages and cache keys."""

    @abstractmethod
    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        """Write a PNG of exactly width x height at `out_path`; raise a ProviderError on failure."""


def _palette(rng: random.Random) -> list[tuple[int, int, int]]:
    base = rng.random()
    colors = []
    for shift, light in ((0.0, 0.18), (0.08, 0.45), (0.5, 0.75)):
        hue = (base + shift) % 1.0
        colors.append(_hsl(hue, 0.55 + 0.3 * rng.random(), light))
    return colors


def _hsl(h: float, s: float, l: float) -> tuple[int, int, int]:
    def f(n: float) -> float:
        k = (n + h * 12) % 12
        a = s * min(l, 1 - l)
        return l - a * max(-1, min(k - 3, 9 - k, 1))

    return int(255 * f(0)), int(255 * f(8)), int(255 * f(4))


def draw_procedural(description: str, seed: int, width: int, height: int) -> Image.Image:
    """A landscape-like picture at any size (16:9, 9:16, 1:1): sky gradient, sun, layered hills; the same
    inputs give the same pixels."""
    digest = hashlib.sha256(f"{seed}:{description}".encode()).digest()
    rng = random.Random(digest)
    top, mid, light = _palette(rng)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    sky = (1 - t) * np.array(top, np.float32) + t * np.array(light, np.float32)
    img = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    r = int(min(width, height) * (0.08 + 0.08 * rng.random()))  # the same sun in every format
    cx, cy = int(width * (0.15 + 0.7 * rng.random())), int(height * (0.15 + 0.25 * rng.random()))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_hsl(rng.random(), 0.8, 0.85))
    for layer in range(4):
        shade = tuple(int(c * (0.9 - 0.18 * layer)) for c in mid)
        base_y = height * (0.5 + 0.12 * layer)
        amp, freq, phase = height * (0.05 + 0.07 * rng.random()), 1 + 3 * rng.random(), rng.random() * 6.28
        points = [(0, height)]
        for x in range(0, width + 40, 40):
            points.append((x, base_y - amp * math.sin(phase + freq * 6.28 * x / width)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    return img.filter(ImageFilter.GaussianBlur(1.2))


class ProceduralImages(ImageProvider):
    """Offline images: deterministic procedural landscapes, one per description and seed."""

    @classmethod
    def from_env(cls, data_dir: str) -> "ProceduralImages":
        return cls()

    @property
    def name(self) -> str:
        return "procedural"

    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        image = draw_procedural(description, seed, width, height)
        tmp = out_path.with_suffix(".tmp.png")
        image.save(tmp, "PNG", compress_level=1)
        tmp.replace(out_path)
