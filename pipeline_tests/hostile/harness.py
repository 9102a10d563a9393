"""What every hostile-input case checks: one clear message, nothing created, nothing outside touched."""

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(*argv: str) -> Outcome:
    """`pipeline ARGV` in this process: its exit code and output; an escaping exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse refusing an argument
            code = int(e.code or 0)
    return Outcome(code, out.getvalue(), err.getvalue())


def tree(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every entry under `roots` with its size and mtime: a snapshot to prove nothing changed."""
    found: dict[str, tuple[int, int]] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(folder) / name
                info = path.lstat()
                found[str(path)] = (info.st_size if not path.is_dir() else 0, info.st_mtime_ns)
    return found


def assert_one_clear_message(outcome: Outcome, *words: str) -> None:
    """Refused with a short message (naming `words`) and no traceback."""
    text = outcome.out + outcome.err
    assert outcome.code != 0, text
    assert "Traceback" not in text, text
    assert len(outcome.err.strip().splitlines()) <= 12, text
    for word in words:
        assert word.lower() in text.lower(), (word, text)
