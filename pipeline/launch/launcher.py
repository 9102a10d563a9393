"""The run launcher named by dagster.yaml: Dagster's default one, plus a health check of run workers.

Dagster's default launcher cannot tell run monitoring that a run worker died, so a run whose worker
was killed (OOM, SIGKILL) would stay STARTED until the maximum runtime. This one finds the worker's
pid in the run's event log ("Started process for run (pid: N)") and checks that process on this
machine, so monitoring marks the run failed within a poll and the run retry resumes it from failure.
"""

import os
from pathlib import Path

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

_MARK = "Started process for run (pid: "


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's latest run worker, from its engine events."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT,
                                           ascending=False, limit=200).records
    for record in records:
        event = record.event_log_entry.dagster_event
        message = (event.message if event else None) or record.event_log_entry.user_message or ""
        if _MARK in message:
            return int(message.split(_MARK)[1].split(")")[0])
    return None


def process_alive(pid: int) -> bool:
    """Whether the process runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


class MonitoredRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = worker_pid(self._instance, run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no run worker pid in the event log yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone (killed or crashed)",
                                    run_worker_id=str(pid))
