"""The images asset: one image per segment at the video's size (1920x1080, 1080x1920 or 1080x1080), drawn
concurrently, placeholders for failures; a contact sheet of them on the asset page."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import dagster as dg
from PIL import Image, ImageDraw

from pipeline.brief import Brief
from pipeline.defs.common import ASSET_DEFAULTS, failure, provider_problem, step_boundary
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Images, Script, SegmentImage
from pipeline.defs.ops.parallel import step_threads
from pipeline.events.progress import Progress
from pipeline.failure import Problem
from pipeline.providers.errors import PermanentProviderError, ProviderError
from pipeline.providers.images import ImageProvider
from pipeline.render.frame import SIZES
from pipeline.render.previews import contact_sheet, markdown_picture, save_jpeg
from pipeline.store import item_key
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
           files: DataFolder) -> Images:
    """One image per segment, a bounded number in flight; checkpointed image by image."""
    folder = files.project(brief.project_id)
    usage = meter(context, brief, folder)
    provider = usage.images(image_provider)
    segments = script.segments
    size = SIZES[brief.video.format]
    paths = {s.index: folder.item("images", item_key(provider.name, s.image_description, brief.seed, size), "png")
             for s in segments}
    todo = [s for s in segments if not paths[s.index].exists()]
    progress = Progress(context, len(segments), "images")
    done = len(segments) - len(todo)
    errors: dict[int, ProviderError] = {}
    with ThreadPoolExecutor(max_workers=max(1, provider.max_in_flight), thread_name_prefix=step_threads("images")) as pool:
        futures = {pool.submit(provider.generate, s.image_description, brief.seed + s.index, *size,
                               paths[s.index]): s for s in todo}
        for future in as_completed(futures):
            segment = futures[future]
            try:
                future.result()
            except ProviderError as e:
                errors[segment.index] = e
            done += 1
            progress.report(done, f"image {done} of {len(segments)} drawn", scene=f"segment {segment.index}")
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
            result.append(SegmentImage(segment=s.index, path=folder.rel(paths[s.index]), status="ok"))
    sheet = contact_sheet([folder.path(i.path) for i in result],
                          [f"{i.segment}" + (" placeholder" if i.status == "placeholder" else "") for i in result])
    context.add_output_metadata({
        "status": status, "images": len(result), "generated": len(todo) - len(errors),
        "reused": len(segments) - len(todo), "errors": dg.MetadataValue.json(error_list),
        "provider": provider.name, "format": brief.video.format, "size": f"{size[0]}x{size[1]}",
        "first": dg.MetadataValue.path(str(folder.path(result[0].path))),
        "contact_sheet": dg.MetadataValue.path(str(save_jpeg(sheet, folder.path("images", "contact-sheet.jpg")))),
        "preview": dg.MetadataValue.md(markdown_picture(sheet, "contact sheet of the images",
                                                        f"{len(result)} images, {size[0]}x{size[1]}")),
        **usage.finish(),
    })
    return Images(images=result, status=status)  # type: ignore[arg-type]
