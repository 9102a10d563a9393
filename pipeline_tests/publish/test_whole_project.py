"""The whole graph with the default avatar (none) and publisher (local): usage recorded, video exported."""

import json

import pytest

from pipeline.estimate import estimate
from pipeline.stages import STAGES
from pipeline.store import ProjectFiles
from pipeline.usage import Ledger
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.render.media import ffprobe


@pytest.mark.e2e
def test_whole_project_is_published_locally_with_its_usage(data_dir, monkeypatch):
    monkeypatch.delenv("PIPELINE_AVATAR_PROVIDER", raising=False)
    monkeypatch.delenv("PIPELINE_PUBLISHER_PROVIDER", raising=False)
    brief = small_brief("whole-local")
    CALLS.clear()
    result = materialize(brief, data_dir)
    assert result.success
    assert {e.asset_key.path[-1] for e in result.get_asset_materialization_events()} == set(STAGES)
    files = ProjectFiles(data_dir, brief.project_id)

    assert json.loads(files.path("presenter.json").read_text()) == {"intro": None, "outro": None, "seconds": 0.0}
    export = data_dir / "exports" / brief.project_id
    assert ffprobe(export / "video.mp4")["streams"][0]["codec_name"] == "h264"
    assert (export / "video.srt").read_text() == files.path("video.srt").read_text()
    assert json.loads((export / "metadata.json").read_text())["synthetic_media"] is True

    metadata = {name: result.asset_materializations_for_node(name)[0].metadata
                for name in ("outline", "chapters", "script", "narration", "images")}
    for name in ("outline", "chapters", "script"):
        assert metadata[name]["model"].value == "offline-composer-1"
        assert metadata[name]["tokens_in"].value > 0 and metadata[name]["tokens_out"].value > 0
    assert metadata["chapters"]["text_calls"].value == CALLS["text:chapter"] + CALLS["text:memory"] == 4
    narration = json.loads(files.path("narration.json").read_text())
    assert 0.5 * narration["duration"] < metadata["narration"]["speech_seconds"].value <= narration["duration"]
    segments = len(json.loads(files.path("script.json").read_text())["segments"])
    assert metadata["images"]["images_generated"].value == segments == CALLS["images"]

    ledger = Ledger(files).per_asset()
    chapters = metadata["chapters"]
    assert ledger["chapters"].tokens == chapters["tokens_in"].value + chapters["tokens_out"].value
    total = metadata["images"]["usage"].value["project"]
    assert total["text_calls"] == sum(CALLS[k] for k in CALLS if k.startswith("text:")) == 6

    expected = estimate(brief, data_dir)  # the estimate counts the calls and images this run made
    assert {t.task: t.calls for t in expected.tasks} == {"outline": 1, "chapter": 2, "memory": 2, "script": 1}
    assert expected.images == segments and expected.speech_seconds == brief.video.target_seconds
