"""Who launched what: every run carries `pipeline/owner`, whatever its route, and `pipeline list --owner
NAME --active` answers "what is running for me"."""

import getpass

import dagster as dg
import pytest
import yaml

from pipeline.brief import BriefError, parse_brief
from pipeline.cli.projects import launch_brief
from pipeline.defs.ops.jobs import run_config
from pipeline.launch.client import PipelineClient, ProjectBusyError
from pipeline.launch.owner import OwnerError, launching_user, os_user, route_owner
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.events.streams import wait_for
from pipeline_tests.hostile.harness import run_cli

OWNER = "pipeline/owner"


def test_the_cli_names_the_flag_else_pipeline_user_else_the_brief_else_the_os_user(monkeypatch):
    monkeypatch.delenv("PIPELINE_USER", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "zoe")
    assert launching_user() == "zoe"
    assert launching_user(brief_owner="bob") == "bob"
    monkeypatch.setenv("PIPELINE_USER", "dave")
    assert launching_user(brief_owner="bob") == "dave"
    assert launching_user("alice", "bob") == "alice"
    monkeypatch.setenv("PIPELINE_USER", "not a name")
    with pytest.raises(OwnerError, match="PIPELINE_USER: 'not a name' is not a name"):
        launching_user()
    monkeypatch.setattr(getpass, "getuser", lambda: "CORP\\Jo Smith")
    assert os_user() == "CORP_Jo_Smith"


@pytest.mark.parametrize("tags, config, owner", [
    ({}, {}, "ui"),
    ({}, {"ops": {"brief": {"config": {"prompt": "p", "owner": "bob"}}}}, "bob"),
    ({}, {"ops": {"brief": {"config": {"prompt": "p", "owner": "../evil"}}}}, "ui"),  # the brief step refuses it
    ({"dagster/sensor_name": "inbox_sensor"}, {"ops": {"brief": {"config": {"prompt": "p"}}}}, "sensor:inbox_sensor"),
    ({"dagster/sensor_name": "inbox_sensor"}, {"ops": {"brief": {"config": {"owner": "eve"}}}}, "eve"),
    ({"dagster/schedule_name": "quota_sync_schedule"}, {}, "schedule:quota_sync_schedule"),
])
def test_a_run_without_the_tag_gets_its_briefs_owner_else_its_routes_name(tags, config, owner):
    assert route_owner(tags, config) == owner


def test_a_brief_owner_must_be_a_name():
    assert parse_brief({"project_id": "p", "prompt": "x", "owner": "alice@example.com"}).owner == "alice@example.com"
    with pytest.raises(BriefError, match="owner: 'two words' is not a name"):
        parse_brief({"project_id": "p", "prompt": "x", "owner": "two words"})


def test_every_route_tags_its_owner_and_list_shows_the_active_runs_of_one(redis_server, services, data_dir,
                                                                          tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_USER", "dave")
    client = PipelineClient()
    # the inbox sensor (the daemon ticks it every 15 s): sensor:<name>
    (data_dir / "inbox").mkdir()
    (data_dir / "inbox" / "owner-inbox.yaml").write_text(yaml.safe_dump(
        small_brief("owner-inbox", stop_at="brief").model_dump(mode="json", exclude_none=True)))
    # the CLI: --owner wins, --verbose reaches the run config
    path = tmp_path / "tides.yaml"
    path.write_text(yaml.safe_dump(small_brief("owner-cli", stop_at="outline").model_dump(mode="json",
                                                                                          exclude_none=True)))
    submitted = run_cli("submit", str(path), "--owner", "alice", "--verbose", "--wait")
    assert submitted.code == 0, submitted.err
    [cli_run] = client.runs("owner-cli")
    assert cli_run["tags"][OWNER] == "alice" and "(owner alice)" in submitted.out
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(cli_run["runId"]).run_config["ops"]["brief"]["config"]["verbose"] is True
    # GraphQL without a tag (as the UI's Launchpad launches): ui, or the owner the run config names
    plain = client.launch("owner-ui", run_config(small_brief("owner-ui", stop_at="brief")), ["brief"])
    named = client.launch("owner-named", run_config(small_brief("owner-named", owner="bob")), ["brief"])
    assert client.run(plain)["tags"][OWNER] == "ui" and client.run(named)["tags"][OWNER] == "bob"

    # what is running for carol: her active run, nobody else's
    running = launch_brief(client, small_brief("owner-carol"), None, owner="carol")
    listed = run_cli("list", "--owner", "carol", "--active")
    assert listed.code == 0 and running in listed.out and "owner-carol" in listed.out, listed.out
    assert plain not in listed.out and cli_run["runId"] not in listed.out
    assert run_cli("list", "--owner", "alice", "--active").out.strip() == "no active runs of alice"
    assert running in run_cli("list", "--active").out
    with pytest.raises(ProjectBusyError):  # refused by the coordinator: tagged, so the UI shows who tried
        client.launch("owner-carol", run_config(small_brief("owner-carol")))
    [refused] = client.runs("owner-carol", include_refused=True, tags={"pipeline/refused": "true"})
    assert refused["tags"][OWNER] == "ui"
    client.terminate(running)
    assert client.wait(running, timeout=180)["status"] == "CANCELED"
    assert run_cli("list", "--owner", "carol", "--active").out.strip() == "no active runs of carol"
    assert running in run_cli("list", "--owner", "carol").out and "canceled" in run_cli("list", "--owner", "carol").out
    # every project's last run shows its owner
    overview = run_cli("list").out.splitlines()
    assert any(line.startswith("owner-cli ") and line.endswith(" alice") for line in overview), overview
    # the daemon creates the run, then submits it: the coordinator tags it then
    inbox = wait_for(lambda: [r for r in client.runs("owner-inbox") if r["status"] != "NOT_STARTED"], 120,
                     "the inbox sensor's run, submitted")
    assert inbox[0]["tags"][OWNER] == "sensor:inbox_sensor"
