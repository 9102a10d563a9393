"""A listener of the older system, written only from what it was told (issue 14, point 1):

    on `progress:{project}` a JSON with `project_id`, `stage`, `progress` (0-100), `message`,
    `timestamp` and `error` on failure; on the streams, `task_type` and, on completion, a `duration`.

It reads raw Redis (keys may carry the namespace prefix); only the launch uses the project's code.
"""

import json
import os
import threading
import time
from datetime import datetime

import pytest
import redis

from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief

FINAL = ("task_completed", "task_failed", "task_canceled")


class OlderListener:
    """Subscribes to a project's progress channel and reads its stream, as the older listeners did."""

    def __init__(self, project: str):
        self.prefix = os.environ.get("PIPELINE_REDIS_PREFIX", "")
        self.project = project
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        self.pubsub = self.redis.pubsub()
        self.pubsub.subscribe(f"{self.prefix}progress:{project}")
        self.pubsub.get_message(timeout=5)  # the subscribe confirmation
        self.progress: list[dict] = []

    def listen(self, until: float) -> None:
        """Collect progress messages until one carries a final status, or `until`."""
        while time.monotonic() < until:
            message = self.pubsub.get_message(timeout=0.5)
            if message and message["type"] == "message":
                self.progress.append(json.loads(message["data"]))
                if self.progress[-1].get("status") in ("succeeded", "failed", "canceled"):
                    return

    def stream_until_final(self, stream: str, run_id: str, timeout: float = 60) -> list[dict]:
        """Entries of `stream` for the run, up to its first final entry."""
        deadline, last, found = time.monotonic() + timeout, "0", []
        while time.monotonic() < deadline:
            for _, items in self.redis.xread({f"{self.prefix}{stream}": last}, block=500) or []:
                for entry_id, fields in items:
                    last = entry_id
                    if fields.get("run_id") == run_id:
                        found.append(fields)
                        if fields["type"] in FINAL:
                            return found
        raise AssertionError(f"no final entry for run {run_id} on {stream} within {timeout} s")


def _launch_and_listen(brief, stop_at):
    listener = OlderListener(brief.project_id)
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(o=run_locally(brief, stop_at=stop_at)))
    runner.start()
    listener.listen(time.monotonic() + 120)
    runner.join(timeout=120)
    return listener, outcome["o"]


def _check_progress_messages(messages: list[dict], project: str) -> None:
    assert messages, "no progress message was published"
    for message in messages:
        assert message["project_id"] == project
        assert isinstance(message["stage"], str)
        assert isinstance(message["progress"], int) and 0 <= message["progress"] <= 100
        assert isinstance(message["message"], str)
        assert datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    assert [m["progress"] for m in messages] == sorted(m["progress"] for m in messages)
    assert {"outline"} <= {m["stage"] for m in messages}


@pytest.mark.usefixtures("redis_server", "instance")
def test_older_listener_reads_progress_task_type_and_duration_of_a_finished_run(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    brief = small_brief("older-listener-ok", stop_at="outline")
    listener, outcome = _launch_and_listen(brief, "outline")
    assert outcome.success
    _check_progress_messages(listener.progress, brief.project_id)
    assert listener.progress[-1]["progress"] == 100 and "error" not in listener.progress[-1]
    assert not any("error" in m for m in listener.progress)
    for stream in (f"events:{brief.project_id}", "events"):
        entries = listener.stream_until_final(stream, outcome.run_id)
        assert {e["task_type"] for e in entries} == {"novel"}, stream
        assert entries[-1]["type"] == "task_completed"
        assert 0 < float(entries[-1]["duration"]) < 120
        assert all("duration" not in e for e in entries[:-1])


@pytest.mark.usefixtures("redis_server", "instance")
def test_older_listener_reads_the_error_of_a_failed_run(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    brief = small_brief("older-listener-fail", kind="document", budget={"tokens": 1}, stop_at="outline")
    listener, outcome = _launch_and_listen(brief, "outline")
    assert not outcome.success
    _check_progress_messages(listener.progress, brief.project_id)
    last = listener.progress[-1]
    assert last["stage"] == "outline" and "budget.tokens" in last["error"]
    entries = listener.stream_until_final(f"events:{brief.project_id}", outcome.run_id)
    assert {e["task_type"] for e in entries} == {"document"}
    assert entries[-1]["type"] == "task_failed" and float(entries[-1]["duration"]) >= 0
