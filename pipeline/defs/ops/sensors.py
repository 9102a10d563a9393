"""Sensors: briefs dropped in the inbox, and recurring projects made from a template on a cron cadence.

Both are sensors rather than schedules because they add the project's partition in the same tick
as its run (schedules cannot add dynamic partitions). Each file is judged on its own: a bad one is
refused (an inbox file moves to rejected/, a template is logged) and every other file goes on.
Only regular files are read; links, FIFOs and other special files are never opened or followed.
"""

import errno
import itertools
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import RUN_KEY_TAG
from dagster._utils.schedules import is_valid_cron_string, reverse_cron_string_iterator

from pipeline import tags
from pipeline.brief import Brief, BriefError, parse_brief, read_yaml
from pipeline.defs.common import projects
from pipeline.defs.ops.jobs import produce_project, run_config, selection_up_to
from pipeline.defs.redis_resource import RedisResource
from pipeline.defs.resources import DataFolder
from pipeline.documents import file_kind
from pipeline.ids import MAX_LENGTH, project_id_problem
from pipeline.launch.batch import read_batch, write_batch_progress
from pipeline.launch.guard import active_run

SUFFIXES = (".yaml", ".yml", ".json")
# The daemon creates a tick's runs within that tick. A file whose runs are still missing this long
# after its tick lost them (a request dropped, runs deleted) is evaluated and requested again.
PENDING_GRACE_SECONDS = 300
PERIOD = "%Y%m%d-%H%M"  # a recurring project's id is <project_id>-<period>
PERIOD_CHARS = len("-20300131-0900")


def _entries(folder: Path, suffixes: tuple[str, ...]) -> list[tuple[Path, os.stat_result]]:
    """The folder's entries with one of `suffixes`, by name, as lstat sees them (hidden ones left out)."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(suffixes) and not n.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        try:
            found.append((folder / name, os.lstat(folder / name)))
        except FileNotFoundError:  # gone since the listing
            continue
    return found


def _not_regular(path: Path, mode: int) -> str:
    if stat.S_ISLNK(mode):
        return (f"{path.name} is a symbolic link; the inbox never follows links: copy the file into "
                f"{path.parent} instead")
    return f"{path.name} is {file_kind(mode)}, not a regular file: give a YAML or JSON file"


def _has_run(instance: dg.DagsterInstance, run_key: str) -> bool:
    return bool(instance.get_run_ids(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1))


def _move(path: Path, folder: Path, reasons: list[str] | None = None) -> Path:
    """Move the entry itself (a link stays a link, a FIFO is never opened) into `folder`, reasons beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    names = itertools.chain([path.name, f"{path.stem}-{stamp}{path.suffix}"],
                            (f"{path.stem}-{stamp}-{n}{path.suffix}" for n in itertools.count(2)))
    target = next(folder / n for n in names
                  if not os.path.lexists(folder / n) and not os.path.lexists(folder / f"{n}.reasons.txt"))
    try:
        os.rename(path, target)
    except OSError as e:  # another file system: only a regular file is copied across
        if e.errno != errno.EXDEV or not stat.S_ISREG(os.lstat(path).st_mode):
            raise
        shutil.move(path, target)
    if reasons:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(folder / f"{target.name}.reasons.txt", flags, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n\n".join(reasons) + "\n")
    return target


def _request(context: dg.SensorEvaluationContext, brief: Brief, run_key: str, run_tags: dict[str, str]) -> dg.RunRequest:
    """The run of a brief: its partition, its run config, and its assets up to `stop_at` (in the asset
    graph of the repository the sensor belongs to)."""
    selection = None
    if brief.stop_at or brief.publish.require_approval:
        if context.repository_def is None:
            raise dg.DagsterInvariantViolationError("the sensor needs its repository: build the context with "
                                                    "definitions=")
        selection = selection_up_to(brief.stop_at, context.repository_def.asset_graph,
                                    brief.publish.require_approval)
    return dg.RunRequest(run_key=run_key, partition_key=brief.project_id, run_config=run_config(brief),
                         tags=run_tags, asset_selection=selection)


def _cursor(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class _InboxTick:
    """One evaluation of the inbox: what it requests, and the files waiting for their runs."""

    context: dg.SensorEvaluationContext
    data_dir: Path
    inbox: Path
    redis_target: RedisResource
    requests: list[dg.RunRequest] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    # file name -> {mtime_ns, run_keys, reasons, since}: requested, moved once their runs exist
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    requested_by: dict[str, str] = field(default_factory=dict)  # project -> the file requesting it in this tick

    def consider(self, path: Path, info: os.stat_result, known: dict[str, Any] | None) -> None:
        if not stat.S_ISREG(info.st_mode):
            self._settle(path, "rejected", [_not_regular(path, info.st_mode)])
            return
        if isinstance(known, dict) and known.get("mtime_ns") == info.st_mtime_ns:
            keys = known.get("run_keys") or []
            if all(_has_run(self.context.instance, k) for k in keys):
                self._settle(path, "processed", known.get("reasons") or [])
                return
            if time.time() - known.get("since", 0) < PENDING_GRACE_SECONDS:
                self.pending[path.name] = known
                return
            self.context.log.warning(f"{path.name}: its runs did not appear; requesting them again")
        self._evaluate(path, info)

    def _evaluate(self, path: Path, info: os.stat_result) -> None:
        instance = self.context.instance
        try:
            batch = read_batch(path, self.data_dir, follow_links=False)
        except BriefError as e:
            self._settle(path, "rejected", [str(e)])
            return
        keys, launched, requests = [], [], []
        for brief in batch.briefs:
            key = f"inbox:{path.name}:{info.st_mtime_ns}:{brief.project_id}"
            if not _has_run(instance, key):  # it has one when an earlier tick's cursor was lost
                problem = self._busy(brief.project_id)
                if problem:
                    batch.rejected.append({"project": brief.project_id, "run_id": None, "status": "rejected",
                                           "error": problem, "error_code": "PROJECT_BUSY"})
                    continue
                requests.append(_request(self.context, brief, key, {tags.BATCH: batch.id} if batch.is_batch else {}))
            keys.append(key)
            launched.append({"project": brief.project_id, "run_id": None, "status": "queued", "error": None})
        reasons = [r["error"] for r in batch.rejected]
        if not keys:
            self._settle(path, "rejected", reasons)
            return
        if not requests:
            self._settle(path, "processed", reasons)
            return
        for request in requests:
            self.requested_by[request.partition_key] = path.name
            if request.partition_key not in self.partitions and not instance.has_dynamic_partition(
                    projects.name, request.partition_key):
                self.partitions.append(request.partition_key)
        self.requests.extend(requests)
        self.context.log.info(f"{path.name}: {len(requests)} requested, {len(reasons)} rejected; it moves to "
                              "processed/ once its runs exist")
        self.pending[path.name] = {"mtime_ns": info.st_mtime_ns, "run_keys": keys, "reasons": reasons,
                                   "since": time.time()}
        if batch.is_batch:
            write_batch_progress(batch.record(launched), self.redis_target.client(timeout=2),
                                 self.redis_target.redis_keys)

    def _busy(self, project: str) -> str | None:
        if project in self.requested_by:
            return f"project {project!r} is already requested by {self.requested_by[project]} in this tick"
        busy = active_run(self.context.instance, project)
        return None if busy is None else f"project already has run {busy.run_id} ({busy.status.value})"

    def _settle(self, path: Path, folder: str, reasons: list[str]) -> None:
        try:
            _move(path, self.inbox / folder, reasons)
        except OSError as e:
            self.context.log.warning(f"{path.name}: cannot move it to {folder}/: {e.strerror or e}")
            return
        if folder == "rejected":
            self.context.log.warning(f"{path.name} rejected: " + "; ".join(reasons))

    def result(self) -> dg.SensorResult:
        waiting = f"{len(self.pending)} file(s) wait for their runs" if self.pending else "no new briefs"
        return dg.SensorResult(
            run_requests=self.requests, cursor=json.dumps({"pending": self.pending}),
            skip_reason=None if self.requests else waiting,
            dynamic_partitions_requests=[projects.build_add_request(self.partitions)] if self.partitions else [])


@dg.sensor(job=produce_project, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, files: DataFolder, redis_target: RedisResource):
    """Launches briefs and batch files dropped in data/inbox/; moves them to processed/ once their runs
    exist, or to rejected/."""
    data_dir = files.root
    inbox = data_dir / "inbox"
    pending = _cursor(context.cursor).get("pending") or {}
    entries = _entries(inbox, SUFFIXES)
    if not entries and not pending:
        return dg.SkipReason(f"no briefs in {inbox}")
    tick = _InboxTick(context, data_dir, inbox, redis_target)
    for path, info in entries:
        tick.consider(path, info, pending.get(path.name))
    return tick.result()


def _due(path: Path, info: os.stat_result, now: float, data_dir: Path) -> tuple[str, Brief]:
    """The template's latest period and the brief of its project; BriefError naming what is wrong."""
    source = str(path)
    if not stat.S_ISREG(info.st_mode):
        raise BriefError([f"is {file_kind(info.st_mode)}, not a regular file: a template is read only from a "
                          "regular file (links are never followed); copy it in"], source)
    template = read_yaml(path, follow_links=False)
    if not isinstance(template, dict):
        raise BriefError([f"must be a mapping with cron and brief, got {type(template).__name__}"], source)
    problems = [f"{key}: unknown field (a template has cron and brief)" for key in template
                if key not in ("cron", "brief")]
    cron, data = template.get("cron"), template.get("brief")
    if not isinstance(cron, str) or not is_valid_cron_string(cron):
        problems.append(f"cron: {cron!r} is not a cron string of 5 fields (minute hour day month weekday), "
                        "e.g. \"0 9 * * 1\"")
    if not isinstance(data, dict):
        problems.append("brief: must be a mapping of the brief's fields")
    if problems:
        raise BriefError(problems, source)
    try:
        period = next(reverse_cron_string_iterator(now, cron, "UTC"))
    except ValueError:  # croniter's CroniterBadDateError: a day that never comes, e.g. 31 April
        raise BriefError([f"cron: {cron!r} never fires"], source) from None
    base = data.get("project_id", path.stem)
    problem = project_id_problem(base)
    if problem is None and len(base) > MAX_LENGTH - PERIOD_CHARS:
        problem = f"must be at most {MAX_LENGTH - PERIOD_CHARS} characters: -{PERIOD} is added to it"
    if problem is not None:
        where = "brief.project_id" if "project_id" in data else "the file name (brief.project_id is not given)"
        raise BriefError([f"{where} {base!r}: {problem}"], source)
    brief = parse_brief({**data, "project_id": f"{base}-{period:{PERIOD}}"}, data_dir, source=source)
    return period.isoformat(), brief


@dg.sensor(job=produce_project, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def recurring_sensor(context: dg.SensorEvaluationContext, files: DataFolder):
    """Each data/recurring/*.yaml ({cron, brief}) becomes a new project <project_id>-<period> every period."""
    state = _cursor(context.cursor)
    # launched: template -> its last period launched; warned: template -> the problem last logged
    launched = state.get("launched") if "launched" in state else {k: v for k, v in state.items() if isinstance(v, str)}
    warned_before, warned = state.get("warned") or {}, {}
    requests, partitions = [], []
    now = time.time()
    for path, info in _entries(files.root / "recurring", (".yaml",)):
        try:
            period, brief = _due(path, info, now, files.root)
        except BriefError as e:
            warned[path.name] = str(e)
            if warned_before.get(path.name) != str(e):
                context.log.warning(str(e))
            continue
        if launched.get(path.name) == period:
            continue
        launched[path.name] = period
        partitions.append(brief.project_id)
        requests.append(_request(context, brief, f"recurring:{path.name}:{period}", {tags.RECURRING: path.stem}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"launched": launched, "warned": warned}),
                           skip_reason=None if requests else "no recurring project is due",
                           dynamic_partitions_requests=[projects.build_add_request(partitions)] if partitions else [])
