"""Whole projects through every asset on a real Dagster instance, outputs checked by ffprobe and pixels."""

import json

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from pipeline.rules.units import length_units
from pipeline.run import run_locally
from pipeline.stages import STAGES
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.render.media import ffprobe, integrated_loudness


@pytest.fixture
def env_data(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return data_dir


@pytest.mark.parametrize("language", ["en", "zh"])
def test_whole_project(language, instance, env_data):
    brief = small_brief(f"small-{language}", language)
    outcome = run_locally(brief, instance=instance)
    assert outcome.success
    files = ProjectFiles(env_data, brief.project_id)

    info = ffprobe(files.path("video.mp4"))
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"], video["r_frame_rate"]) == ("h264", 1920, 1080, "30/1")
    assert audio["codec_name"] == "aac"
    narration = json.loads(files.path("narration.json").read_text())
    assert abs(float(info["format"]["duration"]) - narration["duration"]) <= 0.02 * narration["duration"]
    assert int(video["nb_read_frames"]) == round(narration["duration"] * 30)
    assert 20 * 0.5 < narration["duration"] < 60 * 2
    assert abs(integrated_loudness(files.path("video.mp4")) - (-16)) <= 1.0, "narration at -16 LUFS in the MP4"

    thumb = Image.open(files.path("thumbnail.jpg"))
    assert (thumb.format, thumb.size) == ("JPEG", (1280, 720))
    pixels = np.asarray(thumb)
    assert (pixels[400:].min(axis=2) > 220).sum() > 500  # the title drawn in white

    manuscript = files.path("manuscript.md").read_text()
    chapters = json.loads(files.path("chapters.json").read_text())["chapters"]
    assert len(chapters) == 2 and all(c["title"] in manuscript for c in chapters)
    assert all(c["words"] == length_units(c["text"], language) for c in chapters)  # as after a user's edit
    srt = files.path("video.srt").read_text()
    assert srt.count(" --> ") == len(narration["cues"])
    if language == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in srt)

    for stage in STAGES:
        key = dg.AssetKey(stage)
        assert instance.get_latest_materialization_event(key) is not None, stage
    checks = instance.event_log_storage.get_asset_check_execution_history
    for asset, check in [("script", "script_timing"), ("video", "video_duration_matches_narration"),
                         ("narration", "subtitles_cover_narration"), ("chapters", "every_outline_chapter_written")]:
        history = checks(dg.AssetCheckKey(dg.AssetKey(asset), check), limit=1)
        assert history and history[0].status.value == "SUCCEEDED", (asset, check)


def test_stop_at_text_only(instance, env_data):
    brief = small_brief("text-only", stop_at="manuscript")
    outcome = run_locally(brief, stop_at=brief.stop_at, instance=instance)
    assert outcome.success
    files = ProjectFiles(env_data, brief.project_id)
    assert files.path("manuscript.md").exists()
    assert not files.path("script.json").exists() and not files.path("video.mp4").exists()
