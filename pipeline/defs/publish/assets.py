"""The publication asset: video, thumbnail, subtitles and metadata handed to the configured publisher."""

from datetime import datetime, timezone
from typing import Any

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.common import ASSET_DEFAULTS, failure, failures, step_boundary
from pipeline.defs.publish.models import Publication
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.credits import description_with_credits, load_credits, update_manuscript
from pipeline.defs.video.models import Script, Thumbnail, Video
from pipeline.events.progress import Progress
from pipeline.failure import Problem
from pipeline.providers.publisher import PublishPackage, Publisher
from pipeline.render.music import origin as music_origin
from pipeline.usage import meter  # reports the publication when the brief is verbose


APPROVAL_FILE = "approval.json"  # written by `pipeline approve`


def package_for(brief: Brief, script: Script, video: Video, thumbnail: Thumbnail, files: DataFolder) -> PublishPackage:
    """What the publisher receives for this project."""
    folder = files.project(brief.project_id)
    return PublishPackage(
        project=brief.project_id, data_dir=files.root, work_dir=folder.path("publication"),
        video=folder.path(video.path), thumbnail=folder.path(thumbnail.path), srt=folder.path(video.srt),
        vtt=folder.path(video.vtt), title=script.title, tags=script.tags,
        description=description_with_credits(script.description, load_credits(folder)),  # stock footage's
        language=brief.language, privacy=brief.publish.privacy, publish_at=brief.publish.publish_at,
        format=brief.video.format, width=video.width, height=video.height,
        credits=[c.model_dump() for c in load_credits(folder)],
        music=music_origin(brief.video.music, brief.video.music_mood, brief.video.music_credit, files.root),
    )


@dg.asset(group_name="publish", **ASSET_DEFAULTS)
@step_boundary
def publication(context: dg.AssetExecutionContext, brief: Brief, script: Script, video: Video, thumbnail: Thumbnail,
                publisher: Publisher, files: DataFolder) -> Publication:
    """The video published: a local export folder by default, YouTube when configured."""
    if brief.publish.require_approval and not files.project(brief.project_id).path(APPROVAL_FILE).exists():
        raise failure(Problem(f"the publication of {brief.project_id} awaits approval", where="publication",
                              code="APPROVAL_REQUIRED",
                              hint=f"review the video, then run `pipeline approve {brief.project_id}`"))
    when = brief.publish.publish_at
    if when is not None and when <= datetime.now(timezone.utc):
        raise failure(Problem(f"publish.publish_at ({when.isoformat()}) has passed", where="publication",
                              code="BRIEF_INVALID", hint="set a later time in the brief, or remove it to publish now"))
    package = package_for(brief, script, video, thumbnail, files)
    update_manuscript(files.project(brief.project_id), brief.language)  # its references list the footage credits
    progress = Progress(context, 1, "steps")

    def on_progress(done: int, total: int, message: str) -> None:
        progress.total = max(total, 1)
        progress.report(done, message)

    with failures(f"publication ({publisher.name})"), progress.waiting(f"{publisher.name} publishes the video"):
        reported = meter(context, brief, files.project(brief.project_id)).publisher(publisher)
        result = reported.publish(package, on_progress)
    value = Publication(publisher=publisher.name, url=result.url, folder=result.folder, video_id=result.video_id,
                        privacy=package.privacy, publish_at=package.publish_at, files=result.files)
    metadata: dict[str, Any] = {
        "publisher": publisher.name, "privacy": value.privacy, "require_approval": brief.publish.require_approval,
        "publish_at": value.publish_at.isoformat() if value.publish_at else "now", "synthetic_media": True,
        "format": package.format, "size": f"{package.width}x{package.height}",
        "credits": dg.MetadataValue.json(package.credits),
        "music": dg.MetadataValue.json(package.music) if package.music else "none",
    }
    if value.url:
        metadata["url"] = dg.MetadataValue.url(value.url)
    if value.folder:
        metadata["folder"] = dg.MetadataValue.path(value.folder)
    if value.video_id:
        metadata.update(video_id=value.video_id, reused_upload=result.reused_upload)
    context.add_output_metadata(metadata)
    return value
