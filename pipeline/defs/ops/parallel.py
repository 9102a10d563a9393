"""Independent steps of one run at the same time, in threads of the run worker (the default executor's engine).

Narration, images and presenter clips of a project do not depend on each other; with hosted
providers each is mostly waiting on the network, so running them one after another costs the sum
of their latencies instead of the longest. The multiprocess executor would run them apart but
costs ~1.5 s per step here (a process and an import each); threads cost nothing extra. Dagster's
own bookkeeping stays as in-process: one ActiveExecution decides what is ready (dependencies,
retries, pools), the main thread yields every event and tells it what happened; each step runs
`dagster_event_sequence_for_step` in a thread of its own.

Cancel: the run worker's interrupt is only noted by Dagster (captured), and a thread cannot take a
signal, so the main thread raises DagsterExecutionInterruptedError inside every running step
thread, but only while that thread runs an asset body (`in_body`, entered by the assets' boundary);
a thread in Dagster's own output handling gets it when it next enters the body, or finishes its
step. The boundary then fails the step without retry (dagster#15026), as in-process.
Python logging: a step's handler takes the records of its own threads only, so concurrent steps
never see each other's provider log lines; a thread pool a step starts names its threads with
`step_threads(step)` (a thread of no step logs to every running step).
"""

import contextlib
import ctypes
import logging
import os
import queue
import sys
import threading
from collections.abc import Iterator

import dagster as dg
from dagster._core.events import DagsterEvent
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import PlanExecutionContext
from dagster._core.execution.plan.execute_plan import _trigger_hook, dagster_event_sequence_for_step
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.execution.plan.plan import ExecutionPlan

PARALLEL_ENV = "PIPELINE_PARALLEL_STEPS"  # steps of one run at once (default 4; 1: one after another)
_DONE = object()


class _Raised:
    """sys.exc_info() of an error a step thread raised outside the step's own boundary."""

    def __init__(self, exc_info):
        self.error, self.traceback = exc_info[1], exc_info[2]


def parallel_steps() -> int:
    raw = os.environ.get(PARALLEL_ENV, "4").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise dg.DagsterInvalidConfigError(f"{PARALLEL_ENV}={raw!r}: give a whole number of at least 1", [], None)
    return int(raw)


_PREFIX = "step-"


def step_threads(step_key: str) -> str:
    """The thread name prefix of a pool a step starts: its threads' log records go to that step only."""
    return f"{_PREFIX}{step_key}"


class _OwnThread(logging.Filter):
    """Passes the records of one step's threads, and of threads that belong to no step."""

    steps: dict[int, str] = {}  # thread ident -> step key, for the threads running steps

    def __init__(self, step_key: str):
        super().__init__()
        self.step_key = step_key

    def filter(self, record: logging.LogRecord) -> bool:
        owner = self.steps.get(record.thread or 0)
        if owner is None and (record.threadName or "").startswith(_PREFIX):
            owner = record.threadName[len(_PREFIX):].rsplit("_", 1)[0]  # ThreadPoolExecutor adds _<n>
        return owner in (None, self.step_key)


_bodies: set[int] = set()  # threads running an asset body
_pending: set[int] = set()  # threads a cancel is waiting for
_cancel = threading.Lock()


@contextlib.contextmanager
def in_body() -> Iterator[None]:
    """An asset body runs in this `with`: the only place a cancel is raised in a step thread."""
    ident = threading.get_ident()
    with _cancel:
        _bodies.add(ident)
        waiting = ident in _pending
        _pending.discard(ident)
    try:
        if waiting:
            raise dg.DagsterExecutionInterruptedError()
        yield
    finally:
        with _cancel:
            _bodies.discard(ident)


class StepThread(threading.Thread):
    """Runs one step's event sequence, handing each event to the main thread through `events`."""

    def __init__(self, step_context, events: "queue.Queue"):
        super().__init__(name=step_threads(step_context.step.key), daemon=True)
        self.context = step_context
        self.events = events
        self.collected: list[DagsterEvent] = []

    def run(self) -> None:
        key = self.context.step.key
        _OwnThread.steps[threading.get_ident()] = key
        handler = getattr(self.context.log, "_dagster_handler", None)
        own = _OwnThread(key)
        if handler is not None:  # DagsterLogHandler overrides `filter` itself, so its filters list is not read
            dagster_filter = handler.filter
            handler.filter = lambda record: own.filter(record) and dagster_filter(record)
        try:
            for event in dagster_event_sequence_for_step(self.context):
                self.events.put((key, event))
        except BaseException:  # noqa: BLE001 - handed to the main thread, which raises it there
            self.events.put((key, _Raised(sys.exc_info())))
        finally:
            with _cancel:
                _pending.discard(threading.get_ident())
            _OwnThread.steps.pop(threading.get_ident(), None)
            if handler is not None:
                handler.__dict__.pop("filter", None)
            self.events.put((key, _DONE))

    def interrupt(self) -> None:
        """Raise DagsterExecutionInterruptedError in the step's asset body: now, or when it next enters one."""
        if self.ident is None or not self.is_alive():
            return
        with _cancel:
            if self.ident not in _bodies:
                _pending.add(self.ident)
                return
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident),
                                                       ctypes.py_object(dg.DagsterExecutionInterruptedError))


def parallel_execution_iterator(job_context: PlanExecutionContext, execution_plan: ExecutionPlan,
                                instance_concurrency_context: InstanceConcurrencyContext | None = None,
                                ) -> Iterator[DagsterEvent]:
    """inner_plan_execution_iterator of Dagster's in-process executor, with ready steps run in threads."""
    limit = parallel_steps()
    compute_log_manager = job_context.instance.compute_log_manager
    step_keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    with InstanceConcurrencyContext(job_context.instance, job_context.dagster_run) as concurrency, \
            execution_plan.start(retry_mode=job_context.retry_mode, instance_concurrency_context=concurrency,
                                 step_dependency_config=job_context.step_dependency_config) as active:
        log_key = compute_log_manager.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
        with compute_log_manager.capture_logs(log_key) as log_context:
            yield DagsterEvent.capture_logs(job_context, step_keys, log_key, log_context)
            events: queue.Queue = queue.Queue()
            running: dict[str, StepThread] = {}
            try:
                yield from _loop(job_context, active, events, running, limit)
            finally:
                _stop(running.values())


def _stop(threads) -> None:
    """Steps still running when the run's loop ends early (a canceling run stopped): interrupted, awaited."""
    threads = [t for t in threads if t.is_alive()]
    for thread in threads:
        thread.interrupt()
    for thread in threads:
        thread.join(timeout=30)


def _loop(job_context, active, events: "queue.Queue", running: dict, limit: int) -> Iterator[DagsterEvent]:
    """Start ready steps, relay their events to Dagster's bookkeeping, until every step has ended."""
    stopping = False
    failure = None
    while (not stopping and not active.is_complete) or running:
        try:
            interrupted = active.check_for_interrupts()
            if not stopping and not interrupted and failure is None:
                for step in active.get_steps_to_execute(limit=limit - len(running)):
                    thread = StepThread(job_context.for_step(step, active.get_known_state()), events)
                    running[step.key] = thread
                    thread.start()
                yield from active.concurrency_event_iterator(job_context)
            key, item = events.get(timeout=0.1)
        except (KeyboardInterrupt, dg.DagsterExecutionInterruptedError):
            interrupted, key, item = True, None, None  # the signal's handler raised here, in the main thread
        except queue.Empty:
            key, item = None, None
            for gone in [k for k, t in running.items() if not t.is_alive() and events.empty()]:
                running.pop(gone)  # ended without its last word (interrupted in the hand-over)
                active.verify_complete(job_context, gone)
        if interrupted and not stopping:
            stopping = True
            active.mark_interrupted()
            for thread in running.values():
                thread.interrupt()
        if key is None:
            continue
        if item is _DONE:
            thread = running.pop(key, None)
            active.verify_complete(job_context, key)
            yield from active.plan_events_iterator(job_context)
            if thread is not None:
                yield from _trigger_hook(thread.context, thread.collected)
        elif isinstance(item, _Raised):
            if not isinstance(item.error, (KeyboardInterrupt, dg.DagsterExecutionInterruptedError)) and failure is None:
                failure = item  # raised once the other steps have ended
        else:
            if key in running:
                running[key].collected.append(item)
            yield item
            active.handle_event(item)
    if failure is not None:
        raise failure.error.with_traceback(failure.traceback)
