"""Hostile and careless commands against a real webserver and daemon: data is never lost, one bad
launch never stops the others, refusals are one line."""

import json

import dagster as dg
import pytest
import yaml

from pipeline.cli.projects import launch_brief
from pipeline.defs.ops.jobs import run_config
from pipeline.launch.client import ClientError, PipelineClient, ProjectBusyError
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.events.streams import final_entry, key, wait_for
from pipeline_tests.hostile.harness import assert_one_clear_message, run_cli, tree

BAD_IDS = ["..", ".", "", " ", "../outside", "a/..", "/etc", "con", "LPT1", "x" * 65, "a\x00b",
           "-rf", "UPPER", "ümlaut", "a b", "a\nb"]
# Run config that passes the brief's config schema, so what refuses a launch is the run coordinator.
A_BRIEF = {"ops": {"brief": {"config": {"prompt": "A lighthouse keeper's last night."}}}}
PROJECT_COMMANDS = [["status"], ["cancel"], ["resume"], ["continue", "--from", "chapters"], ["approve"],
                    ["events", "follow"], ["events", "resync"], ["logs"]]


@pytest.mark.parametrize("command", PROJECT_COMMANDS, ids=lambda c: "-".join(c))
def test_every_project_command_refuses_an_id_that_breaks_the_rule(command, data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PIPELINE_DAGSTER_URL", "http://127.0.0.1:9")  # nothing may be asked of a server
    before = tree(data_dir.parent)
    words = 2 if command[0] == "events" else 1
    for bad in BAD_IDS:
        outcome = run_cli(*command[:words], *command[words:], "--", bad)
        assert outcome.code == 2, (bad, outcome)
        assert_one_clear_message(outcome, "not a project id", "[PROJECT_ID_INVALID]")
        assert "cannot reach" not in outcome.err
    assert tree(data_dir.parent) == before


def test_delete_loses_nothing_on_bad_arguments_and_cleans_up_leftovers(redis_server, services, data_dir, tmp_path):
    client = PipelineClient()
    brief = small_brief("keep-me", stop_at="outline")
    run_id = launch_brief(client, brief, brief.stop_at)
    assert client.wait(run_id, timeout=120)["status"] == "SUCCESS"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep", encoding="utf-8")
    (data_dir / "evil").mkdir()
    (data_dir / "evil" / "keep.txt").write_text("keep", encoding="utf-8")
    (data_dir / "projects" / "a-link").symlink_to(outside, target_is_directory=True)
    before = tree(data_dir, outside)

    # Not project ids, unknown projects, a link, no confirmation: refused, and nothing changes.
    for bad in ["..", ".", "", " ", "../outside", "projects", "keep-me/..", "/", "con"]:
        outcome = run_cli("delete", "--yes", bad)
        assert_one_clear_message(outcome)
        assert tree(data_dir, outside) == before, bad
    assert_one_clear_message(run_cli("delete", "--yes", "no-such-project"), "no project")
    assert_one_clear_message(run_cli("delete", "--yes", "a-link"), "nothing was deleted")
    assert_one_clear_message(run_cli("delete", "keep-me"), "--yes")  # no terminal, no --yes
    assert tree(data_dir, outside) == before
    assert [r["runId"] for r in client.runs("keep-me")] == [run_id]

    # A GraphQL launch for a partition that is not a project id: a refused run, no step, no file.
    client.add_partition("../evil")
    with pytest.raises(ClientError) as refused:
        client.launch("../evil", A_BRIEF, ["brief"])
    assert "not a valid project id" in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.code == "PROJECT_ID_INVALID"
    with dg.DagsterInstance.get() as instance:
        leftovers = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "../evil"}))
        assert len(leftovers) == 1 and leftovers[0].tags.get("pipeline/refused") == "true"
        kinds = {r.event_log_entry.dagster_event.event_type for r in instance.get_records_for_run(
            leftovers[0].run_id).records if r.event_log_entry.dagster_event}
        assert dg.DagsterEventType.STEP_START not in kinds
    assert tree(data_dir, outside) == before
    listed = run_cli("list")
    assert "../evil" in listed.out and "not a valid project id" in listed.out and "keep-me" in listed.out

    # Such leftovers can still be removed: runs and partition only, never a file.
    cleaned = run_cli("delete", "--yes", "../evil")
    assert cleaned.code == 0, cleaned
    assert "../evil" not in client.partitions()
    assert client.runs("../evil", include_refused=True) == []
    assert tree(data_dir, outside) == before

    # The real project is deleted with --yes: its folder only.
    assert run_cli("delete", "--yes", "keep-me").code == 0
    assert not ProjectFiles(data_dir, "keep-me").root.exists()
    assert (outside / "precious.txt").exists() and (data_dir / "evil" / "keep.txt").exists()
    assert (data_dir / "projects" / "a-link").is_symlink()


def test_refused_launch_is_one_line_and_status_never_hides_the_last_run(redis_server, services, data_dir, tmp_path):
    client = PipelineClient()
    brief = small_brief("busy-one", stop_at="chapters")
    first = launch_brief(client, brief, brief.stop_at)
    path = tmp_path / "busy-one.yaml"
    path.write_text(yaml.safe_dump({"project_id": "busy-one", "kind": "novel", "chapters": 2, "chapter_words": 120,
                                    "prompt": "A lighthouse keeper's last night.", "video": SHORT_VIDEO}),
                    encoding="utf-8")
    with pytest.raises(ProjectBusyError) as busy:  # past the client's check: the coordinator refuses
        client.launch(brief.project_id, run_config(brief), ["brief"])
    assert busy.value.run_id == first and "\n" not in str(busy.value)
    submitted = run_cli("submit", str(path))
    assert submitted.code == 3, submitted
    assert submitted.err.strip().count("\n") == 0 and first in submitted.err and "{" not in submitted.err
    assert "[PROJECT_BUSY]" in submitted.err
    assert client.wait(first, timeout=180)["status"] == "SUCCESS"

    status = run_cli("status", "busy-one")
    assert status.code == 0 and f"last run {first} success" in status.out, status
    assert f"{first}" in run_cli("list").out
    progress = json.loads(redis_client().get(key("generation_progress:busy-one")))
    assert progress["run_id"] == first, "a refused launch never shows in the project's progress"


def test_graphql_launches_with_generated_bad_partitions_and_config_create_nothing_that_runs(
        redis_server, services, data_dir, tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pipeline.ids import is_project_id

    client = PipelineClient()
    before = tree(data_dir)

    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.text(alphabet="ab./\\-_ \x01Xé", min_size=1, max_size=12).filter(lambda k: not is_project_id(k)))
    def launch_bad_partition(key):
        with pytest.raises(ClientError) as refused:
            client.launch(key, A_BRIEF, ["brief"])
        assert "not a valid project id" in str(refused.value) and "Traceback" not in str(refused.value)

    launch_bad_partition()
    # A brief that is not a mapping of fields: Dagster's own config check refuses it, no run is created.
    for config in ({"ops": {"brief": {"config": "a string"}}}, {"ops": {"brief": {"config": [1, 2]}}},
                   {"nonsense": True}):
        with pytest.raises(ClientError) as refused:
            client.launch("good-id", config, ["brief"])
        assert "\n" not in str(refused.value)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert all(r.tags.get("pipeline/refused") == "true" for r in runs), "only refused runs were created"
        for run in runs:
            kinds = {r.event_log_entry.dagster_event.event_type for r in instance.get_records_for_run(
                run.run_id).records if r.event_log_entry.dagster_event}
            assert dg.DagsterEventType.STEP_START not in kinds
    assert tree(data_dir) == before
    assert run_cli("list").code == 0

    # A mapping that breaks the brief's rules runs and fails at its first step; status says why, once.
    client.add_partition("bad-brief")
    failed = client.launch("bad-brief", {"ops": {"brief": {"config": {"prompt": ""}}}}, ["brief"])
    assert client.wait(failed, timeout=120)["status"] == "FAILURE"
    wait_for(lambda: final_entry(redis_client(), "bad-brief", failed), 30, "the failure in Redis")
    status = run_cli("status", "bad-brief")
    assert f"last run {failed} failure" in status.out and "prompt: String should have at least 1 character" in status.out
    assert "Exceeded max_retries" not in status.out
