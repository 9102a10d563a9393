"""From Dagster's event log to the Redis contract's entries (SPEC §2): pure functions and run state.

`RunView` follows one run's events in order and says, for each, the stream entry, the progress
record, the log line and the bookkeeping changes. It holds no I/O, so replaying a run's events from
the start rebuilds exactly what was published.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import dagster as dg

from pipeline.stages import STAGES
from pipeline.events.compat import task_type_of
from pipeline.events.outcome import Outcome, of_cancel, of_run_failure, of_step_failure
from pipeline.events.progress import CALL_TAG, PROGRESS_TAG, run_percent
from pipeline.tags import BATCH, PROJECT

SCHEMA_VERSION = 3  # v2: error_code, stage, retryable, hint on failures and cancels; v3: task_type, duration
RUN_TYPES = {
    dg.DagsterEventType.RUN_ENQUEUED: "task_queued",
    dg.DagsterEventType.RUN_START: "task_started",
    dg.DagsterEventType.RUN_SUCCESS: "task_completed",
    dg.DagsterEventType.RUN_FAILURE: "task_failed",
    dg.DagsterEventType.RUN_CANCELED: "task_canceled",
}
FINAL_STATUS = {"task_completed": "succeeded", "task_failed": "failed", "task_canceled": "canceled"}
FINAL_TYPES = tuple(FINAL_STATUS)  # a listener may stop at the first of these
FINAL_STATES = tuple(FINAL_STATUS.values())  # generation_progress status once a run has ended
LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _metadata_value(value: Any) -> Any:
    raw = getattr(value, "value", value)
    return raw if isinstance(raw, (str, int, float, bool, type(None), list, dict)) else str(raw)


@dataclass
class Change:
    """What one event changes in Redis; `entry` is None for events that only log."""

    entry: dict[str, str] | None
    log: dict[str, Any] | None
    progress: dict[str, Any] | None = None
    active: dict[str, Any] | None = None  # set active_task
    clear_active: bool = False
    final_status: str | None = None  # run outcome: job_result and batch_progress


@dataclass
class RunView:
    project: str
    run_id: str
    selected: list[str]
    batch: str | None = None
    finished: set[str] = field(default_factory=set)
    current: str | None = None
    chapter: int | None = None
    scene: str | None = None
    percent: int = 0
    status: str = "queued"
    started_at: str | None = None
    failed_step: str | None = None
    failed_error: str | None = None
    failure: Outcome | None = None  # the record of the failure (or cancel) that ended the run
    task_type: str = ""  # the older system's name of the work (events/compat.py)
    began: float | None = None  # when the run started (else was queued): the origin of `duration`

    @classmethod
    def for_run(cls, run: dg.DagsterRun, instance: dg.DagsterInstance | None = None) -> "RunView":
        """The view of a run, selecting the stages it executes (`instance` tells its brief's kind when
        the run carries no brief config)."""
        project = run.tags.get(PROJECT, "")
        if run.asset_selection:
            selected = [s for s in STAGES if dg.AssetKey(s) in run.asset_selection]
        elif run.step_keys_to_execute:
            selected = [s for s in STAGES if s in run.step_keys_to_execute]
        else:
            selected = list(STAGES)
        return cls(project=project, run_id=run.run_id, selected=selected, batch=run.tags.get(BATCH),
                   task_type=task_type_of(run, project, instance))

    def apply(self, record: "dg.EventLogRecord") -> Change:
        entry = record.event_log_entry
        event = entry.dagster_event
        ts = iso(entry.timestamp)
        log = {"ts": ts, "level": LEVELS.get(entry.level, str(entry.level)), "run_id": self.run_id,
               "step": entry.step_key or "", "message": entry.user_message or (event.message if event else "")}
        if event is None:
            return Change(entry=None, log=log)
        kind = event.event_type
        etype = RUN_TYPES.get(kind, "task_progress")
        fields: dict[str, str] = {
            "type": etype, "dagster_event": kind.name, "project": self.project, "run_id": self.run_id,
            "step": entry.step_key or "", "asset": "", "ts": ts,
            "message": event.message or entry.user_message or "", "task_type": self.task_type,
        }
        asset_key = getattr(event, "asset_key", None)
        if asset_key is not None:
            fields["asset"] = asset_key.to_user_string()
        elif entry.step_key in STAGES:
            fields["asset"] = entry.step_key
        data: dict[str, Any] = {}
        change = Change(entry=fields, log=log)
        before = (self.status, self.current, self.percent, self.chapter, self.scene)

        if kind == dg.DagsterEventType.RUN_ENQUEUED:
            self.status, self.percent = "queued", 0
            self.started_at = ts
            self.began = entry.timestamp
            change.active = {"run_id": self.run_id, "started_at": ts}
        elif kind == dg.DagsterEventType.RUN_START:
            self.status = "running"
            self.began = entry.timestamp
            if self.started_at is None:
                self.started_at = ts
                change.active = {"run_id": self.run_id, "started_at": ts}
        elif kind == dg.DagsterEventType.STEP_START:
            self.status, self.current, self.chapter, self.scene = "running", entry.step_key, None, None
        elif kind == dg.DagsterEventType.ASSET_OBSERVATION:
            meta = event.event_specific_data.asset_observation.metadata
            if meta.get(PROGRESS_TAG):
                data = {k: _metadata_value(v) for k, v in meta.items() if k != PROGRESS_TAG}
                self.current = entry.step_key or self.current
                self.chapter = data.get("chapter", self.chapter)
                self.scene = data.get("scene", self.scene)
                fraction = data.get("done", 0) / max(data.get("total", 1), 1)
                self._raise(run_percent(self.selected, self.finished, self.current, fraction))
                fields["message"] = str(data.get("message", fields["message"]))
            elif meta.get(CALL_TAG):  # a verbose brief's provider call: its line is already a log line
                data = {k: _metadata_value(v) for k, v in meta.items() if k != CALL_TAG}
                fields["message"] = str(data.get("message", fields["message"]))
                change.log = None
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self.finished.add(entry.step_key or "")
            self._raise(run_percent(self.selected, self.finished, None, 0.0))
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            # a dg.Failure's own record (code, what, where, what to do), not "dagster...Failure: " + its text
            self.failure = of_step_failure(entry.step_key or "", event.event_specific_data, fields["message"])
            self.failed_step, self.failed_error = entry.step_key, self.failure.message
            fields["error"] = self.failed_error or ""
            fields.update(self.failure.fields())
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            meta = event.event_specific_data.materialization.metadata
            data = {k: _metadata_value(v) for k, v in meta.items() if k not in ("preview",)}
        elif etype in FINAL_STATUS:
            self.status = FINAL_STATUS[etype]
            if etype == "task_completed":
                self.percent = 100
            change.final_status = self.status
            change.clear_active = True
            fields["duration"] = f"{max(0.0, entry.timestamp - (self.began or entry.timestamp)):.3f}"
            if etype == "task_failed":
                fields["step"] = fields["step"] or (self.failed_step or "")
                fields["asset"] = fields["asset"] or (self.failed_step or "")
                fields["error"] = self.failed_error or fields["message"]
                if self.failure is None:
                    self.failure = of_run_failure(fields["message"], self.current or "")
                fields.update(self.failure.fields())
            elif etype == "task_canceled":
                self.failure = of_cancel(fields["message"], self.current or "")
                fields.update(self.failure.fields())
        if data:
            fields["data"] = json.dumps(data, ensure_ascii=False, default=str)
        if (self.status, self.current, self.percent, self.chapter, self.scene) != before or etype != "task_progress":
            fields["progress_percent"] = str(self.percent)
            change.progress = self.progress_record(fields["message"], ts)
        return change

    def _raise(self, percent: int) -> None:
        self.percent = max(self.percent, min(percent, 99 if self.status != "succeeded" else 100))

    def progress_record(self, message: str, ts: str) -> dict[str, Any]:
        record = {"status": self.status, "run_id": self.run_id, "current_step": self.current,
                  "current_chapter": self.chapter, "current_scene": self.scene, "progress_percent": self.percent,
                  "message": message, "updated_at": ts,
                  # the same facts under the names the older system's listeners read
                  "project_id": self.project, "stage": self.current or "", "progress": self.percent,
                  "timestamp": ts}
        if self.status == "failed":
            record["error"] = self.failed_error or (self.failure.message if self.failure else "") or message
        return record
