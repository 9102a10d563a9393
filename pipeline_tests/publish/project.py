"""A project whose video and thumbnail are already made, written as the IO manager stores them."""

import os
from pathlib import Path

from PIL import Image

from pipeline.brief import Brief
from pipeline.defs.video.models import Script, Segment, Thumbnail, Video
from pipeline.store import ProjectFiles, atomic_write

SCRIPT = Script(title="The Backward Clock", description="A clockmaker's apprentice and a clock that runs backwards.",
                tags=["clock", "story"], segments=[
                    Segment(index=0, kind="intro", text="Welcome.", duration=5, image_description="a town square"),
                    Segment(index=1, kind="outro", text="Goodbye.", duration=5, image_description="a clock face")])


def made_project(data_dir: Path, brief: Brief, video_bytes: int = 300_000) -> ProjectFiles:
    """Write brief, script, video and thumbnail artifacts (and their files) for `brief`'s project."""
    files = ProjectFiles(data_dir, brief.project_id)
    files.path("video.mp4").parent.mkdir(parents=True, exist_ok=True)
    files.path("video.mp4").write_bytes(os.urandom(video_bytes))
    Image.new("RGB", (1280, 720), (20, 90, 160)).save(files.path("thumbnail.jpg"), "JPEG")
    files.path("video.srt").write_text("1\n00:00:00,000 --> 00:00:05,000\nWelcome.\n")
    files.path("video.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nWelcome.\n")
    video = Video(path="video.mp4", srt="video.srt", vtt="video.vtt", duration=10.0, frames=300, width=1920,
                  height=1080, fps=30, size_bytes=video_bytes)
    artifacts = {"brief": brief, "script": SCRIPT, "video": video,
                 "thumbnail": Thumbnail(path="thumbnail.jpg", width=1280, height=720)}
    for name, model in artifacts.items():
        atomic_write(files.path(f"{name}.json"), model.model_dump_json(indent=2))
    return files
