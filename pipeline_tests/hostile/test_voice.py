"""A voice name reaches espeak-ng's command line: the brief refuses what is not a name, and the run's
first step refuses a name the engine does not list, before anything is generated."""

import dagster as dg

from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize


def test_a_voice_the_engine_does_not_know_fails_the_first_step_without_retry(data_dir):
    CALLS.clear()
    brief = small_brief("bad-voice", language="zh", video={**small_brief().video.model_dump(), "voice": "klingon"})
    result = materialize(brief, data_dir, ["brief", "outline"])
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["brief"]
    message = failures[0].step_failure_data.error.message
    assert "video.voice 'klingon' is not a voice of the offline engine" in message and "espeak-ng --voices" in message
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)
    assert not CALLS, "nothing was generated"


def test_an_espeak_voice_with_a_variant_is_accepted(data_dir):
    brief = small_brief("good-voice", language="zh", video={**small_brief().video.model_dump(), "voice": "cmn+f3"})
    assert materialize(brief, data_dir, ["brief"]).success
