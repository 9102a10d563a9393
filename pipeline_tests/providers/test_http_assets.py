"""Assets over the HTTP providers: the images 20 % rule with refusals, and a whole project on loopback."""

import json
import logging
import shutil

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.render.media import ffprobe

UP_TO_IMAGES = ["brief", "outline", "chapters", "script", "images"]
KEY_VARIABLE = "PIPELINE_TEST_PROVIDER_KEY"


def _http(cls, server: fakes.FakeServer, data_dir, **changes):
    """A provider on `server` whose key is a dg.EnvVar, as build_resources gives it."""
    return cls(base_url=f"{server.url}/v1", api_key=dg.EnvVar(KEY_VARIABLE), data_dir=str(data_dir),
               **{**FAST, **changes})


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, KEY)


def _six_segments(project: str):
    return small_brief(project, seed=0, video={"target_seconds": 60, "segment_min_seconds": 4,
                                               "segment_max_seconds": 10, "total_min_seconds": 40,
                                               "total_max_seconds": 90})


def _assert_no_key_in_run(instance: dg.DagsterInstance, run_id: str) -> None:
    records = instance.all_logs(run_id)
    assert records
    for record in records:
        assert KEY not in dg.serialize_value(record), record.user_message


def _flat_color(path, description) -> bool:
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return pixels.shape == (1080, 1920, 3) and bool((np.abs(pixels - fakes.color_of(description)).max() <= 2))


def test_refused_image_becomes_a_placeholder_under_twenty_percent(openai_api, data_dir, keyed):
    brief = _six_segments("http-partial")
    openai_api.push(fakes.refused())
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(brief, data_dir, UP_TO_IMAGES, instance=instance,
                         image_provider=_http(OpenAIImages, openai_api, data_dir))
    assert result.success
    metadata = result.asset_materializations_for_node("images")[0].metadata
    assert metadata["status"].value == "partial_success" and metadata["provider"].value == "openai:dall-e-3"
    errors = metadata["errors"].value
    assert len(errors) == 1 and "openai images: 400 Bad Request: refused by the provider's content policy" in \
        next(iter(errors.values()))
    files = ProjectFiles(data_dir, brief.project_id)
    script = json.loads(files.path("script.json").read_text())["segments"]
    images = json.loads(files.path("images.json").read_text())["images"]
    assert len(images) == len(script) >= 5 and openai_api.count("/images/generations") == len(script)
    for image, segment in zip(images, script):
        if image["status"] == "ok":
            assert _flat_color(files.path(image["path"]), segment["image_description"])
    assert [i["status"] for i in images].count("placeholder") == 1
    _assert_no_key_in_run(instance, result.run_id)


def test_mostly_refused_images_fail_without_step_retry(openai_api, data_dir, keyed):
    brief = _six_segments("http-refused")
    openai_api.push(*[fakes.refused()] * 50)
    result = materialize(brief, data_dir, UP_TO_IMAGES, image_provider=_http(OpenAIImages, openai_api, data_dir))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == "images")
    assert "failed (over 20%)" in failure.step_failure_data.error.message
    assert "content policy" in failure.step_failure_data.error.message
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)
    assert openai_api.count("/images/generations") == len(json.loads(
        ProjectFiles(data_dir, brief.project_id).path("script.json").read_text())["segments"])


@pytest.mark.e2e
def test_whole_project_over_the_loopback_api(openai_api, data_dir, keyed, caplog):
    caplog.set_level(logging.DEBUG)
    brief = small_brief("http-e2e", video={"target_seconds": 20, "segment_min_seconds": 4,
                                           "segment_max_seconds": 12, "total_min_seconds": 10,
                                           "total_max_seconds": 40})
    providers = {"text_provider": _http(OpenAIText, openai_api, data_dir),
                 "speech_provider": _http(OpenAISpeech, openai_api, data_dir),
                 "image_provider": _http(OpenAIImages, openai_api, data_dir)}
    openai_api.push(fakes.unavailable())  # the first call is retried by the client
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(brief, data_dir, instance=instance, **providers)
    assert result.success
    files = ProjectFiles(data_dir, brief.project_id)

    narration = json.loads(files.path("narration.json").read_text())
    info = ffprobe(files.path("video.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1920, 1080)
    assert abs(float(info["format"]["duration"]) - narration["duration"]) <= 0.02 * narration["duration"]
    assert narration["voice"] == "openai:gpt-4o-mini-tts:alloy"
    script = json.loads(files.path("script.json").read_text())
    images = json.loads(files.path("images.json").read_text())
    assert images["status"] == "success"
    assert all(_flat_color(files.path(i["path"]), s["image_description"])
               for i, s in zip(images["images"], script["segments"]))
    outline = json.loads(files.path("outline.json").read_text())
    assert outline["title"] == "The Backward Clock" and len(outline["chapters"]) == brief.chapters

    calls = {path: openai_api.count(path) for path in ("/chat/completions", "/audio/speech", "/images/generations")}
    # outline, a chapter and its memory per chapter, the script; plus the retried 503
    assert calls == {"/chat/completions": 1 + 2 * brief.chapters + 1 + 1,
                     "/audio/speech": len(narration["cues"]), "/images/generations": len(script["segments"])}
    assert all(s.headers["authorization"] == f"Bearer {KEY}" for s in openai_api.seen)  # the EnvVar resolved
    assert any("503 Service Unavailable" in r.getMessage() for r in caplog.records)
    assert KEY not in caplog.text
    _assert_no_key_in_run(instance, result.run_id)

    # The project's files are lost: a re-run rebuilds them from the response cache, paying for nothing.
    shutil.rmtree(files.root)
    again = materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "narration", "images"],
                        instance=instance, **providers)
    assert again.success
    assert {path: openai_api.count(path) for path in calls} == calls


def test_transport_retry_is_a_warning_in_the_runs_event_log(openai_api, data_dir, keyed, redis_server, instance):
    """On the project's instance (dagster.yaml's python_logs), a provider's retry reaches the run's own log."""
    import re

    from pipeline_tests.events.streams import client, final_entry
    from pipeline_tests.events.streams import key as redis_key

    brief = small_brief("http-retry-log")
    openai_api.push(fakes.unavailable())  # the outline's first request: 503, then answered
    result = materialize(brief, data_dir, ["brief", "outline"], instance=instance,
                         text_provider=_http(OpenAIText, openai_api, data_dir))
    assert result.success and openai_api.count("/chat/completions") == 2
    warnings = [r for r in instance.all_logs(result.run_id)
                if r.dagster_event is None and r.level == logging.WARNING and "retry" in r.user_message]
    assert len(warnings) == 1, [r.user_message for r in warnings]
    line = warnings[0]
    assert line.step_key == "outline"
    assert "503 Service Unavailable" in line.user_message and "retry 1 of 3" in line.user_message
    assert re.search(r"retry 1 of 3 in \d+\.\d\d s", line.user_message), line.user_message
    assert KEY not in line.user_message
    _assert_no_key_in_run(instance, result.run_id)

    r = client()  # and so in the project's logs in Redis, which `pipeline logs` reads
    final_entry(r, brief.project_id, result.run_id)
    logs = [json.loads(x) for x in r.lrange(redis_key(f"generation_logs:{brief.project_id}"), 0, -1)]
    assert [x for x in logs if x["level"] == "WARNING" and "retry 1 of 3" in x["message"] and "503" in x["message"]]
