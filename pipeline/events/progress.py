"""Fine-grained progress, written as structured events into Dagster's event log.

Each report is an `AssetObservation` of the running asset with the metadata below, so the UI shows
it on the asset's timeline and the Redis projection can turn it into `generation_progress`.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import dagster as dg

PROGRESS_TAG = "pipeline/progress"
CALL_TAG = "pipeline/call"  # an observation that reports one provider call of a verbose brief (pipeline/calls.py)
HEARTBEAT = 4.0  # seconds between reports while a step waits on one long call (a model, a poll, an upload)

# Relative cost of each asset, used to turn step progress into run progress.
STAGE_WEIGHTS = {
    "brief": 1,
    "outline": 4,
    "chapters": 25,
    "manuscript": 1,
    "script": 5,
    "narration": 20,
    "images": 14,
    "presenter": 3,
    "video": 25,
    "thumbnail": 1,
    "publication": 4,
}


def run_percent(selected: list[str], finished: set[str], current: str | None, fraction: float) -> int:
    """Percent of a run's work done: finished stages plus the fraction of the current one."""
    total = sum(STAGE_WEIGHTS.get(s, 1) for s in selected) or 1
    done = sum(STAGE_WEIGHTS.get(s, 1) for s in selected if s in finished)
    if current in selected and current not in finished:
        done += STAGE_WEIGHTS.get(current, 1) * min(max(fraction, 0.0), 1.0)
    return min(100, int(100 * done / total))


class Progress:
    """Reports `done of total` for one asset step, at most every `interval` seconds.

    A report is dropped only when the previous one is less than `interval` old, whatever `done` is:
    a long wait that reports the same `done` with a new message (a heartbeat) is shown too.
    """

    def __init__(self, context: dg.AssetExecutionContext, total: int, unit: str, interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic):
        self.context = context
        self.total = max(total, 1)
        self.unit = unit
        self.interval = interval
        self.clock = clock
        self._last: float | None = None
        self._done = 0
        self._where: dict[str, int | str | None] = {"chapter": None, "scene": None}
        self._lock = threading.Lock()  # the heartbeat reports from its own thread

    @contextlib.contextmanager
    def waiting(self, what: str, every: float = HEARTBEAT) -> Iterator[None]:
        """While the body blocks on one long call, report `what` and the seconds waited every `every` s,
        so a step is never silent for long (a model writing a chapter, a presenter clip being made)."""
        stop = threading.Event()
        started = self.clock()

        def beat() -> None:
            while not stop.wait(every):
                self.report(self._done, f"{what} ({self.clock() - started:.0f} s)", force=True, **self._where)

        thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def report(self, done: int, message: str, *, chapter: int | None = None, scene: str | None = None,
               force: bool = False) -> None:
        with self._lock:
            self._report(done, message, chapter, scene, force)

    def _report(self, done: int, message: str, chapter: int | None, scene: str | None, force: bool) -> None:
        now = self.clock()
        if not force and done < self.total and self._last is not None and now - self._last < self.interval:
            return
        self._last, self._done = now, done
        self._where = {"chapter": chapter, "scene": scene}
        metadata: dict[str, dg.RawMetadataValue] = {
            PROGRESS_TAG: True,
            "done": done,
            "total": self.total,
            "unit": self.unit,
            "step_percent": int(100 * done / self.total),
            "message": message,
        }
        if chapter is not None:
            metadata["chapter"] = chapter
        if scene is not None:
            metadata["scene"] = scene
        ctx = self.context
        ctx.log_event(
            dg.AssetObservation(
                asset_key=ctx.asset_key,
                partition=ctx.partition_key if ctx.has_partition_key else None,
                metadata=metadata,
            )
        )
        ctx.log.info(f"{ctx.asset_key.to_user_string()}: {message} ({done}/{self.total} {self.unit})")
