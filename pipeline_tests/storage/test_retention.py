"""Cache retention on both stores: entries not used for the duration go; projects' files, request slots,
young entries and whatever an unfinished project may need to resume stay; a bad duration removes nothing."""

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import pipeline.cli.cache as cache_cli
from pipeline.cli import main
from pipeline.objects.retention import (
    DurationError,
    cutoff_for,
    parse_duration,
    prune_objects,
    unfinished_since,
)
from pipeline.objects.s3 import ObjectStore
from pipeline.store import ProjectFiles

DAY = 86400


def _file(path: Path, age_days: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10)
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def no_runs(monkeypatch):
    """The webserver's answer: every project finished (tests set their own runs)."""
    runs: dict = {}
    monkeypatch.setattr(cache_cli, "project_runs", lambda client: runs)
    monkeypatch.setattr(cache_cli, "PipelineClient", lambda: None)
    return runs


@pytest.mark.parametrize("text", ["", "soon", "30", "d", "0d", "-1d", "1.5d", "30 days", "7y", "9999999d", "\udcff", "7d;rm -rf /"])
def test_a_bad_duration_is_refused_with_one_message_and_nothing_is_removed(text, data_dir, monkeypatch, capsys,
                                                                         no_runs):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    old = _file(data_dir / "cache" / "responses" / "openai-text" / "ab" / "old.bin", age_days=90)
    assert main(["cache", "prune", f"--older-than={text}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error [ARGUMENT_INVALID] --older-than"), err
    assert "e.g. 30d, 12h, 90m, 2w" in err
    assert old.exists()


def test_a_cache_folder_that_is_a_link_is_refused_and_nothing_is_removed(data_dir, tmp_path, monkeypatch, capsys,
                                                                         no_runs):
    """Prune proves what it removes is the data folder's own: a cache folder linked elsewhere (a mistake, or
    another disk) is refused with one message, the files behind the link untouched."""
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    elsewhere = tmp_path / "elsewhere"
    old = _file(elsewhere / "precious.doc", age_days=400)
    (data_dir / "cache").symlink_to(elsewhere)
    assert main(["cache", "prune", "--older-than", "1d"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error [SETTINGS_INVALID]") and "symbolic link" in err, err
    assert old.exists()
    # a link to a folder inside the cache is not followed: what it points at stays
    (data_dir / "cache").unlink()
    _file(data_dir / "cache" / "chunks" / "new.h264")
    (data_dir / "cache" / "chunks" / "out").symlink_to(elsewhere)
    os.utime(data_dir / "cache" / "chunks" / "out", (0, 0), follow_symlinks=False)
    assert main(["cache", "prune", "--older-than", "1d"]) == 0
    assert old.exists()


def test_durations():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration(" 12H ") == timedelta(hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    with pytest.raises(DurationError):
        parse_duration("1h30m")


def test_local_prune_removes_old_entries_only(data_dir, monkeypatch, capsys, no_runs):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    cache = data_dir / "cache"
    old = [_file(cache / "responses" / "openai-text" / "ab" / "old.bin", 40),
           _file(cache / "chunks" / "old.h264", 40), _file(cache / "chunks" / "old.m4a", 40)]
    young = [_file(cache / "responses" / "openai-text" / "cd" / "new.bin", 2), _file(cache / "chunks" / "new.h264", 1)]
    kept = [_file(cache / "slots" / "openai-text" / "0.lock", 400),  # request slots: locks, never pruned
            _file(data_dir / "projects" / "p" / "narration" / "items" / "k.wav", 400),
            _file(data_dir / "exports" / "p" / "video.mp4", 400), _file(data_dir / "sources" / "s.md", 400)]

    assert main(["cache", "prune", "--older-than", "30d", "--dry-run"]) == 0
    assert "would remove 3 cache entries" in capsys.readouterr().out
    assert all(p.exists() for p in old)

    assert main(["cache", "prune", "--older-than", "30d"]) == 0
    assert "removed 3 cache entries" in capsys.readouterr().out
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in young + kept)
    assert not (cache / "responses" / "openai-text" / "ab").exists()  # emptied folders go too


def test_an_unfinished_project_keeps_what_it_used_however_old(data_dir, monkeypatch, capsys, no_runs):
    """A project whose render failed 60 days ago still has its chunks (used then) when it is resumed."""
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    now = time.time()
    no_runs.update({"finished": [("SUCCESS", now - 100 * DAY)],
                    "stuck": [("FAILURE", now - 60 * DAY), ("FAILURE", now - 61 * DAY), ("SUCCESS", now - 300 * DAY)]})
    cache = data_dir / "cache" / "chunks"
    used_by_stuck = _file(cache / "used.h264", 60)
    before = _file(cache / "before.h264", 62)
    assert main(["cache", "prune", "--older-than", "30d"]) == 0
    out = capsys.readouterr().out
    assert "unfinished projects keep everything used since" in out
    assert used_by_stuck.exists() and not before.exists()

    no_runs["stuck"].insert(0, ("SUCCESS", now - 1 * DAY))  # it finished: its old entries may go now
    assert main(["cache", "prune", "--older-than", "30d"]) == 0
    assert not used_by_stuck.exists()


def test_a_cache_entry_in_use_is_young_again(data_dir):
    """Reuse counts as use: the renderer's `exists()` on a chunk it reuses refreshes it."""
    chunk = _file(ProjectFiles(data_dir, "p").cache_dir("chunks") / "k.h264", 90)
    assert (ProjectFiles(data_dir, "p").cache_dir("chunks") / "k.h264").exists()
    assert time.time() - chunk.stat().st_mtime < 60


def test_the_guard():
    now = datetime(2030, 1, 31, tzinfo=timezone.utc)
    assert unfinished_since({"a": [("SUCCESS", 1.0)], "b": []}) is None
    since = unfinished_since({"a": [("STARTED", 500.0), ("FAILURE", 400.0), ("SUCCESS", 300.0), ("FAILURE", 1.0)],
                              "b": [("CANCELED", 450.0)]})
    assert since == datetime.fromtimestamp(400.0, timezone.utc)
    assert cutoff_for(timedelta(days=30), None, now) == now - timedelta(days=30)
    old = now - timedelta(days=90)
    assert cutoff_for(timedelta(days=30), old, now) == old - timedelta(hours=2)


def test_s3_prune_removes_old_cache_objects_only(s3_server, s3_store, data_dir, monkeypatch, capsys, no_runs):
    client = s3_server.client()
    cache = ["team/a/cache/chunks/a.h264", "team/a/cache/responses/openai-text/ab/x.bin"]
    kept = ["team/a/cache/slots/openai-text/0.lock", "team/a/projects/p/narration/items/k.wav",
            "team/a/projects/p/cache/x.json", "team/a/exports/p/video.mp4", "team/a/sources/s.md",
            "team/b/cache/chunks/other-prefix.h264", "cache/chunks/no-prefix.h264"]
    for key in cache + kept:
        client.put_object(Bucket=s3_store, Key=key, Body=b"x")
    local = _file(data_dir / "cache" / "chunks" / "a.h264", 40)  # this host's copy

    assert main(["cache", "prune", "--older-than", "30d"]) == 0  # everything was just written: young
    assert "removed 0 cache entries" in capsys.readouterr().out
    assert set(s3_server.keys(s3_store)) == set(cache + kept) and not local.exists()

    # a day later than everything, with a one-hour retention: the cache objects go, nothing else
    later = datetime.now(timezone.utc) + timedelta(days=1)
    report = prune_objects(ObjectStore(), cutoff_for(timedelta(hours=1), None, later), None)
    assert report.removed == 2
    assert set(s3_server.keys(s3_store)) == set(kept)


def test_s3_reuse_refreshes_an_old_object(s3_server, s3_store, tmp_path, monkeypatch):
    import pipeline.objects.mirror as mirror

    monkeypatch.setattr(mirror, "REFRESH", timedelta(seconds=-1))  # every object counts as old
    s3_server.client().put_object(Bucket=s3_store, Key="team/a/cache/chunks/k.h264", Body=b"x")
    written = ObjectStore().head("cache/chunks/k.h264").modified
    time.sleep(1.1)
    folder = tmp_path / "host" / "data"
    assert (ProjectFiles(folder, "p").cache_dir("chunks") / "k.h264").exists()  # fetched, then refreshed
    assert ObjectStore().head("cache/chunks/k.h264").modified > written
