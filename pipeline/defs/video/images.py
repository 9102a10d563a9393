"""The images asset: one visual per segment at the video's size (1920x1080, 1080x1920 or 1080x1080): a still
drawn by the images provider, the brief's own image or clip, or a stock clip (visuals.py); made concurrently,
placeholders for failures; a contact sheet of them on the asset page."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import dagster as dg
from PIL import Image, ImageDraw

from pipeline.brief import Brief
from pipeline.defs.common import ASSET_DEFAULTS, failure, provider_problem, step_boundary
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.ahead import Ahead
from pipeline.defs.video.credits import save_credits
from pipeline.defs.video.models import Images, Script, SegmentImage
from pipeline.defs.video.visuals import Made, Visuals, plan_media
from pipeline.defs.ops.parallel import step_threads
from pipeline.events.progress import Progress
from pipeline.failure import Problem
from pipeline.providers.errors import PermanentProviderError, ProviderError
from pipeline.providers.footage import FootageProvider
from pipeline.providers.images import ImageProvider
from pipeline.render.frame import SIZES
from pipeline.render.previews import contact_sheet, markdown_picture, save_jpeg
from pipeline.usage import meter

SIZE = SIZES["16:9"]
MAX_FAILED_SHARE = 0.2


def placeholder(path: Path, size: tuple[int, int] = SIZE) -> None:
    """A plain dark frame standing in for an image that could not be made."""
    image = Image.new("RGB", size, (28, 30, 38))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w * 0.1, h * 0.1, w * 0.9, h * 0.9), outline=(70, 74, 90), width=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")


def image_outcome(failures: dict[int, ProviderError], total: int) -> tuple[str, bool]:
    """(status, retry worth it) for `failures` out of `total` images: SPEC's 20 % placeholder rule."""
    if not failures:
        return "success", False
    if len(failures) <= MAX_FAILED_SHARE * total:
        return "partial_success", False
    permanent = all(isinstance(e, PermanentProviderError) for e in failures.values())
    return "failed", not permanent


def images_failed(failures: dict[int, ProviderError], total: int, retry: bool) -> Problem:
    """The step's failure over the 20 % rule, coded by the most common kind of failure (IMAGES_CONTENT_POLICY when
    the provider refused them all; a tie goes to the first segment's), with the hint of its first image of that kind."""
    ordered = [e for _, e in sorted(failures.items())]
    kinds = Counter(e.kind for e in ordered)
    kind = kinds.most_common(1)[0][0]
    first = next(e for e in ordered if e.kind == kind)
    listed = {str(i): str(e) for i, e in sorted(failures.items())}
    coded = provider_problem(first, "images", role="images")
    return Problem(
        f"{len(failures)} of {total} failed (over {MAX_FAILED_SHARE:.0%}): "
        + "; ".join(f"segment {i}: {m}" for i, m in listed.items()),
        where="images", code=coded.code, hint=coded.hint, retryable=retry,
        details={"errors": dg.MetadataValue.json(listed), "kinds": dg.MetadataValue.json(dict(kinds))},
    )


@dg.asset(group_name="video", **ASSET_DEFAULTS)
@step_boundary
def images(context: dg.AssetExecutionContext, brief: Brief, script: Script, image_provider: ImageProvider,
           footage_provider: FootageProvider, files: DataFolder) -> Images:
    """One visual per segment: the brief's own image or clip, a stock clip, or a still; a bounded number in
    flight, checkpointed item by item (pipeline/defs/video/visuals.py)."""
    folder = files.project(brief.project_id)
    usage = meter(context, brief, folder)
    provider = usage.images(image_provider)
    segments = script.segments
    size = SIZES[brief.video.format]
    plan = plan_media(brief, segments, files.root)
    if plan.unused:
        context.log.warning(f"{len(plan.unused)} file(s) of media.files found no segment left (the script has "
                            f"{len(segments)}): {', '.join(plan.unused)}")
    maker = Visuals(brief, folder, files.root, size, provider, footage_provider)
    progress = Progress(context, len(segments), "images")
    made: dict[int, Made] = {}
    errors: dict[int, ProviderError] = {}
    done = 0
    workers = max(1, provider.max_in_flight, footage_provider.max_in_flight if maker.stock else 1)
    ahead = Ahead(context, brief, script, files)  # each segment's stills encoded for the video as it is made
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=step_threads("images")) as pool:
            futures = {pool.submit(maker.make, s, plan.segments[s.index]): s for s in segments}
            for future in as_completed(futures):
                segment = futures[future]
                try:
                    made[segment.index] = future.result()
                    ahead.add(made[segment.index].image)
                except ProviderError as e:
                    errors[segment.index] = e
                done += 1
                progress.report(done, f"visual {done} of {len(segments)} made", scene=f"segment {segment.index}")
        encoded_ahead = ahead.finish()
    except BaseException:
        ahead.abort()
        raise
    status, retry = image_outcome(errors, len(segments))
    error_list = {str(i): str(e) for i, e in sorted(errors.items())}
    if status == "failed":
        raise failure(images_failed(errors, len(segments), retry))
    result = []
    for s in segments:
        if s.index in errors:
            path = folder.path("images", f"placeholder-{s.index:03d}.png")
            placeholder(path, size)
            result.append(SegmentImage(segment=s.index, path=folder.rel(path), status="placeholder",
                                       error=str(errors[s.index])))
        else:
            result.append(made[s.index].image)
    value = Images(images=result, status=status, unused_media=plan.unused)  # type: ignore[arg-type]
    save_credits(folder, value.credits)  # for the publication and the manuscript's references (credits.py)
    labels = [f"{i.segment}" + (" placeholder" if i.status == "placeholder" else
                                f" {i.source} clip" if i.kind == "clip" else " media" if i.source == "media" else "")
              for i in result]
    sheet = contact_sheet([folder.path(i.path) for i in result], labels)
    fallbacks = {str(i): m.fallback for i, m in sorted(made.items()) if m.fallback}
    worked = sum(1 for m in made.values() if m.worked)
    context.add_output_metadata({
        "status": status, "images": len(result), "generated": worked,
        "reused": len(made) - worked, "errors": dg.MetadataValue.json(error_list),
        "provider": provider.name, "format": brief.video.format, "size": f"{size[0]}x{size[1]}",
        "clips": sum(1 for i in result if i.kind == "clip"),
        "media_files": sum(1 for i in result if i.source == "media"), "media_unused": dg.MetadataValue.json(plan.unused),
        "footage_provider": footage_provider.name if maker.stock else "none",
        "footage_clips": sum(1 for i in result if i.source == "footage"),
        "footage_fallbacks": dg.MetadataValue.json(fallbacks), "stills_encoded_ahead": encoded_ahead,
        "credits": dg.MetadataValue.json([c.model_dump() for c in value.credits]),
        "first": dg.MetadataValue.path(str(folder.path(result[0].path))),
        "contact_sheet": dg.MetadataValue.path(str(save_jpeg(sheet, folder.path("images", "contact-sheet.jpg")))),
        "preview": dg.MetadataValue.md(markdown_picture(sheet, "contact sheet of the visuals",
                                                        f"{len(result)} visuals, {size[0]}x{size[1]}")),
        **usage.finish(),
    })
    return value
