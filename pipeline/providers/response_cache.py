"""Answers of paid calls kept on disk, so a resumed or re-run project does not pay twice."""

import os
from pathlib import Path

from pipeline.store import atomic_write, cache_folder

CACHE_ENV = "PIPELINE_RESPONSE_CACHE"
_OFF = {"off", "0", "false", "no"}


def cache_enabled() -> bool:
    """False when `PIPELINE_RESPONSE_CACHE` is off (it is on by default)."""
    return os.environ.get(CACHE_ENV, "on").strip().lower() not in _OFF


class ResponseCache:
    """Response bodies under `<folder>/<key[:2]>/<key>.bin`, written atomically."""

    def __init__(self, folder: Path):
        self.folder = cache_folder(folder)  # entries fetched from the S3 store when it is on

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.bin"

    def get(self, key: str) -> bytes | None:
        """The stored body for `key`, or None."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, body: bytes) -> None:
        """Store `body` for `key`; readers see all of it or nothing."""
        atomic_write(self._path(key), body)
