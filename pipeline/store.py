"""Where a project's artifacts live, and per-item checkpoints keyed by their inputs.

Layout: `<data>/projects/<project>/` holds every artifact; items (chapters, cues, images, video
chunks) are saved one by one under `<asset>/items/<key>.<ext>`, where the key is a hash of
everything that made the item. A retried or re-executed step finds finished items and redoes only
the missing ones or those whose inputs changed.
"""

import hashlib
import json
import os
import tempfile
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


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write a file so that readers see either nothing or the whole content."""
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
    return path


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
        """A cache shared by every project (e.g. encoded video chunks)."""
        return self.data_dir / "cache" / name
