"""Warm run workers: a run worker process started before its run, with Dagster and the code imported.

Dagster's default launcher asks the code server to spawn a fresh interpreter per run, which then
imports Dagster and the project and builds its repository (1.3-1.5 s of every run on this machine,
several seconds under load). The launcher keeps one such process ready instead: `python -m
pipeline.launch.warm MODULE...` imports the modules and builds their Definitions' repositories, then
waits on stdin for one line, the run's serialized `ExecuteRunArgs`, and runs it exactly as
`dagster api execute_run` does (same code path, same SIGINT cancel, same "Started process for run
(pid: N)" event run monitoring reads). One process runs one run and exits, as before.

A ready worker is used only while it is what a fresh one would be: the same interpreter, the run's
module among those it imported, and the code unchanged on disk since it started (a fingerprint of
the module's package files); otherwise, or when none is ready, the run goes to the code server as
usual. A worker whose launcher goes away reads end-of-file and exits without running anything.
"""

import hashlib
import importlib
import importlib.util
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MAX_AGE_SECONDS = 15 * 60  # a ready worker older than this is replaced, whatever the fingerprint says


def code_fingerprint(modules: tuple[str, ...]) -> str:
    """A digest of every .py file (path, size, mtime) of each module's top-level package."""
    digest = hashlib.sha256()
    for module in modules:
        spec = importlib.util.find_spec(module.split(".")[0])
        if spec is None or not spec.origin:
            digest.update(f"{module}: missing".encode())
            continue
        origin = Path(spec.origin)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for path in files:
            try:
                info = path.stat()
            except OSError:
                continue
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class ReadyWorker:
    process: subprocess.Popen
    fingerprint: str
    started: float

    def usable(self, modules: tuple[str, ...]) -> bool:
        return (self.process.poll() is None and time.monotonic() - self.started < MAX_AGE_SECONDS
                and code_fingerprint(modules) == self.fingerprint)

    def discard(self) -> None:
        """Stop a worker that was never handed a run (it may still be importing)."""
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            self.process.terminate()


class WarmPool:
    """At most one ready run worker for `modules`, started in the background after each use."""

    def __init__(self, modules: tuple[str, ...], cwd: str | None = None):
        self.modules = modules
        self.cwd = cwd
        self._ready: ReadyWorker | None = None
        self._lock = threading.Lock()
        self._starting = False
        self._closed = False

    def take(self) -> subprocess.Popen | None:
        """A ready worker that is what a fresh one would be, or None (the caller launches as usual)."""
        with self._lock:
            ready, self._ready = self._ready, None
        if ready is not None and not ready.usable(self.modules):
            ready.discard()
            ready = None
        self.refill()
        return ready.process if ready is not None else None

    def refill(self) -> None:
        with self._lock:
            if self._ready is not None or self._starting or self._closed:
                return
            self._starting = True
        threading.Thread(target=self._start, name="warm-run-worker", daemon=True).start()

    def _start(self) -> None:
        try:
            fingerprint = code_fingerprint(self.modules)  # taken before the import: a change after it is seen
            # its own session: a Ctrl-C in the daemon's terminal never cancels a run behind the user's back
            process = subprocess.Popen([sys.executable, "-m", __name__, *self.modules], stdin=subprocess.PIPE,
                                       cwd=self.cwd, text=True, start_new_session=True)
            threading.Thread(target=process.wait, name="warm-run-worker-reaper", daemon=True).start()
            with self._lock:
                ready = ReadyWorker(process, fingerprint, time.monotonic())
                if not self._closed:
                    self._ready, ready = ready, None
            if ready is not None:  # closed while it started
                ready.discard()
        finally:
            with self._lock:
                self._starting = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, None
        if ready is not None:
            ready.discard()


def hand_over(process: subprocess.Popen, serialized_args: str) -> None:
    """Give the ready worker its run: one line on its stdin, then end-of-file."""
    assert process.stdin is not None
    process.stdin.write(serialized_args.replace("\n", " ") + "\n")
    process.stdin.close()


def main(modules: list[str]) -> int:
    from dagster._cli.api import execute_run_command  # `dagster api execute_run` (a click command)

    import dagster as dg

    for module in modules:
        loaded = importlib.import_module(module)
        for value in list(vars(loaded).values()):  # build the repository now: Dagster caches it per Definitions
            if isinstance(value, dg.Definitions):
                value.get_repository_def().get_all_jobs()
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the launcher went away or discarded this worker: nothing to run
    execute_run_command.callback(input_json=line, compressed_input_json=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
