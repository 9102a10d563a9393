"""Verbose mode: one line per provider call in the run's log, in generation_logs and on the stream;
nothing when the brief is not verbose; never a key, never a whole prompt."""

import json

import dagster as dg
import pytest

from pipeline.calls import Call, first_words
from pipeline.providers.openai_compat import OpenAIText
from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.events.streams import client, entries, final_entry, key
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY

TEXT_ASSETS = ["brief", "outline"]


@pytest.mark.parametrize("text", [
    "Write chapter 2 of 3 of The Lighthouse Keeper, in a clear and vivid style, about the storm.",
    "Tides",
    "two words",
    "一个钟表匠的学徒发现，小镇的钟楼每到夜里就会倒着走。",
])
def test_a_summary_is_the_first_words_and_never_the_whole_text(text):
    summary = first_words(text)
    shown = summary.split("…")[0].lstrip('"')
    assert shown and text.startswith(shown) and len(shown) < len(text)
    assert len(shown.split()) <= 8 and len(shown) <= 48
    assert summary.endswith(f"({len(text)} chars)")


def test_the_line_names_role_model_latency_usage_cache_attempt_request_and_answer():
    call = Call("text", "openai:gpt-4o-mini", first_words("Plan a novel from this brief: a lighthouse keeper."),
                task="outline", repair=1, latency_ms=1234, cache="miss", attempt=2)
    call.answered('{"title": "The Keeper", "logline": "A keeper finds the lamp lit by someone else, night after '
                  'night."}', "gpt-4o-mini-2024", tokens_in=120, tokens_out=80)
    line = call.line()
    for part in ("text gpt-4o-mini-2024", "1234 ms", "120 tokens in, 80 out", "cache miss, attempt 2", "repair 1",
                 'asked (outline) "Plan a novel', 'answered "{"title": "The Keeper",'):
        assert part in line, (part, line)
    speech = Call("speech", "piper:joe", first_words("The lamp was lit."), latency_ms=40)
    speech.answered("1.20 s of audio at 22050 Hz", summarise=False, seconds=1.2)
    assert "1.20 s" in speech.line() and "no HTTP request" in speech.line() and "answered 1.20 s of audio" in \
        speech.line()


def _call_lines(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [r.user_message for r in instance.all_logs(run_id)
            if r.dagster_event is None and r.user_message.startswith("provider call: ")]


@pytest.mark.usefixtures("redis_server")
def test_a_verbose_brief_logs_one_line_per_call_to_the_run_generation_logs_and_stream(instance, data_dir,
                                                                                       monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    brief = small_brief("verbose-on", verbose=True)
    outcome = run_locally(brief, instance=instance)
    assert outcome.success
    lines = _call_lines(instance, outcome.run_id)
    by_role = {role: [line for line in lines if line.startswith(f"provider call: {role} ")]
               for role in ("text", "speech", "images", "publisher")}
    folder = data_dir / "projects" / brief.project_id
    script = json.loads((folder / "script.json").read_text())["segments"]
    cues = json.loads((folder / "narration.json").read_text())["cues"]
    # outline, two chapters and their two memory notes, the script; a cue each; an image per segment; the export
    assert [len(by_role[r]) for r in by_role] == [6, len(cues), len(script), 1]
    assert len(lines) == sum(len(found) for found in by_role.values())
    text = by_role["text"]
    assert all("asked (chapter)" in line for line in text[1:5:2]) and "asked (script)" in text[-1]
    assert all("tokens in" in line and "no HTTP request" in line for line in text)
    assert all(" s, no HTTP request" in line and "s of audio at" in line for line in by_role["speech"])
    assert all("1 image" in line and "answered a 1920x1080 PNG" in line for line in by_role["images"])
    assert str(folder.parent.parent / "exports" / brief.project_id) in by_role["publisher"][0]
    assert all(brief.prompt not in line for line in lines), "never a whole prompt"

    r = client()
    final_entry(r, brief.project_id, outcome.run_id)
    logged = [json.loads(x)["message"] for x in r.lrange(key(f"generation_logs:{brief.project_id}"), 0, -1)]
    # each line once, in order within its step: a call's log line and its observation are two events, so
    # across steps running at the same time (narration, images) the sequences may interleave differently
    _same_calls([m for m in logged if m.startswith("provider call: ")], by_role)
    calls = [e for e in entries(r, brief.project_id, outcome.run_id)
             if e["dagster_event"] == "ASSET_OBSERVATION" and "role" in json.loads(e.get("data", "{}"))]
    _same_calls([e["message"] for e in calls], by_role)
    first = json.loads(calls[0]["data"])
    assert (first["role"], first["task"], first["cache"], first["attempt"]) == ("text", "outline", "none", 0)
    assert first["latency_ms"] >= 0 and first["tokens_out"] > 0 and calls[0]["asset"] == "outline"


def _same_calls(seen: list[str], by_role: dict[str, list[str]]) -> None:
    assert sorted(seen) == sorted(line for found in by_role.values() for line in found), "each line once"
    for role, found in by_role.items():
        assert [m for m in seen if m.startswith(f"provider call: {role} ")] == found, f"{role}: in order"


@pytest.mark.usefixtures("redis_server")
def test_a_brief_that_is_not_verbose_logs_no_call(instance, data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    outcome = run_locally(small_brief("verbose-off", stop_at="script"), stop_at="script", instance=instance)
    assert outcome.success and _call_lines(instance, outcome.run_id) == []


def test_an_http_call_tells_its_retry_attempt_then_a_cache_hit_and_never_the_key(data_dir, monkeypatch):
    server = fakes.openai_server(key=KEY)
    server.start()
    try:
        monkeypatch.setenv("PIPELINE_TEST_PROVIDER_KEY", KEY)
        text = OpenAIText(base_url=f"{server.url}/v1", api_key=dg.EnvVar("PIPELINE_TEST_PROVIDER_KEY"),
                          data_dir=str(data_dir), **FAST)
        brief = small_brief("verbose-http", verbose=True)
        instance = dg.DagsterInstance.ephemeral()
        server.push(fakes.unavailable())
        first = materialize(brief, data_dir, TEXT_ASSETS, instance=instance, text_provider=text)
        again = materialize(brief, data_dir, TEXT_ASSETS, instance=instance, text_provider=text)
    finally:
        server.stop()
    assert first.success and again.success
    [retried], [cached] = _call_lines(instance, first.run_id), _call_lines(instance, again.run_id)
    assert "provider call: text gpt-4o-mini-2024: " in retried and "cache miss, attempt 2" in retried
    assert "cache hit;" in cached and "attempt" not in cached and "asked (outline)" in cached
    for run_id in (first.run_id, again.run_id):
        assert all(KEY not in dg.serialize_value(r) for r in instance.all_logs(run_id))
