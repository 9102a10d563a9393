"""The video and thumbnail assets: the slideshow rendered over the narration, and its cover."""

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.checks import duration_mismatch
from pipeline.defs.common import ASSET_DEFAULTS, failure, failures, step_boundary, unreadable
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Images, Narration, Script, Thumbnail, Video
from pipeline.defs.video.presenter import Presenter
from pipeline.documents import check_logo
from pipeline.events.progress import Progress
from pipeline.render import ffmpeg
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline.render.thumbnail import SIZE as THUMB_SIZE
from pipeline.render.thumbnail import compose_thumbnail
from pipeline.render.timing import to_srt, to_vtt
from pipeline.store import atomic_write

FPS = 30


@dg.asset(group_name="video", pool="render",
          check_specs=[dg.AssetCheckSpec("video_duration_matches_narration", asset="video")], **ASSET_DEFAULTS)
@step_boundary
def video(context: dg.AssetExecutionContext, brief: Brief, script: Script, narration: Narration, images: Images,
          presenter: Presenter, files: DataFolder):
    """1080p30 H.264/AAC MP4 with burned-in subtitles (and presenter clips); SRT and WebVTT beside it."""
    folder = files.project(brief.project_id)
    image_of = {i.segment: folder.path(i.path) for i in images.images}
    moving = brief.video.ken_burns
    shots = [Shot(image=image_of[c.segment], text=c.text, start=c.start, segment=c.segment,
                  motion=moving is True or (isinstance(moving, list) and c.segment in moving))
             for c in narration.cues]
    try:
        logo = check_logo(files.root, brief.video.logo, "video.logo") if brief.video.logo else None
    except ValueError as e:  # the logo changed since the brief was checked
        raise failure(unreadable(e, "video")) from e
    out = folder.path("video.mp4")
    request = RenderRequest(shots=shots, audio=folder.path(narration.path), total=narration.duration, out=out,
                            work_dir=folder.path("video"), chunk_cache=files.project(brief.project_id).cache_dir("chunks"),
                            language=brief.language, logo=logo, title=script.title, fps=FPS,
                            intro=folder.path(presenter.intro) if presenter.intro else None,
                            outro=folder.path(presenter.outro) if presenter.outro else None)
    progress = Progress(context, 1, "frames")

    def on_progress(done: int, total: int, message: str) -> None:
        progress.total = max(total, 1)
        progress.report(done, message)

    with failures("video render"):
        result = render_slideshow(request, on_progress)
        facts = ffmpeg.media_summary(out)
        if facts.width is None or facts.height is None:
            raise ffmpeg.RenderError(f"{out} has no video stream")
    shift = result.intro_seconds  # subtitles start after the presenter's intro
    timeline = [(c.start + shift, c.end + shift, c.text) for c in narration.cues]
    srt = atomic_write(folder.path("video.srt"), to_srt(timeline))
    vtt = atomic_write(folder.path("video.vtt"), to_vtt(timeline))
    value = Video(path=folder.rel(out), srt=folder.rel(srt), vtt=folder.rel(vtt), duration=facts.duration,
                  frames=facts.frames, width=facts.width, height=facts.height, fps=FPS,
                  size_bytes=out.stat().st_size)
    yield dg.Output(value, metadata={
        "path": dg.MetadataValue.path(str(out)), "duration_seconds": round(value.duration, 3),
        "frames": value.frames, "stills": result.stills, "stills_encoded": result.stills_encoded,
        "presenter_seconds": round(result.intro_seconds + result.outro_seconds, 3),
        "moving_segments": result.motion_segments,
        "size_mb": round(value.size_bytes / 1e6, 2), "codecs": f"{facts.video_codec}/{facts.audio_codec}",
    })
    expected_seconds = narration.duration + result.intro_seconds + result.outro_seconds
    expected_frames = round(narration.duration * FPS) + round((result.intro_seconds + result.outro_seconds) * FPS)
    problems = [p for p in [duration_mismatch(value.duration, expected_seconds)] if p]
    if value.frames != expected_frames:
        problems.append(f"video has {value.frames} frames, expected {expected_frames}")
    yield dg.AssetCheckResult(check_name="video_duration_matches_narration", passed=not problems, metadata={
        "problems": "\n".join(problems) or "none", "video_seconds": round(value.duration, 3),
        "narration_seconds": narration.duration, "expected_seconds": round(expected_seconds, 3)})


@dg.asset(group_name="video", **ASSET_DEFAULTS)
@step_boundary
def thumbnail(context: dg.AssetExecutionContext, brief: Brief, script: Script, images: Images,
              files: DataFolder) -> Thumbnail:
    """1280x720 JPEG: the first good image with the title set over it."""
    folder = files.project(brief.project_id)
    first = next((i for i in images.images if i.status == "ok"), images.images[0])
    with failures("thumbnail"):
        picture = compose_thumbnail(folder.path(first.path), script.title, brief.language)
    path = folder.path("thumbnail.jpg")
    tmp = path.with_name(".thumbnail.tmp.jpg")
    picture.save(tmp, "JPEG", quality=90)
    tmp.replace(path)
    context.add_output_metadata({"path": dg.MetadataValue.path(str(path)), "title": script.title})
    return Thumbnail(path=folder.rel(path), width=THUMB_SIZE[0], height=THUMB_SIZE[1])
