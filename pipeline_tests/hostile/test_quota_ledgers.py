"""One unreadable usage ledger never stops the hourly quota sync for every other project."""

import json
import os
from datetime import datetime, timezone

from pipeline.defs.ops.quota import month_usage
from pipeline.usage import LEDGER


def test_bad_ledgers_are_named_and_left_out(data_dir):
    projects = data_dir / "projects"
    for name, content in [("good", json.dumps({"totals": {"chapters": {"tokens_in": 100, "images": 2}}})),
                          ("truncated", '{"totals": {"chapters": {"tokens_in'), ("scalar", "7"),
                          ("wrong-type", json.dumps({"totals": {"x": {"tokens_in": "many"}}})),
                          ("latin1", None)]:
        (projects / name).mkdir(parents=True)
        if content is None:
            (projects / name / LEDGER).write_bytes(b"\xff\xfe{}")
        else:
            (projects / name / LEDGER).write_text(content, encoding="utf-8")
    (projects / "fifo").mkdir()
    os.mkfifo(projects / "fifo" / LEDGER)
    problems: list[str] = []
    usage = month_usage(datetime.now(timezone.utc), data_dir, problems)
    assert usage.tokens_in == 100 and usage.images == 2
    assert sorted(p.split("/projects/")[1].split("/")[0] for p in problems) == [
        "fifo", "latin1", "scalar", "truncated", "wrong-type"]
