"""Typed artifact of the publication asset."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Publication(BaseModel):
    """Where the video was published: a platform URL and video id, or a local export folder."""

    publisher: str
    url: str | None = None
    folder: str | None = None
    video_id: str | None = None
    privacy: Literal["public", "unlisted", "private"]
    publish_at: datetime | None = None
    files: list[str] = Field(default_factory=list)
