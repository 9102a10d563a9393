"""The hook in Dagster's event log storage: poke the projector after every stored event.

`store_event` runs synchronously in every Dagster process (run workers, step processes, the
daemon, the webserver), so it only sends a non-blocking datagram with the run id. One process per
machine, instance and Redis target (URL and prefix) leads: it binds an abstract Unix socket named
after the three, receives the pokes, and runs the projector in a background thread. The others
retry leadership every second, so the projection moves on when a leader exits. A process left
running with another REDIS_URL leads for its own Redis only, and the new leader warns about it.
"""

import atexit
import gc
import hashlib
import logging
import os
import socket
import threading
import time

import dagster as dg

from pipeline.events.projector import Projector, is_redis_down, state_for
from pipeline.events.redis_sink import RedisSink, connect
from pipeline.events.state import ProjectionState
from pipeline.events.target import Target

log = logging.getLogger(__name__)

ENABLED_ENV = "PIPELINE_EVENTS"  # "off" disables the projection in this process
SWEEP_SECONDS = 2.0
OTHERS_WINDOW = 600  # seconds: another target that projected this recently is warned about


def address(identity: str, target: Target | None = None) -> str:
    """The abstract socket name of the projector of one storage into one Redis target (default: this process's)."""
    target = target or Target.from_env()
    digest = hashlib.sha256(f"{identity}|{target.url}|{target.prefix}".encode()).hexdigest()[:20]
    return f"\0pipeline-projector-{digest}"


def enabled() -> bool:
    return os.environ.get(ENABLED_ENV, "on").lower() not in ("off", "0", "false", "no")


class ProjectionHook:
    """Mixed into the event log storages of pipeline.storage."""

    _projection_identity: str = ""
    _projection_target: Target | None = None
    _projection_socket: str = ""

    def _projection_address(self) -> str:
        """The leader's socket for this storage and the Redis target this process was started with."""
        if not self._projection_socket:
            self._projection_target = Target.from_env()
            self._projection_socket = address(self._projection_identity, self._projection_target)
        return self._projection_socket

    def store_event(self, event) -> None:  # type: ignore[no-untyped-def]
        super().store_event(event)  # type: ignore[misc]
        if event.run_id and enabled():
            poke(self._projection_address(), event.run_id)

    def store_event_batch(self, events) -> None:  # type: ignore[no-untyped-def]
        super().store_event_batch(events)  # type: ignore[misc]
        if enabled():
            for run_id in {e.run_id for e in events if e.run_id}:
                poke(self._projection_address(), run_id)

    def register_instance(self, instance: dg.DagsterInstance) -> None:
        super().register_instance(instance)  # type: ignore[misc]
        if enabled() and getattr(self, "_leader", None) is None:
            name = self._projection_address()
            self._leader = LeaderThread(instance, name, self._projection_target)
            self._leader.start()

    def dispose(self) -> None:
        leader = getattr(self, "_leader", None)
        if leader is not None:
            leader.stop(flush=True)
        super().dispose()  # type: ignore[misc]


_poke_socket: socket.socket | None = None
_heap_settled = False


def settle_heap() -> None:
    """Take what this process has built so far (Dagster, the instance, the projector) out of the cyclic
    garbage collector's reach, once.

    A full collection walks every tracked object while holding the GIL: in a Dagster process that
    is ~115-155 ms, every few seconds under a stream of events, during which no event is projected
    (the p99 stall of benchmarks/events). Frozen objects are never walked again, so a full
    collection then walks only what was made since: a few milliseconds. Garbage is collected first;
    frozen objects are still freed by reference counting, only a cycle among them would stay.
    """
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        gc.collect()
        gc.freeze()


def poke(name: str, run_id: str) -> None:
    """Tell the leading projector that `run_id` has a new event; never blocks, never raises."""
    global _poke_socket
    try:
        if _poke_socket is None:
            _poke_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
            atexit.register(_poke_socket.close)
        _poke_socket.sendto(run_id.encode(), name)
    except OSError:
        pass  # no leader right now, or its queue is full: the sweep catches up


class LeaderThread(threading.Thread):
    """Tries to lead; while leading, projects poked runs at once and sweeps every few seconds."""

    def __init__(self, instance: dg.DagsterInstance, name: str, target: Target | None = None):
        super().__init__(name="pipeline-projector", daemon=True)
        self.instance = instance
        self.name_ = name
        self.target = target or Target.from_env()
        self._others: set[str] = set()  # digests of other targets already warned about
        self._halt = threading.Event()
        self._sock: socket.socket | None = None
        self.projector: Projector | None = None
        self.leading = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            if self._sock is None and not self._try_lead():
                self._halt.wait(1.0)
                continue
            self._serve()

    def _try_lead(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self.name_)
        except OSError:
            sock.close()
            return False
        sock.settimeout(0.2)
        atexit.register(sock.close)
        self._sock = sock
        self.leading.set()
        log.info("projecting this instance's events into %s", self.target.describe())
        return True

    def _serve(self) -> None:
        last_sweep = 0.0
        pending: set[str] = set()
        backoff = 0.0
        while not self._halt.is_set():
            pending |= self._receive()
            if backoff and time.monotonic() < backoff:
                continue
            try:
                projector = self._projector()
                if time.monotonic() - last_sweep > SWEEP_SECONDS:
                    projector.check_epoch()
                    projector.sweep()
                    last_sweep = time.monotonic()
                    pending.clear()
                for run_id in sorted(pending):
                    projector.project(run_id)
                pending.clear()
                backoff = 0.0
            except Exception as e:  # noqa: BLE001 - the projection must outlive any failure; the log keeps the truth
                self.projector = None
                backoff = time.monotonic() + 1.0
                if is_redis_down(e):
                    log.debug("Redis unavailable, events wait in the event log: %s", e)
                else:
                    log.warning("event projection failed, retrying in 1 s: %s", e, exc_info=True)

    def _receive(self) -> set[str]:
        runs: set[str] = set()
        sock = self._sock
        assert sock is not None
        try:
            runs.add(sock.recv(256).decode())
            sock.settimeout(0)
            while True:
                runs.add(sock.recv(256).decode())
        except (BlockingIOError, socket.timeout):
            pass
        except OSError:
            if sock.fileno() != -1:
                raise
            self._halt.set()  # closed at interpreter exit (atexit) or by stop(): nothing more will come
            return runs
        if sock.fileno() != -1:
            sock.settimeout(0.2)
        return runs

    def _projector(self) -> Projector:
        if self.projector is None:
            client = connect(self.target.url)
            client.ping()
            state = state_for(self.instance, self.target)
            self.projector = Projector(self.instance, state, RedisSink(client, self.target.prefix))
            self._announce(state)
            settle_heap()
        return self.projector

    def _announce(self, state: ProjectionState) -> None:
        """Name this target in the state, and warn (once each) about others projecting the same instance."""
        if state.get(f"target:{state.target}") != self.target.describe():
            state.put(f"target:{state.target}", self.target.describe())
        fresh = [d for d in state.other_targets(time.time() - OTHERS_WINDOW) if d not in self._others]
        self._others.update(fresh)
        others = [state.get(f"target:{digest}") or digest for digest in fresh]
        if others:
            log.warning("this instance's events are also projected elsewhere, by a process with another "
                        "REDIS_URL or PIPELINE_REDIS_PREFIX: %s (this one: %s)", "; ".join(others),
                        self.target.describe())

    def stop(self, flush: bool = False) -> None:
        """Stop leading; with `flush`, publish what is pending first (bounded by a few seconds)."""
        self._halt.set()
        self.join(timeout=5)
        if flush and self._sock is not None:
            try:
                projector = self._projector()
                projector.sweep()
            except Exception as e:  # noqa: BLE001 - best effort at shutdown; the next leader catches up
                log.debug("final projection sweep skipped: %s", e)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.projector is not None:
            self.projector.state.dispose()
