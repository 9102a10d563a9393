"""The footage role: stock video clips found by a segment's image description. Default: none.

`PIPELINE_FOOTAGE_PROVIDER=pexels` (key: PEXELS_API_KEY or PIPELINE_FOOTAGE_API_KEY) or `pixabay`
(PIXABAY_API_KEY or PIPELINE_FOOTAGE_API_KEY); `PIPELINE_FOOTAGE_BASE_URL` points either at another
endpoint speaking the same protocol. The key never falls back to another vendor's variables.

A search answers candidates; `choose` picks one file by orientation (the video's format), resolution (the
smallest file that covers the frame, else the largest) and duration (long enough for the segment, else
the longest, which is then looped). The file is downloaded streamed, capped and resumed
(providers/download.py) into `<data>/cache/footage/<vendor>/<video id>-<file id>.<ext>`, shared by every
project: a clip is fetched once. Its author, page and licence are kept as the clip's credit.
"""

import fcntl
import re
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import BaseModel, Field

from pipeline.providers.download import download_to
from pipeline.providers.errors import PermanentProviderError
from pipeline.providers.http_client import HttpClient
from pipeline.providers.http_errors import Hints
from pipeline.providers.http_resource import HttpSettings
from pipeline.store import default_data_dir

PEXELS_BASE_URL = "https://api.pexels.com"
PIXABAY_BASE_URL = "https://pixabay.com"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class Credit(BaseModel):
    """Who made a clip, where it is, and under which licence it is used."""

    provider: str
    id: str
    author: str
    author_url: str = ""
    url: str = ""  # the clip's page
    licence: str
    licence_url: str = ""


class Candidate(BaseModel):
    """One downloadable file of a found video."""

    video_id: str
    file_id: str
    link: str
    width: int
    height: int
    seconds: float
    file_type: str = "video/mp4"
    credit: Credit

    @property
    def cache_name(self) -> str:
        ext = "webm" if "webm" in self.file_type else "mp4"
        return f"{_SAFE.sub('_', self.video_id)}-{_SAFE.sub('_', self.file_id)}.{ext}"


def orientation(width: int, height: int) -> str:
    """landscape, portrait or square, as the search APIs name them."""
    if abs(width - height) <= 0.05 * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def choose(candidates: list[Candidate], width: int, height: int, seconds: float) -> Candidate | None:
    """The file that best fits a width x height frame for `seconds`: the right orientation first, then long
    enough, then covering the frame with the fewest pixels (else the most), then the earliest in the answer."""
    want = orientation(width, height)

    def score(pair: tuple[int, Candidate]) -> tuple:
        n, c = pair
        covers = c.width >= width and c.height >= height
        return (orientation(c.width, c.height) != want, c.seconds + 0.01 < seconds, not covers,
                c.width * c.height if covers else -c.width * c.height, -c.seconds if c.seconds < seconds else 0, n)

    usable = [(n, c) for n, c in enumerate(candidates) if c.width > 0 and c.height > 0 and c.link]
    return min(usable, key=score)[1] if usable else None


class FootageProvider(dg.ConfigurableResource):
    """Finds and downloads stock clips. Implementations: none (default), Pexels, Pixabay."""

    max_in_flight: int = 4
    max_mb: int = Field(default=200, ge=1, description="the largest clip downloaded, in MB")

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata, messages and cache keys."""

    @property
    def enabled(self) -> bool:
        return True

    @abstractmethod
    def search(self, description: str, width: int, height: int, seconds: float) -> Candidate | None:
        """The clip chosen for a segment (None: the search found none); a ProviderError on failure."""

    def cache_path(self, candidate: Candidate, data_dir: Path | None = None) -> Path:
        """Where the clip is kept, shared by every project."""
        return (data_dir or default_data_dir()) / "cache" / "footage" / self.name.split(":")[0] / candidate.cache_name

    def fetch(self, candidate: Candidate, data_dir: Path | None = None) -> Path:
        """The clip's file in the cache, downloaded when it is not there yet: by one thread or process at a time
        (segments that chose the same clip, projects sharing the cache), the others then find it there."""
        path = self.cache_path(candidate, data_dir)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f".{path.name}.lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not path.exists():
                    download_to(self.download_client(), candidate.link, path, self.max_mb * 1_000_000)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return path

    def download_client(self) -> HttpClient:
        raise PermanentProviderError(self.name, "no footage provider is configured", role="footage")


class NoFootage(FootageProvider):
    """No stock footage: segments without a file of the user's get a still."""

    @classmethod
    def from_env(cls, data_dir: str) -> "NoFootage":
        return cls()

    @property
    def name(self) -> str:
        return "none"

    @property
    def enabled(self) -> bool:
        return False

    def search(self, description: str, width: int, height: int, seconds: float) -> Candidate | None:
        return None


class _HttpFootage(FootageProvider, HttpSettings):
    """What Pexels and Pixabay share: settings from PIPELINE_FOOTAGE_*, the download client."""

    role: ClassVar[str] = "footage"
    url_variable: ClassVar[str] = ""  # PIPELINE_FOOTAGE_BASE_URL only: never OPENAI_BASE_URL
    per_page: int = Field(default=15, ge=1, le=80, description="candidates asked of one search")
    timeout: float = Field(default=60.0, gt=0, description="seconds to wait for an answer or a block of a download")
    env_texts: ClassVar[dict[str, str]] = {}
    env_numbers: ClassVar[dict[str, tuple[str, type, float]]] = {
        "TIMEOUT": ("timeout", float, 0.001), "MAX_IN_FLIGHT": ("max_in_flight", int, 1),
        "MAX_MB": ("max_mb", int, 1), "PER_PAGE": ("per_page", int, 1)}

    @classmethod
    def missing_key(cls, base_url: str) -> str:
        return (f"PIPELINE_FOOTAGE_PROVIDER={cls.vendor} needs an API key: set {cls.key_variable} (or "
                "PIPELINE_FOOTAGE_API_KEY)")

    @property
    def name(self) -> str:
        return self.vendor

    def search_client(self) -> HttpClient:
        return self.client("search").with_(hints=Hints(
            key=f"{self.key_variable} (or PIPELINE_FOOTAGE_API_KEY)", model="the search terms",
            base_url="PIPELINE_FOOTAGE_BASE_URL", timeout="PIPELINE_FOOTAGE_TIMEOUT", api=self.api))

    def download_client(self) -> HttpClient:
        return self.search_client().with_(model="download")

    api: ClassVar[str] = "a stock footage API"


class PexelsFootage(_HttpFootage):
    """Pexels videos: `GET /videos/search?query=&orientation=&per_page=` with the key as `Authorization`."""

    base_url: str = Field(default=PEXELS_BASE_URL, description="API root")
    vendor: ClassVar[str] = "pexels"
    key_variable: ClassVar[str] = "PEXELS_API_KEY"
    api: ClassVar[str] = "Pexels' API (https://api.pexels.com)"
    LICENCE: ClassVar[tuple[str, str]] = ("Pexels License", "https://www.pexels.com/license/")

    def search(self, description: str, width: int, height: int, seconds: float) -> Candidate | None:
        client = self.search_client()
        params = {"query": _query(description), "orientation": orientation(width, height),
                  "per_page": str(self.per_page), "size": "medium" if max(width, height) <= 1920 else "large"}
        # Pexels takes the bare key (no scheme) in Authorization
        answer = client.request_json("GET", "/videos/search?" + _encode(params), auth=False,
                                     headers={"Authorization": self.api_key or ""})
        candidates = []
        for video in answer.get("videos") or []:
            user = video.get("user") or {}
            credit = Credit(provider="Pexels", id=str(video.get("id")), author=str(user.get("name") or "unknown"),
                            author_url=str(user.get("url") or ""), url=str(video.get("url") or ""),
                            licence=self.LICENCE[0], licence_url=self.LICENCE[1])
            for f in video.get("video_files") or []:
                if str(f.get("file_type", "video/mp4")).startswith("video/"):
                    candidates.append(Candidate(
                        video_id=str(video.get("id")), file_id=str(f.get("id") or f.get("quality") or "file"),
                        link=str(f.get("link") or ""), width=int(f.get("width") or 0),
                        height=int(f.get("height") or 0), seconds=float(video.get("duration") or 0),
                        file_type=str(f.get("file_type") or "video/mp4"), credit=credit))
        return choose(candidates, width, height, seconds)


class PixabayFootage(_HttpFootage):
    """Pixabay videos: `GET /api/videos/?key=&q=&per_page=`; each hit offers large, medium, small and tiny files."""

    base_url: str = Field(default=PIXABAY_BASE_URL, description="API root")
    vendor: ClassVar[str] = "pixabay"
    key_variable: ClassVar[str] = "PIXABAY_API_KEY"
    api: ClassVar[str] = "Pixabay's API (https://pixabay.com/api/videos/)"
    LICENCE: ClassVar[tuple[str, str]] = ("Pixabay Content License", "https://pixabay.com/service/license-summary/")

    def search(self, description: str, width: int, height: int, seconds: float) -> Candidate | None:
        client = self.search_client()
        params = {"key": self.api_key or "", "q": _query(description, 100), "per_page": str(max(3, self.per_page)),
                  "safesearch": "true"}
        answer = client.request_json("GET", "/api/videos/?" + _encode(params), auth=False)
        candidates = []
        for hit in answer.get("hits") or []:
            user, user_id = str(hit.get("user") or "unknown"), hit.get("user_id")
            credit = Credit(provider="Pixabay", id=str(hit.get("id")), author=user,
                            author_url=f"https://pixabay.com/users/{user}-{user_id}/" if user_id else "",
                            url=str(hit.get("pageURL") or ""), licence=self.LICENCE[0], licence_url=self.LICENCE[1])
            for size, f in (hit.get("videos") or {}).items():
                if isinstance(f, dict) and f.get("url"):
                    candidates.append(Candidate(
                        video_id=str(hit.get("id")), file_id=size, link=str(f["url"]), width=int(f.get("width") or 0),
                        height=int(f.get("height") or 0), seconds=float(hit.get("duration") or 0), credit=credit))
        return choose(candidates, width, height, seconds)


def _query(description: str, limit: int = 200) -> str:
    """The search terms: the description's words, at most `limit` characters, cut at a word."""
    words = " ".join(re.sub(r"[^\w\s-]", " ", description).split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0]


def _encode(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)
