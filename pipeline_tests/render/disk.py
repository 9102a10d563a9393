"""A real full disk for tests: a small tmpfs mounted (we run as root), filled to the last byte on demand."""

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """`folder` as a tmpfs of `size` (e.g. "64m") for the duration (the suite runs as root, as CI does)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (the full-disk tests need root, as in CI): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)  # a process still holds a file open


def fill(folder: Path) -> Path:
    """Fill the filesystem of `folder` until not one more byte fits; the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        for block in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    return filler
