"""The video and thumbnail assets: the slideshow rendered over the narration, and its cover."""

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.checks import duration_mismatch
from pipeline.defs.common import ASSET_DEFAULTS, failure, failures, step_boundary, unreadable
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Images, Narration, Script, Thumbnail, Video
from pipeline.defs.video.presenter import Presenter
from pipeline.defs.video.styling import FPS, audio_mix, brief_logo, moves, render_look, styled_shots, timed_words
from pipeline.defs.video.styling import metadata as styling_metadata
from pipeline.defs.video.visuals import clip_sources
from pipeline.events.progress import Progress
from pipeline.render import ffmpeg
from pipeline.render.frame import thumbnail_frame
from pipeline.render.previews import STRIP_FRAMES, frame_strip, markdown_picture, save_jpeg
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline.render.thumbnail import ThumbnailStyle, compose_thumbnail
from pipeline.render.timing import to_srt, to_vtt
from pipeline.store import atomic_write
from pipeline.workers.settings import ON_RENDER_QUEUE


@dg.asset(group_name="video", pool="render", op_tags=ON_RENDER_QUEUE,
          check_specs=[dg.AssetCheckSpec("video_duration_matches_narration", asset="video")], **ASSET_DEFAULTS)
@step_boundary
def video(context: dg.AssetExecutionContext, brief: Brief, script: Script, narration: Narration, images: Images,
          presenter: Presenter, files: DataFolder):
    """H.264/AAC MP4, 30 fps, in the brief's format, subtitles and logo burned in (and presenter clips);
    SRT and WebVTT beside it."""
    folder = files.project(brief.project_id)
    image_of = {i.segment: folder.path(i.path) for i in images.images}
    clip_of = clip_sources(images, files.root)  # segments a video clip fills (the brief's media, stock footage)
    shots = [Shot(image=image_of[c.segment], text=c.text, start=c.start, segment=c.segment,
                  motion=moves(brief, c.segment), clip=clip_of.get(c.segment))
             for c in narration.cues]
    look = render_look(brief, script, files)
    style = look["subtitles"]  # and in word mode one shot per word; music ducked under the cues
    words = timed_words(brief, narration, folder) if style.words or brief.video.music else None
    shots = styled_shots(shots, narration, style, words)
    out = folder.path("video.mp4")
    request = RenderRequest(shots=shots, audio=folder.path(narration.path), total=narration.duration, out=out,
                            work_dir=folder.path("video"), chunk_cache=files.project(brief.project_id).cache_dir("chunks"),
                            intro=folder.path(presenter.intro) if presenter.intro else None,
                            outro=folder.path(presenter.outro) if presenter.outro else None,
                            mix=audio_mix(brief, files, narration, words), **look)
    progress = Progress(context, 1, "frames")

    def on_progress(done: int, total: int, message: str) -> None:
        progress.total = max(total, 1)
        progress.report(done, message)

    with failures("video render"):
        result = render_slideshow(request, on_progress)
        facts = ffmpeg.media_summary(out)
        if facts.width is None or facts.height is None:
            raise ffmpeg.RenderError(f"{out} has no video stream")
        strip = frame_strip(out)
    shift = result.intro_seconds  # subtitles start after the presenter's intro
    timeline = [(c.start + shift, c.end + shift, c.text) for c in narration.cues]
    srt = atomic_write(folder.path("video.srt"), to_srt(timeline))
    vtt = atomic_write(folder.path("video.vtt"), to_vtt(timeline))
    value = Video(path=folder.rel(out), srt=folder.rel(srt), vtt=folder.rel(vtt), duration=facts.duration,
                  frames=facts.frames, width=facts.width, height=facts.height, fps=FPS,
                  size_bytes=out.stat().st_size)
    yield dg.Output(value, metadata={
        "path": dg.MetadataValue.path(str(out)), "subtitles": dg.MetadataValue.path(str(srt)),
        "duration_seconds": round(value.duration, 3),
        "frames": value.frames, "stills": result.stills, "stills_encoded": result.stills_encoded,
        "presenter_seconds": round(result.intro_seconds + result.outro_seconds, 3),
        "moving_segments": result.motion_segments, "clip_segments": len(clip_of),
        "size_mb": round(value.size_bytes / 1e6, 2), "codecs": f"{facts.video_codec}/{facts.audio_codec}",
        "format": brief.video.format, "size": f"{value.width}x{value.height}", **styling_metadata(brief, files, words),
        "frame_strip": dg.MetadataValue.path(str(save_jpeg(strip, folder.path("video", "frames.jpg")))),
        "preview": dg.MetadataValue.md(markdown_picture(
            strip, "frames of the video", f"{STRIP_FRAMES} frames at evenly spaced times, "
            f"{value.width}x{value.height}, {value.duration:.1f} s")),
    })
    expected_seconds = narration.duration + result.intro_seconds + result.outro_seconds
    expected_frames = round(narration.duration * FPS) + round((result.intro_seconds + result.outro_seconds) * FPS)
    problems = [p for p in [duration_mismatch(value.duration, expected_seconds)] if p]
    if value.frames != expected_frames:
        problems.append(f"video has {value.frames} frames, expected {expected_frames}")
    yield dg.AssetCheckResult(check_name="video_duration_matches_narration", passed=not problems, metadata={
        "problems": "\n".join(problems) or "none", "video_seconds": round(value.duration, 3),
        "narration_seconds": narration.duration, "expected_seconds": round(expected_seconds, 3)})


def thumbnail_style(brief: Brief, files: DataFolder) -> ThumbnailStyle:
    """The brief's thumbnail settings as the renderer takes them."""
    settings = brief.thumbnail

    def rgb(color: str) -> tuple[int, int, int]:
        return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)

    try:
        face = settings.font_face(files.root)
    except ValueError as e:  # the font file went away since the brief was checked
        raise failure(unreadable(e, "thumbnail")) from e
    return ThumbnailStyle(font=face, color=rgb(settings.color), outline=rgb(settings.outline_color),
                          shade=rgb(settings.shade_color), position=settings.position)


@dg.asset(group_name="video", **ASSET_DEFAULTS)
@step_boundary
def thumbnail(context: dg.AssetExecutionContext, brief: Brief, script: Script, images: Images,
              files: DataFolder) -> Thumbnail:
    """JPEG cover: 1280x720 (16:9), 1080x1920 (9:16) or 1080x1080 (1:1), the first good image with the title."""
    folder = files.project(brief.project_id)
    first = next((i for i in images.images if i.status == "ok"), images.images[0])
    frame = thumbnail_frame(brief.video.format)
    logo = brief_logo(brief, files, "thumbnail") if brief.thumbnail.logo else None
    with failures("thumbnail"):
        picture = compose_thumbnail(folder.path(first.path), script.title, brief.language, frame,
                                    thumbnail_style(brief, files), logo)
    path = folder.path("thumbnail.jpg")
    tmp = path.with_name(".thumbnail.tmp.jpg")
    picture.save(tmp, "JPEG", quality=90)
    tmp.replace(path)
    context.add_output_metadata({
        "path": dg.MetadataValue.path(str(path)), "title": script.title, "format": brief.video.format,
        "size": f"{frame.width}x{frame.height}",
        "preview": dg.MetadataValue.md(markdown_picture(picture, "the thumbnail", f"{frame.width}x{frame.height}")),
    })
    return Thumbnail(path=folder.rel(path), width=frame.width, height=frame.height)
