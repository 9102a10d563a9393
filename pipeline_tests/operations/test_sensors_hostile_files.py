"""The inbox and recurring sensors judge each file on its own: a bad file is refused, the rest go on."""

import json
import os
import stat
import time

import dagster as dg
import pytest
import yaml

from pipeline.brief import BriefError
from pipeline.defs.ops.sensors import inbox_sensor, recurring_sensor
from pipeline_tests.operations.sensor_ticks import create_runs, tick

GOOD = {"prompt": "Tides for children.", "chapters": 1, "stop_at": "outline"}


@pytest.fixture
def inbox(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    folder = data_dir / "inbox"
    folder.mkdir()
    return folder


def _brief(path, project_id, **extra):
    path.write_text(yaml.safe_dump(dict(GOOD, project_id=project_id, **extra)))


def _reasons(folder, name) -> str:
    return (folder / f"{name}.reasons.txt").read_text()


def _warnings(capsys) -> list[str]:
    """The sensor's warnings since the last call (Dagster's log manager writes them to stderr)."""
    text = capsys.readouterr().err
    return [block for block in text.split(" - dagster - ")[1:] if block.startswith("WARNING")]


def _atime_is_kept(folder) -> bool:
    """Whether reading a file on this file system updates its access time (relatime does for old ones)."""
    probe = folder / "probe"
    probe.write_text("x")
    os.utime(probe, (time.time() - 30 * 86400, time.time()))
    before = os.stat(probe).st_atime_ns
    probe.read_text()
    return os.stat(probe).st_atime_ns != before


def test_one_bad_file_never_stops_the_others(inbox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.yaml"
    _brief(secret, "secret-project", title="SECRET-CONTENT")
    os.utime(secret, (time.time() - 30 * 86400, time.time() - 30 * 86400))
    secret_before = os.stat(secret)
    _brief(inbox / "a-good.yaml", "hostile-one")
    (inbox / "b-scalar.yaml").write_text("hello\n")
    (inbox / "c-latin1.yaml").write_bytes(b"project_id: caf\xe9\nprompt: \xff\xfe\n")
    (inbox / "d-link.yaml").symlink_to(secret)
    os.mkfifo(inbox / "e-pipe.yaml")
    (inbox / "f-list.yaml").write_text("- one\n- two\n")
    _brief(inbox / "g-good.yaml", "hostile-two")
    instance = dg.DagsterInstance.ephemeral()

    first = tick(inbox_sensor, instance)

    requests = {r.partition_key: r for r in first.run_requests}
    assert set(requests) == {"hostile-one", "hostile-two"}, "both valid briefs are requested in the same tick"
    assert set(first.dynamic_partitions_requests[0].partition_keys) == {"hostile-one", "hostile-two"}
    rejected = inbox / "rejected"
    assert sorted(p.name for p in rejected.iterdir() if not p.name.endswith(".reasons.txt")) == [
        "b-scalar.yaml", "c-latin1.yaml", "d-link.yaml", "e-pipe.yaml", "f-list.yaml"]
    for name in ("b-scalar.yaml", "c-latin1.yaml", "f-list.yaml"):
        assert _reasons(rejected, name).strip(), f"{name} has its reasons beside it"
    assert "mapping" in _reasons(rejected, "b-scalar.yaml") and "mapping" in _reasons(rejected, "f-list.yaml")
    assert "symbolic link" in _reasons(rejected, "d-link.yaml")
    assert "FIFO" in _reasons(rejected, "e-pipe.yaml")
    # the link itself moved, still pointing at its target; the target was never read nor touched
    assert os.readlink(rejected / "d-link.yaml") == str(secret)
    assert stat.S_ISFIFO(os.lstat(rejected / "e-pipe.yaml").st_mode)
    assert "secret-project" not in requests
    assert not any("SECRET-CONTENT" in p.read_text() for p in rejected.glob("*.reasons.txt"))
    after = os.stat(secret)
    assert (after.st_mtime_ns, after.st_size) == (secret_before.st_mtime_ns, secret_before.st_size)
    if _atime_is_kept(tmp_path):
        assert after.st_atime_ns == secret_before.st_atime_ns, "the link's target was read"
    # the valid files wait in the inbox until their runs exist
    assert sorted(p.name for p in inbox.glob("*.yaml")) == ["a-good.yaml", "g-good.yaml"]
    assert not (inbox / "processed").exists()

    second = tick(inbox_sensor, instance, first.cursor)
    assert not second.run_requests, "a file is requested once, not on every tick"
    assert sorted(p.name for p in inbox.glob("*.yaml")) == ["a-good.yaml", "g-good.yaml"]

    create_runs(instance, first, "inbox_sensor")
    third = tick(inbox_sensor, instance, second.cursor)
    assert not third.run_requests
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a-good.yaml", "g-good.yaml"]
    assert not list(inbox.glob("*.yaml"))
    assert json.loads(third.cursor) == {"pending": {}}
    assert isinstance(tick(inbox_sensor, instance, third.cursor), dg.SkipReason)


def test_a_tick_that_died_loses_nothing(inbox):
    _brief(inbox / "brief.yaml", "after-crash")
    instance = dg.DagsterInstance.ephemeral()
    lost = tick(inbox_sensor, instance)  # its result never reached the daemon: no runs, no cursor
    again = tick(inbox_sensor, instance, None)
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in lost.run_requests], \
        "the file is still in the inbox and is requested again, under the same run key"
    create_runs(instance, again, "inbox_sensor")
    # the runs were created but the cursor was lost as well: the runs are found by their run key
    settled = tick(inbox_sensor, instance, None)
    assert not settled.run_requests
    assert (inbox / "processed" / "brief.yaml").exists()


def test_a_file_whose_runs_never_came_is_requested_again(inbox):
    _brief(inbox / "brief.yaml", "runs-lost")
    instance = dg.DagsterInstance.ephemeral()
    first = tick(inbox_sensor, instance)
    cursor = json.loads(first.cursor)
    cursor["pending"]["brief.yaml"]["since"] -= 3600
    again = tick(inbox_sensor, instance, json.dumps(cursor))
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in first.run_requests]
    assert (inbox / "brief.yaml").exists()


def test_an_edited_file_is_evaluated_again(inbox):
    path = inbox / "brief.yaml"
    _brief(path, "edited-one")
    instance = dg.DagsterInstance.ephemeral()
    first = tick(inbox_sensor, instance)
    _brief(path, "edited-two")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = tick(inbox_sensor, instance, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["edited-two"]


def test_two_files_for_one_project_in_one_tick(inbox):
    _brief(inbox / "a.yaml", "same-project")
    _brief(inbox / "b.yaml", "same-project")
    result = tick(inbox_sensor, dg.DagsterInstance.ephemeral())
    assert [r.partition_key for r in result.run_requests] == ["same-project"]
    assert "already requested by a.yaml" in _reasons(inbox / "rejected", "b.yaml")


def test_recurring_templates_are_judged_on_their_own(data_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    folder = data_dir / "recurring"
    folder.mkdir()
    brief = {"project_id": "weekly", "prompt": "This week in tides."}
    (folder / "a-bad-cron.yaml").write_text(yaml.safe_dump({"cron": "every monday", "brief": brief}))
    (folder / "b-list.yaml").write_text("- cron\n- brief\n")
    (folder / "c-brief-text.yaml").write_text(yaml.safe_dump({"cron": "* * * * *", "brief": "tides"}))
    (folder / "d-latin1.yaml").write_bytes(b"cron: '* * * * *'\nbrief: caf\xe9\n")
    outside = tmp_path / "template.yaml"
    outside.write_text(yaml.safe_dump({"cron": "* * * * *", "brief": dict(brief, project_id="linked")}))
    (folder / "e-link.yaml").symlink_to(outside)
    (folder / "z-good.yaml").write_text(yaml.safe_dump({"cron": "* * * * *", "brief": brief}))
    instance = dg.DagsterInstance.ephemeral()

    first = tick(recurring_sensor, instance)
    assert [r.partition_key.rsplit("-", 2)[0] for r in first.run_requests] == ["weekly"]
    warnings = _warnings(capsys)
    named = [("a-bad-cron.yaml", "cron"), ("b-list.yaml", "mapping"), ("c-brief-text.yaml", "brief"),
             ("d-latin1.yaml", ""), ("e-link.yaml", "symbolic link")]  # read_yaml words the UTF-8 problem
    for name, problem in named:
        assert any(name in w and problem in w for w in warnings), f"a warning names {name} and what is wrong"

    second = tick(recurring_sensor, instance, first.cursor)
    assert not second.run_requests, "the same period is not launched twice"
    assert not _warnings(capsys), "a problem is logged once, not on every tick"

    (folder / "a-bad-cron.yaml").write_text(yaml.safe_dump({"cron": "0 9 * * 1", "brief": dict(
        brief, project_id="monday")}))
    fixed = tick(recurring_sensor, instance, second.cursor)
    assert [r.partition_key.rsplit("-", 2)[0] for r in fixed.run_requests] == ["monday"]


def test_recurring_reads_the_cursor_of_the_previous_version(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    (data_dir / "recurring").mkdir()
    (data_dir / "recurring" / "weekly.yaml").write_text(yaml.safe_dump(
        {"cron": "0 9 * * 1", "brief": {"project_id": "weekly", "prompt": "This week in tides."}}))
    first = tick(recurring_sensor, dg.DagsterInstance.ephemeral())
    old_cursor = json.dumps(json.loads(first.cursor)["launched"])  # {template: period}, as before
    assert not tick(recurring_sensor, dg.DagsterInstance.ephemeral(), old_cursor).run_requests


@pytest.mark.parametrize(("template", "problem"), [
    ({"cron": "61 * * * *", "brief": {}}, "cron: '61 * * * *' is not a cron string"),
    ({"cron": 5, "brief": {}}, "cron: 5 is not a cron string"),
    ({"brief": {}}, "cron: None is not a cron string"),
    ({"cron": "0 0 31 4 *", "brief": {"prompt": "x"}}, "never fires"),
    ({"cron": "* * * * *", "brief": {}, "crom": 1}, "crom: unknown field"),
    ({"cron": "* * * * *", "brief": ["x"]}, "brief: must be a mapping"),
    ({"cron": "* * * * *", "brief": {"project_id": "x" * 60, "prompt": "x"}}, "at most 50 characters"),
    ({"cron": "* * * * *", "brief": {"project_id": "../up", "prompt": "x"}}, "brief.project_id '../up'"),
    ({"cron": "* * * * *", "brief": {"prompt": "x"}}, "the file name"),
    ("hello", "must be a mapping with cron and brief, got str"),
])
def test_template_problems_are_named(data_dir, monkeypatch, template, problem):
    from pipeline.defs.ops.sensors import _due

    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    path = data_dir / "Bad Name.yaml"
    path.write_text(yaml.safe_dump(template))
    with pytest.raises(BriefError, match="Bad Name.yaml") as raised:
        _due(path, os.lstat(path), time.time(), data_dir)
    assert problem in str(raised.value)
