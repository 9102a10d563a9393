"""A segment's visual, as the `images` step makes it: the brief's own file (an image fitted to the frame, or a
clip), a stock clip from the footage provider, or a still from the images provider.

Which one, per segment: a file of `media.files` assigned to it (pipeline/media.py) comes first; else, when a
footage provider is configured and `media.stock` is on, a stock clip found by the segment's image
description; when the search finds none, a still, and the segment's `note` says so; else a still.

Every item is checkpointed by what made it (pipeline/store.py item keys): a fitted image or a clip's first
frame by the file's content, fit and size; a footage search by provider, description, size and length
(its answer, even "none", kept in `images/items/<key>.json`); a downloaded clip by its id in the shared
footage cache. A re-run downloads and draws nothing already done.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.brief import Brief
from pipeline.defs.common import failure, unreadable
from pipeline.defs.video.models import FootageCredit, Images, Segment, SegmentImage
from pipeline.failure import Problem
from pipeline.media import MediaFile, MediaItem, SegmentOutOfRange, assign, inspect
from pipeline.providers.errors import TransientProviderError
from pipeline.providers.footage import Candidate, FootageProvider
from pipeline.providers.images import ImageProvider
from pipeline.render.footage import fit_image, save_poster
from pipeline.render.pieces import ClipSource
from pipeline.store import ProjectFiles, atomic_write, file_digest, item_key


@dataclass
class Planned:
    """What fills one segment before anything is made: the brief's file (with its check), or nothing yet."""

    item: MediaItem | None = None
    file: MediaFile | None = None


@dataclass
class Plan:
    segments: dict[int, Planned]
    unused: list[str] = field(default_factory=list)


def plan_media(brief: Brief, segments: list[Segment], data_dir: Path) -> Plan:
    """The brief's files assigned to the script's segments and checked again (they may have changed since the
    brief was): a failure naming the index and the segment count, or the file and the rule."""
    media = brief.media
    try:
        assignment = assign(media, len(segments))
    except SegmentOutOfRange as e:
        raise failure(Problem(str(e), where="images", code="BRIEF_INVALID",
                              hint="name a segment the script has, or leave `segment` out to fill segments in "
                                   "order; a longer video (video.target_seconds) has more segments")) from None
    planned = {s.index: Planned() for s in segments}
    for index, number in assignment.by_segment.items():
        item = media.files[number]
        try:
            checked = inspect(data_dir, item.file, f"media.files.{number}.file")
        except ValueError as e:
            raise failure(unreadable(e, "images")) from None
        planned[segments[index].index] = Planned(item=item, file=checked)
    return Plan(planned, [media.files[n].file for n in assignment.unused])


@dataclass
class Made:
    """A segment's visual and whether making it did any work (drew, fitted, searched or downloaded)."""

    image: SegmentImage
    worked: bool = False
    fallback: str | None = None


class Visuals:
    """Makes the visual of one segment (thread-safe: each call writes only its own items)."""

    def __init__(self, brief: Brief, folder: ProjectFiles, data_dir: Path, size: tuple[int, int],
                 images: ImageProvider, footage: FootageProvider):
        self.brief, self.folder, self.data_dir, self.size = brief, folder, data_dir, size
        self.images, self.footage = images, footage
        self.stock = footage.enabled and brief.media.stock

    def still_path(self, segment: Segment) -> Path:
        """The images provider's still of a segment, keyed as before footage existed (old checkpoints hold)."""
        return self.folder.item("images", item_key(self.images.name, segment.image_description, self.brief.seed,
                                                   self.size), "png")

    def make(self, segment: Segment, planned: Planned) -> Made:
        if planned.item is not None:
            return self._media(segment, planned)
        if self.stock:
            return self._footage(segment)
        return self._still(segment)

    def _still(self, segment: Segment, note: str | None = None) -> Made:
        path = self.still_path(segment)
        worked = not path.exists()
        if worked:
            self.images.generate(segment.image_description, self.brief.seed + segment.index, *self.size, path)
        return Made(SegmentImage(segment=segment.index, path=self.folder.rel(path), status="ok", note=note),
                    worked=worked, fallback=note)

    def _media_path(self, planned: Planned) -> Path:
        assert planned.item is not None and planned.file is not None
        kind = "poster" if planned.file.kind == "clip" else "fitted"
        return self.folder.item("images", item_key(kind, file_digest(planned.file.path), planned.item.fit,
                                                   self.size), "png")

    def _media(self, segment: Segment, planned: Planned) -> Made:
        item, checked = planned.item, planned.file
        assert item is not None and checked is not None
        path = self._media_path(planned)
        worked = not path.exists()
        if worked and checked.kind == "image":
            picture = fit_image(checked.path, self.size, item.fit)
            tmp = path.with_name(f".{path.stem}.tmp.png")
            path.parent.mkdir(parents=True, exist_ok=True)
            picture.save(tmp, "PNG", compress_level=1)
            tmp.replace(path)
        elif worked:
            save_poster(checked.path, path, *self.size, item.fit)
        image = SegmentImage(segment=segment.index, path=self.folder.rel(path), status="ok", source="media",
                             kind="clip" if checked.kind == "clip" else "still", fit=item.fit, media=item.file)
        if checked.kind == "clip":
            image.clip = str(checked.path.relative_to(self.data_dir))
            image.audio = item.audio
        return Made(image, worked=worked)

    def _footage(self, segment: Segment) -> Made:
        width, height = self.size
        seconds = round(segment.duration, 1)
        key = item_key("footage", self.footage.name, segment.image_description, width, height, seconds)
        answer = self.folder.item("images", key, "json")
        worked = False
        if answer.exists():
            saved = json.loads(answer.read_text(encoding="utf-8"))
            found = Candidate.model_validate(saved["candidate"]) if saved.get("candidate") else None
        else:
            found = self.footage.search(segment.image_description, width, height, segment.duration)
            atomic_write(answer, json.dumps({"candidate": found.model_dump() if found else None}, indent=2))
            worked = True
        if found is None:
            note = (f"{self.footage.name} found no clip for {segment.image_description!r}: a still from "
                    f"{self.images.name} instead")
            made = self._still(segment, note)
            made.worked = made.worked or worked
            return made
        clip = self.footage.cache_path(found, self.data_dir)
        if not clip.exists():
            clip = self.footage.fetch(found, self.data_dir)
            worked = True
            try:
                inspect(self.data_dir, str(clip.relative_to(self.data_dir)), f"the {self.footage.name} clip")
            except ValueError as e:
                clip.unlink(missing_ok=True)  # a broken download is fetched again by the retry
                raise TransientProviderError(self.footage.name, f"clip {found.video_id}: {e}",
                                             role="footage") from None
        poster = self.folder.item("images", item_key("poster", found.cache_name, "cover", self.size), "png")
        if not poster.exists():
            save_poster(clip, poster, width, height, "cover")
            worked = True
        return Made(SegmentImage(segment=segment.index, path=self.folder.rel(poster), status="ok", kind="clip",
                                 source="footage", clip=str(clip.relative_to(self.data_dir)),
                                 credit=FootageCredit(**found.credit.model_dump())), worked=worked)


def clip_sources(images: Images, data_dir: Path, where: str = "video") -> dict[int, ClipSource]:
    """The clip of every clip segment, as the renderer takes it; a failure when a clip's file has gone."""
    found = {}
    for image in images.images:
        if image.kind == "clip" and image.clip and image.status == "ok":
            path = data_dir / image.clip
            if not path.is_file():
                again = ("materialise images again: it downloads the stock clip again" if image.source == "footage"
                         else "put the file back, or change media.files and materialise images again")
                raise failure(Problem(f"segment {image.segment}: the clip {image.clip!r} is no longer in the data "
                                      "folder", where=where, code="INPUT_UNREADABLE", hint=again))
            found[image.segment] = ClipSource(path=path, fit=image.fit, audio=image.audio)
    return found
