"""Where a project's artifacts live, and per-item checkpoints keyed by their inputs.

Layout: `<data>/projects/<project>/` holds every artifact; items (chapters, cues, images, video
chunks) are saved one by one under `<asset>/items/<key>.<ext>`, where the key is a hash of
everything that made the item. A retried or re-executed step finds finished items and redoes only
the missing ones or those whose inputs changed.

With `PIPELINE_STORE=s3` the data folder is this host's scratch mirror of an S3 bucket with the same
layout (pipeline/objects/): `atomic_write` also uploads what it wrote, `cache_dir` entries are fetched
from the bucket when asked for, and `location` names a file by its `s3://` URI.
"""

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.ids import InvalidProjectId, check_project_id

DATA_DIR_ENV = "PIPELINE_DATA_DIR"
# The main artifacts of a project, relative to its folder.
ARTIFACTS = {"outline": "outline.json", "manuscript": "manuscript.md", "script": "script.json",
             "narration": "narration.wav", "video": "video.mp4", "subtitles": "video.srt",
             "thumbnail": "thumbnail.jpg", "publication": "publication.json"}


def default_data_dir() -> Path:
    """`PIPELINE_DATA_DIR`, or the `data/` folder of the repository."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).resolve().parent.parent / "data").resolve()


def item_key(*parts: Any) -> str:
    """A stable key for an item from everything that determines it."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (short), so items depending on a file key on its content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:24]


def atomic_write(path: str | Path, data: bytes | str, upload: bool = True) -> Path:
    """Write a file so that readers see either nothing or the whole content.

    With the S3 store, a file inside the data folder is then uploaded (one PUT of the finished file)
    before this returns, unless `upload` is False.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if upload:
        _uploaded(path)
    return path


def _uploaded(path: Path) -> None:
    from pipeline.objects.settings import object_store_enabled

    if object_store_enabled():
        from pipeline.objects.mirror import mirror_of

        mirror = mirror_of(path)
        if mirror is not None:
            mirror.push_file(path)


# A cache entry used is made young again (its mtime) when older than this, so retention keeps what is in use.
CACHE_REFRESH_SECONDS = 3600


class CachePath(type(Path())):  # type: ignore[misc]
    """A path in a cache folder: asking whether it exists fetches it from the S3 store when it is not here,
    and marks an entry found as just used (retention removes entries by last use, pipeline/objects/retention.py).

    Paths made from it (`folder / name`) are CachePaths too, so code that only checks `exists()` and reads
    files needs no change.
    """

    def exists(self, *args, **kwargs) -> bool:  # type: ignore[override]
        if super().exists(*args, **kwargs):
            _used(self)
            return True
        from pipeline.objects.settings import object_store_enabled

        if object_store_enabled() and self.suffix and not self.name.startswith("."):
            from pipeline.objects.mirror import mirror_of

            mirror = mirror_of(self)
            if mirror is not None:
                return mirror.fetch(Path(self))
        return False


def _used(path: Path) -> None:
    try:
        if path.is_file() and time.time() - path.stat().st_mtime > CACHE_REFRESH_SECONDS:
            os.utime(path)
    except OSError:
        return  # a read-only or vanished entry is still an entry
    from pipeline.objects.settings import object_store_enabled

    if object_store_enabled() and path.is_file():
        from pipeline.objects.mirror import mirror_of

        mirror = mirror_of(path)
        if mirror is not None:
            mirror.used(Path(path))


def cache_folder(folder: str | Path) -> Path:
    """A cache folder whose entries are CachePaths."""
    return CachePath(folder)


def store_location(data_dir: str | Path, path: str | Path) -> str:
    """Where a file of the data folder lives: its `s3://` URI with the S3 store, else the path itself."""
    from pipeline.objects.settings import object_store_enabled

    if object_store_enabled():
        from pipeline.objects.mirror import mirror_at

        mirror = mirror_at(data_dir)
        uri = mirror.uri(path) if mirror is not None else None
        if uri:
            return uri
    return str(path)


class ProjectFiles:
    """The folder of one project under the data folder."""

    def __init__(self, data_dir: str | Path, project: str):
        self.data_dir = Path(data_dir).resolve()
        self.project = check_project_id(project)
        self.root = self.data_dir / "projects" / project
        if self.root.parent != self.data_dir / "projects":
            raise InvalidProjectId(f"project id {project!r} would leave the data folder")

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def rel(self, path: str | Path) -> str:
        """A path relative to the project folder, as artifacts record it."""
        return str(Path(path).resolve().relative_to(self.root))

    def item(self, asset: str, key: str, ext: str) -> Path:
        return self.root / asset / "items" / f"{key}.{ext}"

    def cache_dir(self, name: str) -> Path:
        """A cache shared by every project (e.g. encoded video chunks); its entries are CachePaths."""
        from pipeline.objects.settings import object_store_enabled

        if object_store_enabled():
            from pipeline.objects.mirror import mirror_at

            mirror_at(self.data_dir)
        return cache_folder(self.data_dir / "cache" / name)

    def location(self, *parts: str) -> str:
        """Where an artifact lives: `s3://bucket/prefix/projects/<p>/...` with the S3 store, else its path."""
        return store_location(self.data_dir, self.path(*parts))

    def has(self, *parts: str) -> bool:
        """Whether the project has this file: here, or (S3 store) in the bucket, fetched here then."""
        path = self.path(*parts)
        if path.exists():
            return True
        from pipeline.objects.settings import object_store_enabled

        if not object_store_enabled():
            return False
        from pipeline.objects.mirror import mirror_at

        mirror = mirror_at(self.data_dir)
        return mirror is not None and mirror.fetch(path)
