"""The presenter asset: optional avatar clips speaking the video's intro and outro."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from pipeline.brief import Brief
from pipeline.defs.common import ASSET_DEFAULTS, failures, step_boundary
from pipeline.defs.ops.parallel import step_threads
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.ahead import clips_ahead
from pipeline.defs.video.models import Script
from pipeline.events.progress import Progress
from pipeline.providers.avatar import AvatarProvider
from pipeline.render import ffmpeg
from pipeline.usage import Usage, meter


class Presenter(BaseModel):
    """Clips placed before and after the segments: MP4 paths relative to the project folder, total seconds."""

    intro: str | None = None
    outro: str | None = None
    seconds: float = 0.0


def presenter_texts(brief: Brief, script: Script) -> dict[str, str]:
    """What each clip says: the brief's presenter text, else the script's intro or outro segments."""
    said = {}
    for part in ("intro", "outro"):
        text = getattr(brief.presenter, part) or " ".join(s.text for s in script.segments if s.kind == part)
        if text.strip():
            said[part] = text.strip()
    return said


@dg.asset(group_name="video", **ASSET_DEFAULTS)
@step_boundary
def presenter(context: dg.AssetExecutionContext, brief: Brief, script: Script, avatar_provider: AvatarProvider,
              files: DataFolder) -> Presenter:
    """Presenter clips for the intro and outro (none unless an avatar provider is configured)."""
    folder = files.project(brief.project_id)
    usage = meter(context, brief, folder)
    if not avatar_provider.enabled or not brief.presenter.enabled:
        why = "no avatar provider" if not avatar_provider.enabled else "presenter.enabled is false"
        context.add_output_metadata({"provider": avatar_provider.name, "clips": 0, "reason": why})
        return Presenter()
    clips: dict[str, str] = {}
    facts: dict[str, dict] = {}
    said = presenter_texts(brief, script)
    progress = Progress(context, len(said), "clips")
    paths = {part: folder.item("presenter", avatar_provider.clip_key(text, brief.language), "mp4")
             for part, text in said.items()}
    todo = [part for part in said if not paths[part].exists()]

    def make(part: str) -> None:
        with failures(f"presenter {part}"):
            usage.avatar(avatar_provider).make_clip(said[part], brief.language, paths[part])

    if todo:  # the clips at the same time: each is mostly the provider's rendering, waited for
        pool = ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix=step_threads("presenter"))
        try:
            with progress.waiting(f"{avatar_provider.name} makes the {' and '.join(todo)} clip"
                                  f"{'s' if len(todo) > 1 else ''}"):
                for future in [pool.submit(make, part) for part in todo]:
                    future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a cancel does not wait for a clip being made
    for n, part in enumerate(said):
        with failures(f"presenter {part}"):
            facts[part] = clip_facts(paths[part])
        progress.report(n + 1, f"{part} clip ready", force=True)
        if part in todo:
            key = paths[part].stem
            usage.record(f"avatar:{key}", Usage(avatar_seconds=facts[part]["seconds"]), avatar_provider.name)
        clips[part] = folder.rel(paths[part])
    made = len(todo)
    clips_ahead(context, brief, files, [paths[part] for part in said])  # for the video step: it only assembles
    value = Presenter(intro=clips.get("intro"), outro=clips.get("outro"),
                      seconds=round(sum(f["seconds"] for f in facts.values()), 3))
    context.add_output_metadata({
        "provider": avatar_provider.name, "clips": len(clips), "made": made, "reused": len(clips) - made,
        "seconds": value.seconds, "clip_facts": dg.MetadataValue.json(facts), **usage.finish(),
    })
    return value


def clip_facts(path: Path) -> dict:
    """Seconds, size and codecs of a clip, as ffprobe reads them."""
    m = ffmpeg.media_summary(path)
    return {"seconds": round(m.duration, 3), "width": m.width, "height": m.height, "fps": m.fps,
            "video_codec": m.video_codec, "audio_codec": m.audio_codec}
