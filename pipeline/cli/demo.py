"""`pipeline demo`: one project produced on this machine, with one progress bar and the artifact table.

Dagster's log of the run (every event, DEBUG included) goes to a file under $DAGSTER_HOME/logs/,
whose path is printed; `--debug` shows it on the screen instead, as Dagster prints it.
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

import dagster as dg

from pipeline.brief import load_brief
from pipeline.cli.owners import add_owner_option, owner_of
from pipeline.events.entries import LEVELS, RunView, iso
from pipeline.stages import STAGES
from pipeline.store import ProjectFiles, default_data_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "novel-en.yaml"
POLL = 0.2  # seconds between reads of the run's event log
QUIET = "CRITICAL"  # Dagster's console log level under the bar: nothing the pipeline logs reaches it


def bar(percent: int, asset: str, item: tuple[int, int, str] | None = None, width: int = 24) -> str:
    """One line of progress: `[#####.....]  45%  narration  26 of 55 cues`."""
    percent = min(max(percent, 0), 100)
    filled = round(width * percent / 100)
    done = f"  {item[0]} of {item[1]} {item[2]}" if item else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%  {asset}{done}"


def log_line(record: dg.EventLogRecord) -> str:
    """A record of Dagster's event log as a line of the log file (and its error, when it carries one)."""
    entry = record.event_log_entry
    event = entry.dagster_event
    kind = event.event_type.name if event is not None else "LOG"
    text = entry.user_message or (event.message if event is not None else "") or ""
    line = f"{iso(entry.timestamp)} - {LEVELS.get(entry.level, entry.level)} - {entry.step_key or '-'} - {kind} - {text}"
    error = getattr(event.event_specific_data, "error", None) if event is not None else None
    if error is not None and hasattr(error, "to_string"):
        line += "\n" + error.to_string().rstrip()
    return line


class Watch:
    """While a run executes in this process: every event into the log file, and one progress bar on
    `screen` (redrawn in place on a terminal, one line per asset otherwise)."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, log_path: Path, screen: TextIO):
        self.instance, self.run_id, self.log_path, self.screen = instance, run_id, log_path, screen
        run = instance.get_run_by_id(run_id)
        assert run is not None
        self.view = RunView.for_run(run, instance)
        self.live = screen.isatty()
        self._cursor: str | None = None
        self._item: tuple[int, int, str] | None = None  # the current asset's "i of n" (done, total, unit)
        self._drawn: str | None = None  # the asset of the last line (without a terminal: one line per asset)
        self._line: str | None = None  # the line on the terminal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="demo-progress", daemon=True)

    def __enter__(self) -> "Watch":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.screen.write(f"Dagster's log of run {self.run_id}: {self.log_path}\n")
        self.screen.flush()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()  # what the run wrote after the last poll
        self._draw(final=True)
        self._log.close()

    def _loop(self) -> None:
        while not self._stop.wait(POLL):
            self._read()

    def _read(self) -> None:
        while True:
            found = self.instance.get_records_for_run(self.run_id, cursor=self._cursor, limit=500)
            for record in found.records:
                self._log.write(log_line(record) + "\n")
                self._apply(record)
            if found.records:
                self._cursor = found.cursor
            if not found.has_more:
                break
        self._log.flush()
        self._draw()

    def _apply(self, record: dg.EventLogRecord) -> None:
        before = self.view.current
        change = self.view.apply(record)
        if self.view.current != before:
            self._item = None
        entry = change.entry or {}
        if entry.get("dagster_event") == "ASSET_OBSERVATION" and entry.get("data"):
            data = json.loads(entry["data"])
            if "done" in data and "total" in data:
                self._item = (int(data["done"]), int(data["total"]), str(data.get("unit", "")))

    def _draw(self, final: bool = False) -> None:
        asset = self.view.current or "starting"
        line = bar(self.view.percent, asset, self._item)
        if final:
            ended = {"succeeded": "finished", "failed": f"failed in {asset}", "canceled": f"canceled in {asset}"}
            line = bar(self.view.percent, ended.get(self.view.status, asset))
        if self.live:
            if line != self._line or final:
                columns = shutil.get_terminal_size((100, 20)).columns
                self.screen.write("\r\x1b[2K" + line[: columns - 1] + ("\n" if final else ""))
        elif final or (asset != self._drawn and self.view.current is not None):
            self.screen.write(line + "\n")
        self._drawn, self._line = asset, line
        self.screen.flush()


@contextlib.contextmanager
def _screen():
    """The terminal as it is before the run: Dagster redirects this process's stdout into its
    captured logs while a run executes, and the bar must not go there."""
    sys.stdout.flush()
    try:
        fd = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (e.g. a test's StringIO): write to it as it is
        yield sys.stdout
        return
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as screen:
        yield screen


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.run import run_locally

    brief = load_brief(args.brief, default_data_dir())
    if args.verbose:
        brief = brief.model_copy(update={"verbose": True})
    owner = owner_of(args.owner, brief.owner)
    stop_at = args.stop_at or brief.stop_at
    print(f"Producing project {brief.project_id!r} from {args.brief} (data folder {default_data_dir()})")
    watches: list[Watch] = []
    started = time.monotonic()
    if args.debug:
        outcome = run_locally(brief, stop_at=stop_at, owner=owner)
    else:
        with _screen() as screen:
            def watch(instance: dg.DagsterInstance, run_id: str) -> Watch:
                path = Path(instance.root_directory) / "logs" / f"{brief.project_id}-{run_id}.log"
                watches.append(Watch(instance, run_id, path, screen))
                return watches[-1]

            outcome = run_locally(brief, stop_at=stop_at, owner=owner, console_level=QUIET, watch=watch)
    files = ProjectFiles(default_data_dir(), brief.project_id)
    print(f"\nRun {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILURE'} in "
          f"{time.monotonic() - started:.1f} s (owner {owner})")
    failure = watches[0].view.failure if watches else None
    if not outcome.success and failure is not None:
        text = failure.message.strip()[:2000]
        print(f"  [{failure.error_code}] {text}")
        if failure.hint and failure.hint not in text:
            print(f"  hint: {failure.hint}")
    made = [(name, files.path(path)) for name, path in outcome.artifacts.items() if files.path(path).exists()]
    if made:
        print(f"\n  {'artifact':<12} {'size':>9}  path")
        for name, path in made:
            print(f"  {name:<12} {_size(path):>9}  {files.location(files.rel(path))}")
    if watches:
        print(f"\nDagster's full log: {watches[0].log_path}")
    return 0 if outcome.success else 1


def add_command(commands) -> None:
    demo = commands.add_parser("demo", help="produce one project through every asset, on this machine")
    demo.add_argument("brief", nargs="?", default=str(EXAMPLE), help="brief YAML (default: %(default)s)")
    demo.add_argument("--stop-at", choices=STAGES, help="stop after this asset (wins over the brief's stop_at)")
    demo.add_argument("--debug", action="store_true",
                      help="show Dagster's log of the run on the screen (every event) instead of a progress bar")
    demo.add_argument("--verbose", action="store_true", help="log one line per provider call (the brief's verbose)")
    add_owner_option(demo)
    demo.set_defaults(run=cmd_demo)
