"""The inbox and recurring sensors, the quota sync and the approval gate, without services."""

import json
import os
from datetime import datetime, timezone
from types import SimpleNamespace

import dagster as dg
import yaml

from pipeline.defs.ops import sensors
from pipeline.defs.ops.quota import publish_quotas, quota_records
from pipeline.defs.ops.sensors import inbox_sensor, recurring_sensor
from pipeline.usage import Usage
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.operations.sensor_ticks import create_runs, sensor_context


def test_inbox_launches_valid_briefs_and_rejects_the_rest(redis_server, data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    inbox = data_dir / "inbox"
    inbox.mkdir()
    good = {"prompt": "Tides for children.", "chapters": 1, "stop_at": "outline"}
    (inbox / "single.yaml").write_text(yaml.safe_dump(dict(good, project_id="inbox-one")))
    (inbox / "batch.yaml").write_text(yaml.safe_dump({"batch": "inbox-b", "projects": [
        dict(good, project_id="inbox-two"), {"project_id": "../bad", "prompt": ""}]}))
    (inbox / "broken.yaml").write_text("project_id: [unclosed\n")
    instance = dg.DagsterInstance.ephemeral()
    result = inbox_sensor(sensor_context(instance))
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {"inbox-one", "inbox-two"}
    assert requests["inbox-two"].tags["pipeline/batch"] == "inbox-b"
    assert "pipeline/batch" not in requests["inbox-one"].tags
    assert sorted(k.path[-1] for k in requests["inbox-one"].asset_selection) == ["brief", "outline"]
    assert set(result.dynamic_partitions_requests[0].partition_keys) == {"inbox-one", "inbox-two"}
    assert "not valid YAML" in (inbox / "rejected" / "broken.yaml.reasons.txt").read_text()
    record = json.loads(redis_client().get(f"{os.environ['PIPELINE_REDIS_PREFIX']}batch_progress:inbox-b"))
    assert (record["total"], record["rejected"], record["queued"]) == (2, 1, 1)
    # the launched files move to processed/ on a later tick, once the daemon has created their runs
    assert sorted(p.name for p in inbox.glob("*.yaml")) == ["batch.yaml", "single.yaml"]
    create_runs(instance, result, "inbox_sensor")
    later = inbox_sensor(sensor_context(instance, result.cursor))
    assert not later.run_requests
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["batch.yaml", "batch.yaml.reasons.txt",
                                                                      "single.yaml"]
    assert "project_id" in (inbox / "processed" / "batch.yaml.reasons.txt").read_text()
    assert inbox_sensor(sensor_context(instance, later.cursor)).__class__ is dg.SkipReason


def test_recurring_template_makes_one_project_per_period(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    (data_dir / "recurring").mkdir()
    (data_dir / "recurring" / "weekly.yaml").write_text(yaml.safe_dump(
        {"cron": "* * * * *", "brief": {"project_id": "weekly", "prompt": "This week in tides."}}))
    # the sensor's clock is pinned, so a minute boundary between the ticks can't start a new period
    clock = [datetime(2026, 12, 2, 1, 50, 5, tzinfo=timezone.utc).timestamp()]
    monkeypatch.setattr(sensors, "time", SimpleNamespace(time=lambda: clock[0]))
    context = sensor_context(dg.DagsterInstance.ephemeral())
    result = recurring_sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["weekly-20261202-0150"]
    clock[0] += 50
    again = recurring_sensor(sensor_context(dg.DagsterInstance.ephemeral(), result.cursor))
    assert not again.run_requests, "the same period is not launched twice"
    clock[0] += 10
    later = recurring_sensor(sensor_context(dg.DagsterInstance.ephemeral(), again.cursor))
    assert [r.partition_key for r in later.run_requests] == ["weekly-20261202-0151"]


def test_quota_records_and_warning(redis_server, monkeypatch):
    monkeypatch.setenv("PIPELINE_QUOTA_TEXT", "1000")
    monkeypatch.setenv("PIPELINE_QUOTA_IMAGES", "100")
    records = quota_records(Usage(tokens_in=600, tokens_out=350, images=10), datetime.now(timezone.utc))
    r = redis_client()
    prefix = os.environ["PIPELINE_REDIS_PREFIX"]
    assert publish_quotas(r, prefix, records) == 1
    text = json.loads(r.get(f"{prefix}quota:offline-text"))
    assert (text["used"], text["limit"], text["ratio"], text["unit"]) == (950, 1000, 0.95, "tokens")
    assert 0 < r.ttl(f"{prefix}quota:offline-text") <= 3600
    warnings = [f for _, f in r.xrange(f"{prefix}events") if f["type"] == "quota_warning"]
    assert len(warnings) == 1 and "offline-text: 95%" in warnings[0]["message"]


def test_publication_waits_for_approval(data_dir):
    brief = small_brief("needs-approval", publish={"require_approval": True})
    everything = ["brief", "outline", "chapters", "script", "narration", "images", "presenter", "video",
                  "thumbnail"]
    assert materialize(brief, data_dir, everything).success
    refused = materialize(brief, data_dir, ["publication"])
    assert not refused.success
    failure = next(e for e in refused.all_events if e.is_step_failure)
    assert "awaits approval" in failure.step_failure_data.error.message
    (data_dir / "projects" / brief.project_id / "approval.json").write_text('{"by": "editor"}')
    assert materialize(brief, data_dir, ["publication"]).success
