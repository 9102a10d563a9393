"""Encoding ahead for the video step, so it only assembles what the steps before it made.

The video step cannot start before narration, images and presenter are done, and with hosted providers
those wait on the network for most of their time. So the images step hands each segment's stills to the
renderer as soon as its picture is ready (render/slideshow.py `StillsAhead`), and the presenter step
normalises its clips for the video's format: the video step then finds them in the chunk cache under the
keys it looks for. Best effort: a failure here is logged and changes nothing else, the video step encodes
whatever is missing; a cancel stops the encoder with the step.

`PIPELINE_ENCODE_AHEAD`: `auto` (the default) encodes ahead when the narration or the presenter clips come
from a hosted provider, so the video step would otherwise wait on the network with the cores idle; with
every voice made on this machine's cores (the offline defaults) encoding ahead only takes CPU from them
(the offline demo was 5.7 % slower with it, benchmarks/README.md), so it is left to the video step. `on`
and `off` force it either way.
"""

import os
from pathlib import Path

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Script, SegmentImage
from pipeline.defs.video.styling import FPS, cue_lines, moves, render_look
from pipeline.providers.catalog import ROLES
from pipeline.render.clips import prepare_clip
from pipeline.render.frame import frame_for
from pipeline.render.pieces import Shot
from pipeline.render.slideshow import CHUNK_FRAMES, RenderRequest, StillsAhead
from pipeline.workers.settings import SettingsError

AHEAD_ENV = "PIPELINE_ENCODE_AHEAD"
AHEAD_SETTINGS = ("auto", "on", "off")


def ahead_setting() -> str:
    """`PIPELINE_ENCODE_AHEAD` (auto, on or off; unset: auto); anything else is refused, naming the variable."""
    value = os.environ.get(AHEAD_ENV, "").strip().lower() or "auto"
    if value not in AHEAD_SETTINGS:
        raise SettingsError(f"{AHEAD_ENV}={os.environ.get(AHEAD_ENV)!r}: give one of {', '.join(AHEAD_SETTINGS)}")
    return value


def encode_ahead(brief: Brief) -> bool:
    """Whether the steps before the video encode for it: `on`, `off`, or (auto) when the video step would
    otherwise wait on a hosted voice or presenter (the providers the environment chooses)."""
    setting = ahead_setting()
    if setting != "auto":
        return setting == "on"
    speech, avatar = ROLES["speech"], ROLES["avatar"]
    return speech.chosen() != speech.default or (brief.presenter.enabled and avatar.chosen() != avatar.default)


class Ahead:
    """The images step's stills encoded ahead: `add` a segment when its visual is made, `finish` at the end."""

    def __init__(self, context: dg.AssetExecutionContext, brief: Brief, script: Script, files: DataFolder):
        self.context, self.brief = context, brief
        self.folder = files.project(brief.project_id)
        self.texts: dict[int, list[str]] = {}
        for segment, text in cue_lines(brief, script):  # the cues narration speaks: the same stills' keys
            self.texts.setdefault(segment, []).append(text)
        self.stills: StillsAhead | None = None
        if not encode_ahead(brief):
            return
        try:
            look = render_look(brief, script, files)
            self.off = look["subtitles"].off
            self.stills = StillsAhead(RenderRequest(
                shots=[], audio=Path(), total=0.0, out=Path(), work_dir=self.folder.path("video", "ahead"),
                chunk_cache=self.folder.cache_dir("chunks"), **look))
        except Exception as e:  # noqa: BLE001 - the video step reports a broken look itself
            self._skip(e)

    def add(self, made: SegmentImage) -> None:
        """Queue the stills of `made`'s segment (a still image, not a zoom nor a clip)."""
        if self.stills is None or made.kind == "clip" or moves(self.brief, made.segment):
            return
        image = self.folder.path(made.path)
        shots = [Shot(image=image, text="" if self.off else text, start=0.0, segment=made.segment)
                 for text in self.texts.get(made.segment, [])]
        try:
            self.stills.add(shots)
        except Exception as e:  # noqa: BLE001
            self._skip(e)

    def finish(self) -> int:
        """Store what was encoded; how many stills (0 when it was skipped or failed)."""
        if self.stills is None:
            return 0
        try:
            return self.stills.finish()
        except Exception as e:  # noqa: BLE001
            self._skip(e)
            return 0

    def abort(self) -> None:
        """Stop the encoder (the step is failing or canceled): never raises over the step's own error."""
        stills, self.stills = self.stills, None
        if stills is not None:
            try:
                stills.abort()
            except Exception as e:  # noqa: BLE001
                self.context.log.warning(f"stopping the stills encoded ahead: {e}")

    def _skip(self, error: Exception) -> None:
        self.context.log.warning(f"stills not encoded ahead ({error}); the video step encodes them")
        self.abort()


def clips_ahead(context: dg.AssetExecutionContext, brief: Brief, files: DataFolder, clips: list[Path]) -> None:
    """The presenter's clips normalised to the video's format and rate, into the chunk cache (best effort)."""
    if not encode_ahead(brief):
        return
    frame = frame_for(brief.video.format)
    cache = files.project(brief.project_id).cache_dir("chunks")

    for clip in dict.fromkeys(clips):  # one after another, in this thread: a cancel stops the transcode
        try:
            prepare_clip(clip, cache, frame.width, frame.height, FPS, CHUNK_FRAMES)
        except Exception as e:  # noqa: BLE001 - the video step prepares it again and reports a failure
            context.log.warning(f"presenter clip {clip.name} not prepared ahead ({e}); the video step prepares it")
