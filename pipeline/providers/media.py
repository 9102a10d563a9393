"""Turning what an HTTP provider sends into the files the assets expect: exact-size PNGs, clean WAVs."""

import io
import struct
import wave
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.providers.errors import PermanentProviderError
from pipeline.store import atomic_write


def save_cover(data: bytes, width: int, height: int, out_path: Path, provider: str, role: str | None = None) -> None:
    """Scale `data` (any image format) to cover width x height, crop the centre, save it as PNG; errors carry `role`."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fitted = ImageOps.fit(image.convert("RGB"), (width, height), method=Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError) as e:
        raise PermanentProviderError(provider, f"the answer is not a readable image ({len(data)} bytes): {e}",
                                     hint="check that the base URL points at an image API", role=role) from None
    buffer = io.BytesIO()
    fitted.save(buffer, "PNG", compress_level=1)
    atomic_write(out_path, buffer.getvalue())


def pcm_wav(data: bytes, provider: str, role: str | None = None) -> bytes:
    """`data` as a 16-bit PCM WAV whose header tells the true length; errors carry `role`."""
    # Streaming TTS servers (OpenAI among them) send placeholder sizes in the header and the samples
    # run to the end of the body: the data chunk is measured again and the header written anew.
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PermanentProviderError(provider, f"the answer is not a WAV file ({len(data)} bytes, "
                                     f"starts {data[:12]!r})", hint="check the speech model and base URL", role=role)
    fmt: tuple[int, int, int, int] | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        body = offset + 8
        if chunk == b"fmt " and size >= 16:
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body:body + 16])
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            return _rewrite(data[body:body + size] if size < 0xFFFFFFF0 else data[body:], fmt, provider, role)
        offset = body + size + (size & 1)
    raise PermanentProviderError(provider, "the WAV answer has no data chunk", hint="check the speech model", role=role)


def _rewrite(samples: bytes, fmt: tuple[int, int, int, int] | None, provider: str, role: str | None) -> bytes:
    if fmt is None or fmt[0] not in (1, 0xFFFE) or fmt[3] != 16:
        raise PermanentProviderError(provider, f"the WAV answer is not 16-bit PCM (format {fmt})",
                                     hint="choose a model or server that returns 16-bit PCM WAV", role=role)
    _, channels, rate, _ = fmt
    frame = 2 * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples[: len(samples) - len(samples) % frame])
    return buffer.getvalue()
