"""The publication asset: local export contents, YouTube through Dagster without leaking secrets, schedule rules."""

import json
import logging
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from pipeline.brief import Brief
from pipeline.providers.youtube import YouTubePublisher
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.providers.fake_youtube import ACCESS, CLIENT_ID, REFRESH, SECRET, SECRETS, FakeYouTube
from pipeline_tests.publish.project import SCRIPT, made_project

EXPORTED = ["metadata.json", "thumbnail.jpg", "video.mp4", "video.srt", "video.vtt"]


def _failure(result: dg.ExecuteInProcessResult, step: str) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == step)
    return failure.step_failure_data.error.message


def test_local_export_holds_the_files_and_metadata(data_dir):
    brief = small_brief("export-local", publish={"privacy": "unlisted"})
    files = made_project(data_dir, brief)
    result = materialize(brief, data_dir, ["publication"])
    assert result.success
    folder = data_dir / "exports" / brief.project_id
    assert sorted(p.name for p in folder.iterdir()) == EXPORTED
    for name in EXPORTED[1:]:
        assert (folder / name).read_bytes() == files.path(name).read_bytes()
    assert json.loads((folder / "metadata.json").read_text()) == {
        "title": SCRIPT.title, "description": SCRIPT.description, "tags": SCRIPT.tags, "language": "en",
        "privacy": "unlisted", "publish_at": None, "synthetic_media": True, "format": "16:9", "size": "1920x1080",
        "vertical": False}
    value = json.loads(files.path("publication.json").read_text())
    assert value == {"publisher": "local", "url": folder.as_uri(), "folder": str(folder), "video_id": None,
                     "privacy": "unlisted", "publish_at": None,
                     "files": ["video.mp4", "thumbnail.jpg", "video.srt", "video.vtt", "metadata.json"]}
    metadata = result.asset_materializations_for_node("publication")[0].metadata
    assert metadata["folder"].value == str(folder) and metadata["synthetic_media"].value is True


def test_youtube_through_the_asset_keeps_every_secret_out(data_dir, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    api = FakeYouTube(CLIENT_ID, SECRET, REFRESH, ACCESS).start()
    try:
        for name, value in (("T_YT_ID", CLIENT_ID), ("T_YT_SECRET", SECRET), ("T_YT_REFRESH", REFRESH)):
            monkeypatch.setenv(name, value)
        when = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
        brief = small_brief("export-youtube", publish={"publish_at": when.isoformat(), "require_approval": True})
        files = made_project(data_dir, brief)
        files.path("approval.json").write_text('{"by": "editor"}')  # what `pipeline approve` records
        youtube = YouTubePublisher(client_id=dg.EnvVar("T_YT_ID"), client_secret=dg.EnvVar("T_YT_SECRET"),
                                   refresh_token=dg.EnvVar("T_YT_REFRESH"), token_url=f"{api.url}/token",
                                   upload_base_url=api.url, chunk_size=256 * 1024, backoff_base=0.05, timeout=2.0,
                                   data_dir=str(data_dir))
        instance = dg.DagsterInstance.ephemeral()
        result = materialize(brief, data_dir, ["publication"], instance=instance, publisher=youtube)
        assert result.success
    finally:
        api.stop()
    value = json.loads(files.path("publication.json").read_text())
    assert (value["publisher"], value["video_id"], value["privacy"]) == ("youtube", "vid1", "private")
    assert value["url"] == "https://www.youtube.com/watch?v=vid1"
    assert datetime.fromisoformat(value["publish_at"]) == when
    status = api.requests("POST", "/upload/youtube/v3/videos")[0].json()["status"]
    assert status["publishAt"] == when.isoformat() and status["containsSyntheticMedia"] is True
    assert bytes(api.sessions["s1"]["data"]) == files.path("video.mp4").read_bytes()
    metadata = result.asset_materializations_for_node("publication")[0].metadata
    assert metadata["video_id"].value == "vid1" and metadata["require_approval"].value is True
    logged = "".join(dg.serialize_value(r) for r in instance.all_logs(result.run_id))
    for secret in SECRETS:
        assert secret not in logged and secret not in caplog.text


def test_a_schedule_that_has_passed_fails_without_retry(data_dir):
    stored = small_brief("export-late").model_dump(mode="json")
    stored["publish"] = {"publish_at": "2024-01-01T09:00:00+00:00"}  # valid when submitted, past now
    brief = Brief.model_validate(stored)
    made_project(data_dir, brief)
    result = materialize(brief, data_dir, ["publication"])
    assert not result.success
    assert "publish.publish_at (2024-01-01T09:00:00+00:00) has passed" in _failure(result, "publication")
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)
    assert not (data_dir / "exports" / brief.project_id).exists()


@pytest.mark.parametrize(("publish", "message"), [
    ({"privacy": "secret"}, "publish.privacy: Input should be 'public', 'unlisted' or 'private'"),
    ({"publish_at": "2020-01-01T00:00:00Z"}, "publish.publish_at: 2020-01-01T00:00:00+00:00 is not in the future"),
    ({"publish_at": "2090-01-01T09:00:00"}, "publish.publish_at: 2090-01-01T09:00:00 has no timezone"),
    ({"publish_at": 1893456000}, "publish.publish_at: must be an ISO 8601 date and time with a timezone"),
    ({"publish_at": "2090-01-01T09:00:00Z", "privacy": "public"},
     "publish: a scheduled video (publish_at) must have privacy 'private', not 'public'"),
    ({"require_approval": "maybe"}, "publish.require_approval: Input should be a valid boolean"),
    ({"channel": "x"}, "publish.channel: unknown field"),
])
def test_publish_fields_are_validated(publish, message):
    from pipeline.brief import BriefError

    with pytest.raises(BriefError) as caught:
        small_brief("p", publish=publish)
    assert message in str(caught.value)
