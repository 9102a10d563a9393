"""The S3 object store against a real S3 protocol server on loopback (moto_server): steps keep their files,
items, caches and ledger in the bucket; another host (an empty scratch folder) resumes from it; a killed
process loses only what it had not finished; delete removes the project's objects and nothing else."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.objects.mirror import merge_ledgers, mirror_at
from pipeline.objects.s3 import ObjectStore
from pipeline.objects.settings import SettingsError
from pipeline.store import ProjectFiles, atomic_write
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.providers.conftest import KEY
from pipeline_tests.providers.fakes import openai_server
from pipeline_tests.services import ROOT

BIN = Path(sys.executable).parent
PREFIX = "team/a"


def _upload_sources(s3_server, bucket: str, data_dir: Path) -> None:
    """The shared inputs in the bucket, as a deployment puts them there (the sources of the repository)."""
    client = s3_server.client()
    for path in (data_dir / "sources").rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"{PREFIX}/{path.relative_to(data_dir).as_posix()}")


def _new_host(tmp_path: Path, name: str, monkeypatch) -> Path:
    """An empty scratch folder: another machine, which has only what the bucket holds."""
    folder = tmp_path / name / "data"
    folder.mkdir(parents=True)
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(folder))
    return folder


def _values(result) -> list[str]:
    found = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            for entry in event.event_specific_data.materialization.metadata.values():
                found.append(str(getattr(entry, "value", entry)))
    return found


def test_steps_keep_their_files_in_the_bucket_and_another_host_reuses_every_item(s3_server, s3_store, data_dir,
                                                                                 tmp_path, monkeypatch):
    _upload_sources(s3_server, s3_store, data_dir)
    host_a = _new_host(tmp_path, "host-a", monkeypatch)
    brief = small_brief("s3-steps")
    selection = ["brief", "outline", "chapters", "manuscript", "script", "narration", "images"]
    CALLS.clear()
    result = materialize(brief, host_a, selection)
    assert result.success
    made = dict(CALLS)
    assert made["speech"] > 3 and made["images"] >= 3 and made["text:chapter"] == 2

    keys = s3_server.keys(s3_store)
    base = f"{PREFIX}/projects/s3-steps/"
    for name in ("brief.json", "outline.json", "chapters.json", "manuscript.md", "script.json", "narration.wav",
                 "narration.json", "images.json", "usage.json", "chapters/01.md"):
        assert base + name in keys, name
    assert sum(k.startswith(base + "narration/items/") for k in keys) >= made["speech"]
    assert sum(k.startswith(base + "images/items/") for k in keys) == made["images"]
    assert not [k for k in keys if "/." in k], "no temporary or lock file is ever stored"

    # metadata names s3:// URIs, never the scratch folder
    values = _values(result)
    assert not [v for v in values if str(host_a) in v]
    narration = result.asset_materializations_for_node("narration")[0].metadata
    assert narration["path"].value == f"s3://{s3_store}/{base}narration.wav"
    assert narration["stored"].value == f"s3://{s3_store}/{base}narration.json"
    assert result.asset_materializations_for_node("outline")[0].metadata["stored"].value.startswith("s3://")

    # another host, nothing on its disk: every finished item and output comes from the bucket
    host_b = _new_host(tmp_path, "host-b", monkeypatch)
    CALLS.clear()
    again = materialize(brief, host_b, ["chapters", "narration", "images"])
    assert again.success
    assert not +CALLS, dict(CALLS)
    chapters = again.asset_materializations_for_node("chapters")[0].metadata
    assert (chapters["generated"].value, chapters["reused"].value) == (0, 2)
    assert again.asset_materializations_for_node("narration")[0].metadata["spoken"].value == 0
    ledger = json.loads((host_b / "projects" / "s3-steps" / "usage.json").read_text())
    assert {"outline", "chapters", "script", "narration", "images"} <= set(ledger["assets"])


def test_a_step_reads_a_users_edit_made_in_the_bucket(s3_server, s3_store, data_dir, tmp_path, monkeypatch):
    _upload_sources(s3_server, s3_store, data_dir)
    host_a = _new_host(tmp_path, "host-a", monkeypatch)
    brief = small_brief("s3-edit")
    assert materialize(brief, host_a, ["brief", "outline", "chapters"]).success
    key = f"{PREFIX}/projects/s3-edit/chapters/01.md"
    s3_server.client().put_object(Bucket=s3_store, Key=key, Body="# Edited\n\nThe bell rang thirteen times.\n")
    host_b = _new_host(tmp_path, "host-b", monkeypatch)
    result = materialize(brief, host_b, ["manuscript"])
    assert result.success
    assert "thirteen times" in (host_b / "projects" / "s3-edit" / "manuscript.md").read_text()


def test_a_cache_entry_written_on_one_host_is_found_on_another(s3_server, s3_store, tmp_path, monkeypatch):
    host_a = _new_host(tmp_path, "host-a", monkeypatch)
    chunk = ProjectFiles(host_a, "p").cache_dir("chunks") / "abc.h264"
    atomic_write(chunk, b"\x00\x00\x01 a chunk")
    assert f"{PREFIX}/cache/chunks/abc.h264" in s3_server.keys(s3_store)
    host_b = _new_host(tmp_path, "host-b", monkeypatch)
    there = ProjectFiles(host_b, "p").cache_dir("chunks")
    assert (there / "abc.h264").exists() and (there / "abc.h264").read_bytes() == b"\x00\x00\x01 a chunk"
    assert not (there / "missing.h264").exists()


def test_two_hosts_writing_one_ledger_lose_no_record(s3_server, s3_store, tmp_path, monkeypatch):
    """narration and images of one project on two hosts at once: the ledger is merged, never overwritten."""
    hosts = [_new_host(tmp_path, name, monkeypatch) for name in ("host-a", "host-b")]
    for n, (host, asset) in enumerate(zip(hosts, ("narration", "images"))):
        path = host / "projects" / "p" / "usage.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"assets": {asset: {f"k{n}": {"images": n + 1}}}}))
        mirror_at(host).push_file(path)
    stored = json.loads(ObjectStore().get_bytes("projects/p/usage.json")[0])
    assert set(stored["assets"]) == {"narration", "images"}
    assert (stored["totals"]["narration"]["images"], stored["totals"]["images"]["images"]) == (1, 2)
    merged = json.loads(merge_ledgers(b'{"assets": {"a": {"x": {"tokens_in": 1}}}}',
                                      b'{"assets": {"a": {"x": {"tokens_in": 9}, "y": {"tokens_in": 2}}}}'))
    assert merged["assets"]["a"] == {"x": {"tokens_in": 1}, "y": {"tokens_in": 2}}


def test_incomplete_settings_are_refused_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("PIPELINE_STORE", "s3")
    monkeypatch.delenv("PIPELINE_S3_BUCKET", raising=False)
    from pipeline.defs.resources import build_resources

    with pytest.raises(SettingsError, match="PIPELINE_S3_BUCKET"):
        build_resources()
    assert main(["cache", "prune", "--older-than", "30d"]) == 2
    assert "[SETTINGS_INVALID] PIPELINE_STORE=s3 needs PIPELINE_S3_BUCKET" in capsys.readouterr().err
    monkeypatch.setenv("PIPELINE_S3_BUCKET", "Not_A_Bucket")
    assert main(["cache", "prune", "--older-than", "30d"]) == 2
    assert "PIPELINE_S3_BUCKET='Not_A_Bucket' is not a bucket name" in capsys.readouterr().err
    monkeypatch.setenv("PIPELINE_S3_BUCKET", "fine-bucket")
    monkeypatch.setenv("PIPELINE_S3_PREFIX", "a/../b")
    assert main(["cache", "prune", "--older-than", "30d"]) == 2
    assert "PIPELINE_S3_PREFIX='a/../b'" in capsys.readouterr().err
    monkeypatch.setenv("PIPELINE_STORE", "gcs")
    assert main(["cache", "prune", "--older-than", "30d"]) == 2
    assert "PIPELINE_STORE='gcs' is not one of local, s3" in capsys.readouterr().err


# --- delete -----------------------------------------------------------------------------------------


class _Client:
    """The webserver as `pipeline delete` sees it: the project has one run and its partition."""

    def __init__(self, *args, **kwargs):
        pass

    def runs(self, project, **kwargs):
        return [{"runId": "r1", "tags": {"dagster/partition": project}}] if project == "alpha" else []

    def partitions(self):
        return ["alpha"]

    def delete_run(self, run_id):
        pass

    def delete_partition(self, project):
        pass


@pytest.fixture
def delete_env(monkeypatch):
    import pipeline.cli.delete as delete
    import pipeline.cli.projects as projects

    monkeypatch.setattr(delete, "PipelineClient", _Client)
    monkeypatch.setattr(projects, "refuse_if_active", lambda client, project: None)
    monkeypatch.setattr(delete, "_forget", lambda project, runs: 0)


def test_delete_removes_the_projects_objects_and_nothing_else(s3_server, s3_store, data_dir, delete_env, capsys):
    client = s3_server.client()
    own = [f"{PREFIX}/projects/alpha/outline.json", f"{PREFIX}/projects/alpha/narration/items/k.wav",
           f"{PREFIX}/exports/alpha/video.mp4"]
    foreign = [f"{PREFIX}/projects/alpha-2/outline.json", f"{PREFIX}/projects/alphabet/outline.json",
               f"{PREFIX}/projects/beta/alpha/outline.json", f"{PREFIX}/projects/alpha.json",
               f"{PREFIX}/exports/alpha-old/video.mp4", f"{PREFIX}/cache/chunks/alpha.h264",
               f"{PREFIX}/sources/alpha.md", f"{PREFIX}/notes.txt", "team/b/projects/alpha/outline.json",
               "projects/alpha/outline.json", "team/a-2/projects/alpha/outline.json"]
    for key in own + foreign:
        client.put_object(Bucket=s3_store, Key=key, Body=b"x")
    scratch = ProjectFiles(data_dir, "alpha").path("outline.json")
    atomic_write(scratch, "{}", upload=False)

    assert main(["delete", "alpha", "--yes"]) == 0
    assert "3 objects under s3://" in capsys.readouterr().out
    assert s3_server.keys(s3_store) == sorted(foreign)
    assert not scratch.exists()

    # a hostile id never reaches a key: refused before anything is listed or deleted
    for hostile in ("../a", "alpha/..", "beta/alpha", "*", "alpha/", "ALPHA", "al pha", "..", "projects/alpha"):
        assert main(["delete", hostile, "--yes"]) in (1, 2)
        assert s3_server.keys(s3_store) == sorted(foreign), hostile


# --- a killed process, then another host resumes ----------------------------------------------------


@pytest.fixture
def speech_api():
    server = openai_server(key=KEY, delay=0.4)
    server.start()
    yield server
    server.stop()


def _demo(tmp_path: Path, name: str, env: dict[str, str], brief_file: Path) -> tuple[subprocess.Popen, Path]:
    home = tmp_path / name / "home"
    data = tmp_path / name / "data"
    home.mkdir(parents=True)
    data.mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    full = {**os.environ, **env, "DAGSTER_HOME": str(home), "PIPELINE_DATA_DIR": str(data), "PIPELINE_EVENTS": "off"}
    full.pop("DAGSTER_POSTGRES_URL", None)
    log = open(tmp_path / f"{name}.log", "wb")
    proc = subprocess.Popen([str(BIN / "pipeline"), "demo", str(brief_file), "--stop-at", "narration"], env=full,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(ROOT))
    log.close()
    return proc, data


def test_a_killed_process_loses_only_unfinished_cues_and_another_host_resumes(s3_server, s3_store, data_dir,
                                                                              tmp_path, speech_api):
    _upload_sources(s3_server, s3_store, data_dir)
    brief = small_brief("s3-crash", prompt="The lamplighter of the s3 archive counts the lamps left unlit.")
    brief_file = tmp_path / "brief.yaml"
    brief_file.write_text(yaml.safe_dump(brief.model_dump(mode="json", exclude_none=True)))
    env = {**s3_server.env(s3_store, PREFIX), "PIPELINE_SPEECH_PROVIDER": "openai",
           "PIPELINE_SPEECH_BASE_URL": f"{speech_api.url}/v1", "PIPELINE_SPEECH_API_KEY": KEY,
           "PIPELINE_SPEECH_MAX_IN_FLIGHT": "1"}
    cues = f"{PREFIX}/projects/s3-crash/narration/items/"

    proc, _ = _demo(tmp_path, "host-a", env, brief_file)
    deadline = time.monotonic() + 180
    while sum(k.startswith(cues) for k in s3_server.keys(s3_store)) < 3:
        assert proc.poll() is None, (tmp_path / "host-a.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "three cues never reached the bucket"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # a power cut: nothing of the process runs after this
    proc.wait(timeout=30)
    finished = {k for k in s3_server.keys(s3_store) if k.startswith(cues)}
    assert not [k for k in s3_server.keys(s3_store) if "/." in k], "nothing half-written is stored"
    assert f"{PREFIX}/projects/s3-crash/narration.json" not in s3_server.keys(s3_store)
    asked_first = len(speech_api.seen)

    proc, data_b = _demo(tmp_path, "host-b", env, brief_file)  # another host: an empty scratch, a new instance
    assert proc.wait(timeout=300) == 0, (tmp_path / "host-b.log").read_text()[-3000:]
    out = (tmp_path / "host-b.log").read_text()
    asked = Counter(s.json()["input"] for s in list(speech_api.seen)[asked_first:] if s.path.endswith("/audio/speech"))
    narration = json.loads((data_b / "projects" / "s3-crash" / "narration.json").read_text())
    distinct = {c["audio"] for c in narration["cues"]}
    assert sum(asked.values()) == len(distinct) - len(finished), (asked, len(distinct), len(finished))
    assert all(n == 1 for n in asked.values())
    assert {f"{PREFIX}/projects/s3-crash/{a}" for a in distinct} <= set(s3_server.keys(s3_store))
    # the artifact table names the bucket, not the scratch folder
    rows = [line for line in out.splitlines() if line.startswith("  ") and " kB " in line or " MB " in line]
    assert rows and all(f"s3://{s3_store}/{PREFIX}/projects/s3-crash/" in row for row in rows), rows
    assert any(row.endswith("narration.wav") for row in rows)
