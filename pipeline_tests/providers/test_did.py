"""D-ID presenter clips against a loopback talks API: create, poll, download; error status; 401; bounded wait."""

import json
import logging
import time
import traceback

import dagster as dg
import pytest

from pipeline.providers.did import DidAvatar
from pipeline.providers.errors import PermanentProviderError, ProviderError, TransientProviderError
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.providers.fake_did import CLIP_SECONDS, FakeDid
from pipeline_tests.render.media import ffprobe

POLL = 0.05
KEY_VARIABLE = "PIPELINE_TEST_DID_KEY"


@pytest.fixture
def did_api():
    server = FakeDid(KEY).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def _avatar(server: FakeDid, tmp_path, key=KEY, **changes) -> DidAvatar:
    settings = {"poll_interval": POLL, "max_wait": 5.0, "response_cache": False, **FAST, **changes}
    return DidAvatar(base_url=server.url, api_key=key, data_dir=str(tmp_path / "data"), **settings)


def _fails(call, expected: type[ProviderError]) -> ProviderError:
    with pytest.raises(expected) as caught:
        call()
    assert KEY not in "".join(traceback.format_exception(caught.value))
    return caught.value


def test_talk_is_created_polled_until_done_and_downloaded(did_api, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    did_api.fail("GET", "/talks/", fakes.unavailable())  # the first poll meets a 503: the client retries it
    out = tmp_path / "intro.mp4"
    started = time.monotonic()
    result = _avatar(did_api, tmp_path).make_clip("Welcome to the clockmaker's town.", "en", out)
    assert time.monotonic() - started >= did_api.polls_before_done * POLL
    assert result.seconds == CLIP_SECONDS
    info = ffprobe(out)
    codecs = sorted(s["codec_name"] for s in info["streams"])
    assert codecs == ["aac", "h264"] and abs(float(info["format"]["duration"]) - CLIP_SECONDS) < 0.1
    (create,) = did_api.requests("POST", "/talks")
    assert create.headers["authorization"] == f"Basic {KEY}"
    assert create.json()["script"] == {"type": "text", "input": "Welcome to the clockmaker's town.",
                                       "provider": {"type": "microsoft", "voice_id": "en-US-JennyNeural"}}
    assert create.json()["source_url"].startswith("https://")
    polls = did_api.requests("GET", "/talks/tlk_1")
    assert len(polls) == 1 + did_api.polls_before_done + 1  # the 503, the 'started' ones, 'done'
    (download,) = did_api.requests("GET", "/results/")
    assert "authorization" not in download.headers  # the key never goes to the storage host
    assert not list(tmp_path.glob("*.talk.json"))
    assert KEY not in caplog.text


def test_error_status_fails_for_good_and_is_not_polled_again(did_api, tmp_path):
    avatar = _avatar(did_api, tmp_path)
    out = tmp_path / "intro.mp4"
    error = _fails(lambda: avatar.make_clip("FACELESS presenter", "en", out), PermanentProviderError)
    assert str(error).startswith("d-id avatar: talk tlk_1 failed: FaceError: Failed to detect a face")
    assert "PIPELINE_AVATAR_IMAGE_URL" in str(error)
    assert not out.exists() and not list(tmp_path.glob("*.talk.json"))


def test_rejected_key_fails_at_once_naming_the_variable(did_api, tmp_path):
    avatar = _avatar(did_api, tmp_path, key="sk-wrong-key-1234")
    error = _fails(lambda: avatar.make_clip("Hello.", "en", tmp_path / "x.mp4"), PermanentProviderError)
    assert "401 Unauthorized: the API key was rejected" in str(error) and "DID_API_KEY" in str(error)
    assert "sk-wrong-key-1234" not in str(error)
    assert len(did_api.seen) == 1  # a permanent error is not retried


def test_wait_is_bounded_and_a_retry_resumes_the_same_talk(did_api, tmp_path):
    did_api.polls_before_done = 10**6
    out = tmp_path / "outro.mp4"
    started = time.monotonic()
    error = _fails(lambda: _avatar(did_api, tmp_path, max_wait=0.4).make_clip("Goodbye.", "en", out),
                   TransientProviderError)
    assert time.monotonic() - started >= 0.4 - POLL
    assert "talk tlk_1 is still 'started' after 0.4 s" in str(error) and "PIPELINE_AVATAR_MAX_WAIT" in str(error)
    did_api.polls_before_done = 0
    _avatar(did_api, tmp_path).make_clip("Goodbye.", "en", out)  # as a step retry would
    assert out.exists() and len(did_api.requests("POST", "/talks")) == 1  # no second talk paid for


def test_presenter_asset_makes_intro_and_outro_once(did_api, data_dir, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    brief = small_brief("presenter-did", presenter={"outro": "Thanks for watching."})
    assert materialize(brief, data_dir, ["brief", "outline", "chapters", "script"]).success
    avatar = DidAvatar(base_url=did_api.url, api_key=dg.EnvVar(KEY_VARIABLE), poll_interval=POLL,
                       data_dir=str(data_dir), **FAST)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(brief, data_dir, ["presenter"], instance=instance, avatar_provider=avatar)
    assert result.success
    files = ProjectFiles(data_dir, brief.project_id)
    value = json.loads(files.path("presenter.json").read_text())
    script = json.loads(files.path("script.json").read_text())
    intro = next(s["text"] for s in script["segments"] if s["kind"] == "intro")
    said = [r.json()["script"]["input"] for r in did_api.requests("POST", "/talks")]
    assert sorted(said) == sorted([intro, "Thanks for watching."])
    assert value["intro"].startswith("presenter/items/") and value["intro"].endswith(".mp4")
    assert all(files.path(value[p]).stat().st_size > 1000 for p in ("intro", "outro"))
    assert value["seconds"] == pytest.approx(2 * CLIP_SECONDS, abs=0.1)
    metadata = result.asset_materializations_for_node("presenter")[0].metadata
    assert metadata["made"].value == 2 and metadata["avatar_seconds"].value == pytest.approx(2 * CLIP_SECONDS, abs=0.1)
    for record in instance.all_logs(result.run_id):
        assert KEY not in dg.serialize_value(record)
    again = materialize(brief, data_dir, ["presenter"], avatar_provider=avatar)
    assert again.success and len(did_api.requests("POST", "/talks")) == 2  # reused, not made again
    assert again.asset_materializations_for_node("presenter")[0].metadata["reused"].value == 2


def test_intro_and_outro_clips_are_made_at_the_same_time(data_dir, monkeypatch):
    """A hosted renderer takes its time per clip: the two clips wait together, not one after the other."""
    server = FakeDid(KEY, seconds_to_done=1.5).start()
    try:
        monkeypatch.setenv(KEY_VARIABLE, KEY)
        brief = small_brief("presenter-together", presenter={"outro": "Thanks for watching."})
        assert materialize(brief, data_dir, ["brief", "outline", "chapters", "script"]).success
        avatar = DidAvatar(base_url=server.url, api_key=dg.EnvVar(KEY_VARIABLE), poll_interval=POLL,
                           data_dir=str(data_dir), **FAST)
        assert materialize(brief, data_dir, ["presenter"], avatar_provider=avatar).success
        talks = list(server.talks.values())
        assert len(talks) == 2
        assert max(t["created"] for t in talks) < min(t["done"] for t in talks), "the second clip waited for the first"
    finally:
        server.stop()
    assert not server.errors, server.errors


def test_video_places_presenter_clips_before_and_after(did_api, data_dir, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    brief = small_brief("presenter-video")
    avatar = DidAvatar(base_url=did_api.url, api_key=dg.EnvVar(KEY_VARIABLE), poll_interval=POLL,
                       data_dir=str(data_dir), **FAST)
    result = materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "narration", "images",
                                           "presenter", "video"], avatar_provider=avatar)
    assert result.success
    files = ProjectFiles(data_dir, brief.project_id)
    narration = json.loads(files.path("narration.json").read_text())
    presenter = json.loads(files.path("presenter.json").read_text())
    info = ffprobe(files.path("video.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    expected = narration["duration"] + presenter["seconds"]
    assert abs(float(info["format"]["duration"]) - expected) <= 0.02 * expected
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1920, 1080, "30/1")
    first_cue = files.path("video.srt").read_text().split("\n")[1]
    assert first_cue.startswith("00:00:01"), "subtitles start after the intro clip"
    check = [e for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
             and e.event_specific_data.check_name == "video_duration_matches_narration"]
    assert check and check[0].event_specific_data.passed
