"""The run launcher named by dagster.yaml: Dagster's default one, with warm run workers and a health check.

Warm run workers (pipeline/launch/warm.py): a run goes to a run worker process started beforehand,
Dagster and the code already imported, when one is ready and still what a fresh one would be;
otherwise to the code server, as Dagster's default launcher does. `warm_run_workers: false` in
dagster.yaml turns this off. Cancel reaches a warm worker as it reaches the code server's: SIGINT.

Dagster's default launcher cannot tell run monitoring that a run worker died, so a run whose worker
was killed (OOM, SIGKILL) would stay STARTED until the maximum runtime. This one finds the worker's
pid in the run's event log ("Started process for run (pid: N)") and checks that process on this
machine, so monitoring marks the run failed within a poll and the run retry resumes it from failure.
"""

import os
import signal
import sys
import threading
from pathlib import Path

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._serdes import serialize_value

from pipeline.launch.warm import WarmPool, hand_over

_MARK = "Started process for run (pid: "
WARM_WORKER_TAG = "pipeline/warm-run-worker"  # host:pid of the warm worker a run was handed to


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
    def __init__(self, inst_data=None, warm_run_workers: bool = True,
                 preload_modules: tuple[str, ...] = ("pipeline.definitions",)):
        super().__init__(inst_data=inst_data)
        self._warm = WarmPool(tuple(preload_modules)) if warm_run_workers else None

    @classmethod
    def config_type(cls):
        return {
            "warm_run_workers": dg.Field(bool, is_required=False, default_value=True, description=(
                "Hand runs to a run worker started beforehand with the code imported (about 1.4 s less per run).")),
            "preload_modules": dg.Field([str], is_required=False, default_value=["pipeline.definitions"],
                                        description="Modules a warm run worker imports; runs of other modules start cold."),
        }

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, warm_run_workers=config_value.get("warm_run_workers", True),
                   preload_modules=tuple(config_value.get("preload_modules") or ("pipeline.definitions",)))

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        process = self._warm.take() if self._warm is not None and self._warm_fits(origin) else None
        if process is None:
            super().launch_run(context)
            return
        from dagster._grpc.types import ExecuteRunArgs

        self._instance.add_run_tags(run.run_id, {WARM_WORKER_TAG: f"{os.uname().nodename}:{process.pid}"})
        hand_over(process, serialize_value(ExecuteRunArgs(job_origin=origin, run_id=run.run_id,
                                                          instance_ref=self._instance.get_ref())))
        self._run_ids.add(run.run_id)
        threading.Thread(target=self._fail_if_never_started, args=(process, run.run_id),
                         name="warm-run-worker-watch", daemon=True).start()

    def _fail_if_never_started(self, process, run_id: str) -> None:
        """A warm worker that exits before its run started fails the run now (as the code server reports a
        run worker that dies while starting), not after run monitoring's start timeout."""
        code = process.wait()
        run = self._instance.get_run_by_id(run_id)
        if run is not None and run.status in (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING):
            self._instance.report_run_failed(run, f"The run worker (pid {process.pid}) exited with code {code} "
                                                  "before starting the run; its output is in the daemon's log.")

    def _warm_fits(self, origin) -> bool:
        """Whether a warm worker runs this job as the code server's worker would: same interpreter and module."""
        if origin is None or self._warm is None:
            return False
        pointer = origin.repository_origin.code_pointer
        return (origin.repository_origin.executable_path == sys.executable
                and getattr(pointer, "module", None) in self._warm.modules)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished or WARM_WORKER_TAG not in run.tags:
            return super().terminate(run_id)
        self._instance.report_run_canceling(run)
        host, _, pid = run.tags[WARM_WORKER_TAG].rpartition(":")
        if host != os.uname().nodename or not process_alive(int(pid)):
            self._instance.report_engine_event(f"The run worker {run.tags[WARM_WORKER_TAG]} is not running on "
                                               "this machine; run monitoring will mark the run.", run,
                                               cls=self.__class__)
            return False
        os.kill(int(pid), signal.SIGINT)  # what the code server does to its own run worker (send_interrupt)
        return True

    def dispose(self) -> None:
        if self._warm is not None:
            self._warm.close()
        super().dispose()

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
