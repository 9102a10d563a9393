"""The avatar role: presenter clips for the video's intro and outro. Default: none."""

from abc import abstractmethod
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from pipeline.providers.errors import PermanentProviderError


class ClipResult(BaseModel):
    """A finished clip: its length in seconds, as the provider reported or the file says."""

    seconds: float


class AvatarProvider(dg.ConfigurableResource):
    """Makes a video clip of a presenter speaking a text. Implementations: none (default), D-ID."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata, messages and cache keys."""

    @property
    def enabled(self) -> bool:
        """False when this provider makes no clips (the presenter asset then makes none)."""
        return True

    @abstractmethod
    def clip_key(self, text: str, language: str) -> str:
        """A key of everything that determines the clip of `text` (presenter, voice, text)."""

    @abstractmethod
    def make_clip(self, text: str, language: str, out_path: Path) -> ClipResult:
        """Write an MP4 of the presenter speaking `text` at `out_path`; raise a ProviderError on failure.

        Args:
            text: what the presenter says.
            language: the brief's language (chooses the voice).
            out_path: where the MP4 goes; written atomically.
        """


class NoAvatar(AvatarProvider):
    """No presenter clips: the video has none."""

    @classmethod
    def from_env(cls, data_dir: str) -> "NoAvatar":
        return cls()

    @property
    def name(self) -> str:
        return "none"

    @property
    def enabled(self) -> bool:
        return False

    def clip_key(self, text: str, language: str) -> str:
        return "none"

    def make_clip(self, text: str, language: str, out_path: Path) -> ClipResult:
        raise PermanentProviderError(self.name, "no avatar provider is configured",
                                     hint="set PIPELINE_AVATAR_PROVIDER=did and DID_API_KEY", role="avatar")
