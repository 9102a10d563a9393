"""Narration over a hosted voice: cues requested MAX_IN_FLIGHT at a time, and a crashed narration resumed."""

import json
import shutil
import subprocess
import sys
import time

import dagster as dg
import pytest

from pipeline.providers.openai_compat import OpenAISpeech
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.services import ROOT

UP_TO_SCRIPT = ["brief", "outline", "chapters", "script"]
KEY_VARIABLE = "PIPELINE_TEST_PROVIDER_KEY"


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, KEY)


def _speech(server, data_dir, **changes) -> OpenAISpeech:
    return OpenAISpeech(base_url=f"{server.url}/v1", api_key=dg.EnvVar(KEY_VARIABLE), data_dir=str(data_dir),
                        response_cache=False, **{**FAST, "timeout": 30.0, **changes})


def _asked(server, since: int) -> list[str]:
    return [s.json()["input"] for s in server.seen[since:] if s.path.endswith("/audio/speech")]


def test_cue_requests_overlap_up_to_max_in_flight_and_never_beyond(openai_api, data_dir, keyed, tmp_path,
                                                                  monkeypatch):
    brief = small_brief("http-narration")
    assert materialize(brief, data_dir, UP_TO_SCRIPT).success
    dirs = {1: data_dir, 3: tmp_path / "three"}
    shutil.copytree(data_dir, dirs[3])
    openai_api.delay = 0.2  # a hosted voice takes its time
    monkeypatch.setenv("PIPELINE_SPEECH_BASE_URL", f"{openai_api.url}/v1")
    monkeypatch.setenv("PIPELINE_SPEECH_API_KEY", openai_api.key)
    monkeypatch.setenv("PIPELINE_SPEECH_MAX_IN_FLIGHT", "3")
    providers = {1: _speech(openai_api, dirs[1], max_in_flight=1), 3: OpenAISpeech.from_env(str(dirs[3]))}
    assert providers[3].max_in_flight == 3
    for n, provider in providers.items():
        openai_api.peak, since = 0, len(openai_api.seen)
        assert materialize(brief, dirs[n], ["narration"], speech_provider=provider).success
        assert openai_api.peak == n, f"{openai_api.peak} requests in flight at most, with MAX_IN_FLIGHT={n}"
        cues = json.loads(ProjectFiles(dirs[n], brief.project_id).path("narration.json").read_text())["cues"]
        assert sorted(_asked(openai_api, since)) == sorted({c["text"] for c in cues}), "each cue asked for once"
    assert len(cues) >= 6
    one, three = (ProjectFiles(dirs[n], brief.project_id) for n in (1, 3))
    assert one.path("narration.json").read_text() == three.path("narration.json").read_text()  # order and timing
    assert one.path("narration.wav").read_bytes() == three.path("narration.wav").read_bytes()
    # what the overlap saves in wall time is measured by benchmarks/narration/run.py, not by a timed test


CHILD = """
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.providers.openai_compat import OpenAISpeech
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize

project, data_dir, url, variable = sys.argv[1:]
speech = OpenAISpeech(base_url=url, api_key=dg.EnvVar(variable), data_dir=data_dir, max_in_flight=2,
                      response_cache=False)
materialize(small_brief(project), Path(data_dir), ["narration"], speech_provider=speech)
"""


def test_a_crash_mid_narration_requests_only_the_missing_cues(openai_api, data_dir, keyed):
    brief = small_brief("http-crash")
    assert materialize(brief, data_dir, UP_TO_SCRIPT).success
    items = ProjectFiles(data_dir, brief.project_id).path("narration", "items")
    openai_api.delay = 0.3
    child = subprocess.Popen([sys.executable, "-c", CHILD, brief.project_id, str(data_dir), f"{openai_api.url}/v1",
                              KEY_VARIABLE], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(list(items.glob("[!.]*.wav"))) < 3:
            assert child.poll() is None and time.monotonic() < deadline, "the narration never got under way"
            time.sleep(0.02)
    finally:
        child.kill()  # the run worker dies mid-narration: no cleanup, requests cut off
        child.wait()
    kept = {p.name for p in items.glob("[!.]*.wav")}
    asked_before = _asked(openai_api, 0)

    openai_api.delay = 0.0
    since = len(openai_api.seen)
    result = materialize(brief, data_dir, ["narration"], speech_provider=_speech(openai_api, data_dir))
    assert result.success
    cues = json.loads(ProjectFiles(data_dir, brief.project_id).path("narration.json").read_text())["cues"]
    missing = {c["text"] for c in cues if c["audio"].rsplit("/", 1)[-1] not in kept}
    assert 3 <= len(kept) < len({c["audio"] for c in cues}) and len(asked_before) < len(cues)
    assert sorted(_asked(openai_api, since)) == sorted(missing), "only the cues lost in the crash are asked for"
    metadata = result.asset_materializations_for_node("narration")[0].metadata
    assert (metadata["spoken"].value, metadata["reused"].value) == (len(missing), len(cues) - len(missing))
