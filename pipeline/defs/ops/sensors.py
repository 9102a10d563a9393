"""Sensors: briefs dropped in the inbox, and recurring projects made from a template on a cron cadence.

Both are sensors rather than schedules because they add the project's partition in the same tick
as its run (schedules cannot add dynamic partitions).
"""

import json
import shutil
import time
from pathlib import Path

import dagster as dg
import yaml
from dagster._utils.schedules import reverse_cron_string_iterator

from pipeline.brief import BriefError, parse_brief
from pipeline.defs.common import projects
from pipeline.defs.ops.jobs import produce_project
from pipeline.launch.batch import BATCH_TAG, read_batch, write_batch_progress
from pipeline.launch.guard import active_run
from pipeline.store import default_data_dir

SUFFIXES = (".yaml", ".yml", ".json")


def _move(path: Path, folder: Path, reasons: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{int(time.time())}{path.suffix}"
    shutil.move(str(path), target)
    if reasons:
        target.with_name(target.name + ".reasons.txt").write_text("\n\n".join(reasons) + "\n", encoding="utf-8")
    return target


def _request(brief, run_key: str, tags: dict[str, str]) -> dg.RunRequest:
    """The run of a brief: its partition, its run config, and its assets up to `stop_at`."""
    from pipeline.definitions import defs
    from pipeline.defs.ops.jobs import selection_up_to
    from pipeline.run import run_config

    selection = None
    if brief.stop_at or brief.publish.require_approval:
        selection = selection_up_to(brief.stop_at, defs.resolve_asset_graph(), brief.publish.require_approval)
    return dg.RunRequest(run_key=run_key, partition_key=brief.project_id, run_config=run_config(brief),
                         tags=tags, asset_selection=selection)


@dg.sensor(job=produce_project, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext):
    """Launches briefs and batch files dropped in data/inbox/; moves them to processed/ or rejected/."""
    data_dir = default_data_dir()
    inbox = data_dir / "inbox"
    files = sorted(p for p in inbox.glob("*") if p.is_file() and p.suffix in SUFFIXES)
    if not files:
        return dg.SkipReason(f"no briefs in {inbox}")
    requests, partitions = [], []
    for path in files:
        try:
            batch = read_batch(path, data_dir)
        except BriefError as e:
            _move(path, inbox / "rejected", [str(e)])
            continue
        is_batch = "projects" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        launched = []
        for brief in batch.briefs:
            busy = active_run(context.instance, brief.project_id)
            if busy is not None:
                batch.rejected.append({"project": brief.project_id, "run_id": None, "status": "rejected",
                                       "error": f"project already has run {busy.run_id} ({busy.status.value})"})
                continue
            if brief.project_id not in partitions and not context.instance.has_dynamic_partition(
                    projects.name, brief.project_id):
                partitions.append(brief.project_id)
            tags = {BATCH_TAG: batch.id} if is_batch else {}
            requests.append(_request(brief, f"inbox:{path.name}:{path.stat().st_mtime_ns}:{brief.project_id}", tags))
            launched.append({"project": brief.project_id, "run_id": None, "status": "queued", "error": None})
        reasons = [r["error"] for r in batch.rejected]
        _move(path, inbox / ("processed" if launched else "rejected"), reasons)
        if is_batch:
            write_batch_progress(batch.record(launched))
        context.log.info(f"{path.name}: {len(launched)} launched, {len(reasons)} rejected")
    return dg.SensorResult(run_requests=requests,
                           dynamic_partitions_requests=[projects.build_add_request(partitions)] if partitions else [])


@dg.sensor(job=produce_project, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def recurring_sensor(context: dg.SensorEvaluationContext):
    """Each data/recurring/*.yaml ({cron, brief}) becomes a new project <project_id>-<period> every period."""
    folder = default_data_dir() / "recurring"
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, partitions, skipped = [], [], []
    for path in sorted(folder.glob("*.yaml")) if folder.exists() else []:
        template = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cron = template.get("cron")
        tick = next(reverse_cron_string_iterator(time.time(), cron, "UTC")) if cron else None
        if tick is None or cursor.get(path.name) == tick.isoformat():
            continue
        data = dict(template.get("brief") or {})
        data["project_id"] = f"{data.get('project_id', path.stem)}-{tick:%Y%m%d-%H%M}"
        try:
            brief = parse_brief(data, default_data_dir(), source=str(path))
        except BriefError as e:
            skipped.append(str(e))
            cursor[path.name] = tick.isoformat()
            continue
        cursor[path.name] = tick.isoformat()
        partitions.append(brief.project_id)
        requests.append(_request(brief, f"recurring:{path.name}:{tick.isoformat()}", {"pipeline/recurring": path.stem}))
    for problem in skipped:
        context.log.warning(problem)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor),
                           skip_reason=None if requests else "no recurring project is due",
                           dynamic_partitions_requests=[projects.build_add_request(partitions)] if partitions else [])
