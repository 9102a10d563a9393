"""Each failure's code, stage, retryability and hint read back from every surface: the step's Dagster
metadata, the task_failed entry, job_result, batch_progress and what `pipeline status` prints."""

import json

import dagster as dg
import pytest

from pipeline.cli.projects import failure_cause
from pipeline.defs.ops.jobs import run_config
from pipeline.defs.resources import build_resources
from pipeline.providers.openai_compat import OpenAIText
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import all_assets
from pipeline_tests.defs.test_failures import AlwaysBadScript
from pipeline_tests.events.streams import client, final_entry, key, wait_for
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY

UP_TO_SCRIPT = ["brief", "outline", "chapters", "script"]


@pytest.fixture
def env_data(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return data_dir


def _brief_invalid(brief, data_dir, server):
    config = {"ops": {"brief": {"config": {**run_config(brief)["ops"]["brief"]["config"], "prompt": " "}}}}
    return ["brief"], config, {}


def _script_invalid(brief, data_dir, server):
    return UP_TO_SCRIPT, run_config(brief), {"text_provider": AlwaysBadScript()}


def _text_auth(brief, data_dir, server):
    wrong = OpenAIText(base_url=f"{server.url}/v1", api_key="sk-wrong-key", data_dir=str(data_dir), **FAST)
    return ["brief", "outline"], run_config(brief), {"text_provider": wrong}


CASES = [("BRIEF_INVALID", "brief", False, _brief_invalid), ("SCRIPT_INVALID", "script", False, _script_invalid),
         ("TEXT_AUTH", "outline", False, _text_auth)]


@pytest.mark.parametrize("code,stage,retryable,provoke", CASES, ids=[c[0] for c in CASES])
def test_a_failure_reads_the_same_on_every_surface(code, stage, retryable, provoke, redis_server, instance,
                                                   env_data):
    server = fakes.openai_server(key=KEY).start()
    try:
        brief = small_brief(f"surf-{code.lower().replace('_', '-')}")
        instance.add_dynamic_partitions("projects", [brief.project_id])
        selection, config, overrides = provoke(brief, env_data, server)
        resources = {**build_resources(env_data), **overrides}
        result = dg.materialize(all_assets(), selection=selection, instance=instance, partition_key=brief.project_id,
                                run_config=config, resources=resources, raise_on_error=False,
                                tags={"pipeline/batch": f"b-{brief.project_id}"})
    finally:
        server.stop()
    assert not result.success
    failed = next(e for e in result.all_events if e.is_step_failure)
    metadata = {k: getattr(v, "value", v) for k, v in failed.step_failure_data.user_failure_data.metadata.items()}
    assert (failed.step_key, metadata["error_code"], metadata["retryable"]) == (stage, code, retryable)
    assert metadata["hint"]

    r = client()
    entry = final_entry(r, brief.project_id, result.run_id)
    assert (entry["type"], entry["error_code"], entry["stage"], entry["retryable"]) == (
        "task_failed", code, stage, "true" if retryable else "false")
    assert entry["hint"] == metadata["hint"]
    job = wait_for(lambda: json.loads(r.get(key(f"job_result:{result.run_id}")) or "null"), 10, "job_result")
    assert job["status"] == "failed"
    assert {k: job["error"][k] for k in ("error_code", "stage", "retryable", "hint")} == {
        "error_code": code, "stage": stage, "retryable": retryable, "hint": metadata["hint"]}
    batch = wait_for(lambda: json.loads(r.get(key(f"batch_progress:b-{brief.project_id}")) or "null"), 10, "batch")
    assert [(x["status"], x["error_code"]) for x in batch["results"]] == [("failed", code)]
    shown = failure_cause(brief.project_id, result.run_id)
    assert shown.startswith(f"[{code}]") and metadata["hint"][:40] in shown
