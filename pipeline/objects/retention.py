"""Retention of the caches: entries not used for longer than a duration are removed, on either store.

What is pruned: every file under `<data>/cache/` (responses, encoded video chunks, AAC tracks, clip
caches, any later cache), by its last use: an entry found in use is made young again (its mtime, or
the object's last-modified time, when older than an hour: `pipeline.store.CachePath`). Never pruned:
`cache/slots/` (request slots: locks) and anything outside `cache/`: a project's inputs, outputs and
checkpoints (`projects/<p>/...`), exports, shared sources.

The guard for unfinished projects: a project whose last run did not succeed (failed, canceled,
queued or running) may still resume, and its resume reuses cache entries (the video's chunks, the
answers of a step that failed). Every entry such a project used or wrote since its first unfinished
run began is younger than that start (less the refresh interval and a clock-skew allowance), so the
cutoff is moved back to it: nothing it may need is removed, however old the project.
"""

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipeline.objects.mirror import REFRESH

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
SKEW = timedelta(hours=1)  # clocks of the hosts that wrote the entries may differ by this much
KEEP = ("slots",)  # cache folders that are not caches (locks)
DURATION_FORM = "a whole number (at most 6 digits) and a unit, e.g. 30d, 12h, 90m, 2w (s, m, h, d or w)"


class DurationError(ValueError):
    """A duration that is not of the form `DURATION_FORM`."""


class CacheFolderError(ValueError):
    """The cache folder is not the data folder's own (a symbolic link): nothing is pruned there."""


def parse_duration(text: str) -> timedelta:
    """'30d' -> 30 days. DurationError for anything else (empty, negative, zero, no unit, a fraction)."""
    raw = (text or "").strip().lower()
    match = _DURATION.match(raw)
    if not match or int(match.group(1)) == 0:
        raise DurationError(f"--older-than {text!r}: give {DURATION_FORM}, more than zero")
    return timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


@dataclass
class Pruned:
    """What one prune did (or, with `dry_run`, would do)."""

    store: str
    cutoff: datetime
    guarded_since: datetime | None
    removed: int = 0
    removed_bytes: int = 0
    kept: int = 0
    examples: list[str] = field(default_factory=list)

    def line(self, dry_run: bool) -> str:
        verb = "would remove" if dry_run else "removed"
        guard = (f"; unfinished projects keep everything used since {self.guarded_since:%Y-%m-%d %H:%M} UTC"
                 if self.guarded_since else "")
        return (f"{self.store}: {verb} {self.removed} cache entries ({self.removed_bytes / 1e6:.1f} MB) last used "
                f"before {self.cutoff:%Y-%m-%d %H:%M} UTC, kept {self.kept}{guard}")


def unfinished_since(runs_by_project: dict[str, list[tuple[str, float]]]) -> datetime | None:
    """The earliest creation time of a run in any project's unfinished streak (its runs since its last
    success, when its latest run is not a success); None when every project finished.

    `runs_by_project`: project -> [(status, creation timestamp)] newest first."""
    earliest: float | None = None
    for runs in runs_by_project.values():
        for status, created in runs:
            if status == "SUCCESS":
                break
            earliest = created if earliest is None else min(earliest, created)
    return datetime.fromtimestamp(earliest, timezone.utc) if earliest is not None else None


def cutoff_for(older_than: timedelta, since: datetime | None, now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    cutoff = now - older_than
    if since is not None:
        cutoff = min(cutoff, since - REFRESH - SKEW)
    return cutoff


def _kept(rel: str) -> bool:
    """Whether an entry under cache/ is never pruned (`rel` relative to the cache folder)."""
    return rel.split("/", 1)[0] in KEEP


def check_cache_folder(data_dir: Path) -> None:
    """A removal proves it stays inside what the data folder owns: a `cache/` that is a link may point anywhere."""
    root = data_dir / "cache"
    if root.is_symlink():
        raise CacheFolderError(f"{root} is a symbolic link (to {os.readlink(root)}): cache prune removes files only "
                               f"in a cache folder that is the data folder's own; make it a real folder (mount "
                               f"the other disk at {root}) or prune that folder yourself")


def prune_local(data_dir: Path, cutoff: datetime, since: datetime | None, dry_run: bool = False,
                label: str | None = None) -> Pruned:
    """Remove files under `<data_dir>/cache/` last used before `cutoff` (never `cache/slots/`)."""
    report = Pruned(store=label or str(data_dir / "cache"), cutoff=cutoff, guarded_since=since)
    root = data_dir / "cache"
    check_cache_folder(data_dir)
    if not root.is_dir():
        return report
    limit = cutoff.timestamp()
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel_folder = Path(folder).relative_to(root).as_posix()
        if rel_folder != "." and _kept(rel_folder):
            dirs[:] = []
            continue
        if rel_folder == ".":
            dirs[:] = [d for d in dirs if not _kept(d)]
        for name in files:
            path = Path(folder) / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if info.st_mtime >= limit:
                report.kept += 1
                continue
            report.removed += 1
            report.removed_bytes += info.st_size
            if len(report.examples) < 5:
                report.examples.append(str(path))
            if not dry_run:
                path.unlink(missing_ok=True)
    if not dry_run:  # folders left empty (never the cache root or slots)
        for folder, dirs, files in os.walk(root, topdown=False):
            path = Path(folder)
            if path != root and not files and not dirs and not _kept(path.relative_to(root).as_posix()):
                try:
                    path.rmdir()
                except OSError:
                    pass
    return report


def prune_objects(store, cutoff: datetime, since: datetime | None, dry_run: bool = False) -> Pruned:
    """Remove objects under `<prefix>/cache/` last written (or refreshed on use) before `cutoff`."""
    report = Pruned(store=store.uri("cache/"), cutoff=cutoff, guarded_since=since)
    doomed = []
    for obj in store.objects("cache/"):
        rel = obj.rel[len("cache/"):]
        if not rel or _kept(rel):
            continue
        if obj.modified >= cutoff:
            report.kept += 1
            continue
        doomed.append(obj.rel)
        report.removed += 1
        report.removed_bytes += obj.size
        if len(report.examples) < 5:
            report.examples.append(store.uri(obj.rel))
    if doomed and not dry_run:
        store.delete(doomed)
    return report


def prune(data_dir: Path, older_than: timedelta, since: datetime | None, dry_run: bool = False,
          now: datetime | None = None) -> list[Pruned]:
    """Prune the caches of the configured store: the bucket's and this host's scratch copy (S3), or the
    data folder's (local)."""
    from pipeline.objects.settings import check_store_settings

    cutoff = cutoff_for(older_than, since, now)
    check_cache_folder(data_dir)  # before either store is touched
    if check_store_settings() == "s3":
        from pipeline.objects.s3 import ObjectStore

        return [prune_objects(ObjectStore(), cutoff, since, dry_run),
                prune_local(data_dir, cutoff, since, dry_run, label=f"{data_dir / 'cache'} (this host's copy)")]
    return [prune_local(data_dir, cutoff, since, dry_run)]
