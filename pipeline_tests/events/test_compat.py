"""Schema version 3 of a stream entry, and the `task_type` of runs that carry no brief config."""

import json
import os
from pathlib import Path

import dagster as dg
import jsonschema

from pipeline.defs.ops.quota import publish_quotas
from pipeline.run import produce_project_job, run_locally
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.events.streams import client, entries, final_entry

SCHEMAS = Path(__file__).parents[2] / "pipeline/events/schema"


def _schema(version: int) -> dict:
    return json.loads((SCHEMAS / f"event-entry.v{version}.json").read_text())


def test_version_3_adds_task_type_and_duration_and_changes_no_v2_field():
    v2, v3 = _schema(2), _schema(3)
    assert v3["x-schema-version"] == 3 and v3["additionalProperties"] is False
    def rules(properties: dict) -> dict:  # a field's type and values, its description aside
        return {k: {r: v for r, v in p.items() if r != "description"} for k, p in properties.items()}

    assert {k: v for k, v in rules(v3["properties"]).items() if k in v2["properties"]} == rules(v2["properties"])
    assert set(v3["properties"]) - set(v2["properties"]) == {"task_type", "duration"}
    assert v3["required"] == [*v2["required"], "task_type"]


def test_a_run_without_brief_config_takes_its_task_type_from_the_projects_brief(redis_server, instance, data_dir,
                                                                                monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    brief = small_brief("compat-kind", kind="document", stop_at="outline")
    assert run_locally(brief, stop_at="outline", instance=instance).success
    # as `pipeline continue` launches: no brief config, the stored brief is read by the outline step
    result = dg.execute_job(dg.reconstructable(produce_project_job), instance=instance, run_config={},
                            tags={"dagster/partition": brief.project_id}, asset_selection=[dg.AssetKey("outline")])
    assert result.success
    final = final_entry(client(), brief.project_id, result.run_id)
    stream = entries(client(), brief.project_id, result.run_id)
    assert {e["task_type"] for e in stream} == {"document"} and float(final["duration"]) >= 0
    for entry in stream:
        jsonschema.validate(entry, _schema(3))


def test_a_quota_warning_is_a_v3_entry_of_task_type_quota(redis_server):
    r = client()
    record = {"provider": "openai-text", "unit": "tokens", "used": 95.0, "limit": 100.0, "ratio": 0.95,
              "updated_at": "2030-01-31T09:00:00Z"}
    assert publish_quotas(r, os.environ["PIPELINE_REDIS_PREFIX"], [record]) == 1
    [warning] = [f for _, f in r.xrange(f"{os.environ['PIPELINE_REDIS_PREFIX']}events")]
    assert warning["task_type"] == "quota"
    jsonschema.validate(warning, _schema(3))
