"""The publisher role: hands a finished video to its audience. Default: a local export folder."""

import errno
import json
import shutil
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal, Self

import dagster as dg
from pydantic import BaseModel, Field

from pipeline.providers import env
from pipeline.providers.errors import PermanentProviderError, TransientProviderError
from pipeline.store import atomic_write

Progress = Callable[[int, int, str], None]  # (done, total, message)
EXPORT_DIR_ENV = "PIPELINE_EXPORT_DIR"  # the local export root (default <data>/exports)


class PublishPackage(BaseModel):
    """Everything a publisher needs: the files, the metadata, a folder for its own checkpoints."""

    project: str
    data_dir: Path
    work_dir: Path
    video: Path
    thumbnail: Path
    srt: Path
    vtt: Path
    title: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    language: str = "en"
    privacy: Literal["public", "unlisted", "private"] = "private"
    publish_at: datetime | None = None
    synthetic_media: bool = True
    format: Literal["16:9", "9:16", "1:1"] = "16:9"  # 9:16 is a vertical video (Shorts, TikTok, Reels)
    width: int = 1920
    height: int = 1080
    credits: list[dict] = Field(default_factory=list)  # stock footage: provider, id, author, url, licence
    music: dict | None = None  # the background music's source, origin and licence (render/music.py's origin)


    def metadata(self) -> dict:
        """The metadata as exported beside the files (metadata.json)."""
        return {"title": self.title, "description": self.description, "tags": self.tags, "language": self.language,
                "privacy": self.privacy, "publish_at": self.publish_at.isoformat() if self.publish_at else None,
                "synthetic_media": self.synthetic_media, "format": self.format,
                "size": f"{self.width}x{self.height}", "vertical": self.format == "9:16",
                **({"credits": self.credits} if self.credits else {}),  # stock footage's, when the video has any
                **({"music": self.music} if self.music else {})}


class PublishResult(BaseModel):
    """Where the video went: a URL and video id (a platform) or a folder (local export)."""

    url: str | None = None
    folder: str | None = None
    video_id: str | None = None
    files: list[str] = Field(default_factory=list)
    reused_upload: bool = False


class Publisher(dg.ConfigurableResource):
    """Publishes one project's video. Implementations: local export folder (default), YouTube."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata and messages."""

    @abstractmethod
    def publish(self, package: PublishPackage, progress: Progress | None = None) -> PublishResult:
        """Publish `package`; raise a ProviderError on failure. Publishing the same package again is harmless.

        Args:
            package: the files and metadata.
            progress: called with (done, total, message) as the work goes on.
        """


class LocalPublisher(Publisher):
    """Copies video, thumbnail, subtitles and metadata.json to `<folder>/<project>/` (default `<data>/exports`)."""

    folder: str = Field(default="", description="export root (empty: the exports folder of the data folder)")

    @classmethod
    def from_env(cls, data_dir: str) -> Self:
        """The export root from PIPELINE_EXPORT_DIR when it is set."""
        folder = env.text(EXPORT_DIR_ENV)
        return cls(folder=folder) if folder else cls()

    @property
    def name(self) -> str:
        return "local"

    def export_root(self, data_dir: Path) -> Path:
        """The folder every project's export goes under: `folder`, or `<data_dir>/exports`."""
        return Path(self.folder).resolve() if self.folder else data_dir / "exports"

    def publish(self, package: PublishPackage, progress: Progress | None = None) -> PublishResult:
        target = self.export_root(package.data_dir) / package.project
        sources = [package.video, package.thumbnail, package.srt, package.vtt]
        for source in sources:
            if not source.is_file():
                raise PermanentProviderError(self.name, f"{source} is missing",
                                             hint="materialise video and thumbnail again", role="publisher")
        try:
            target.mkdir(parents=True, exist_ok=True)
            for n, source in enumerate(sources):
                tmp = target / f".{source.name}.tmp"
                shutil.copyfile(source, tmp)
                tmp.replace(target / source.name)
                if progress is not None:
                    progress(n + 1, len(sources) + 1, f"copied {source.name}")
            atomic_write(target / "metadata.json", json.dumps(package.metadata(), ensure_ascii=False, indent=2) + "\n")
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise  # a full disk: the step boundary reports it with what to free, and does not retry
            raise TransientProviderError(self.name, f"could not write to {target}: {e.strerror or e}",
                                         hint="free disk space or set the export folder", role="publisher") from e
        files = [s.name for s in sources] + ["metadata.json"]
        return PublishResult(folder=str(target), url=target.as_uri(), files=files)
