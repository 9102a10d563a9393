"""Per-item checkpoints: a re-executed step reuses finished items and redoes only missing ones."""

import dagster as dg

from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize


def test_chapters_redo_only_the_missing_chapter(data_dir):
    brief = small_brief("ckpt-chapters", chapters=3)
    CALLS.clear()
    assert materialize(brief, data_dir, ["brief", "outline", "chapters"]).success
    assert CALLS == {"text:outline": 1, "text:chapter": 3, "text:memory": 3}

    items = sorted(ProjectFiles(data_dir, brief.project_id).path("chapters", "items").glob("*.json"),
                   key=lambda p: p.stat().st_mtime)
    items[1].unlink()  # chapter 2's checkpoint is lost
    CALLS.clear()
    result = materialize(brief, data_dir, ["chapters"])
    assert result.success
    assert CALLS == {"text:chapter": 1, "text:memory": 1}
    metadata = result.asset_materializations_for_node("chapters")[0].metadata
    assert (metadata["generated"].value, metadata["reused"].value) == (1, 2)


def test_narration_and_images_redo_only_missing_items(data_dir):
    brief = small_brief("ckpt-media")
    CALLS.clear()
    assert materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "narration", "images"]).success
    cues, images = CALLS["speech"], CALLS["images"]
    assert cues > 5 and images >= 3
    files = ProjectFiles(data_dir, brief.project_id)
    next(iter(sorted(files.path("narration", "items").glob("*.wav")))).unlink()
    next(iter(sorted(files.path("images", "items").glob("*.png")))).unlink()
    CALLS.clear()
    assert materialize(brief, data_dir, ["narration", "images"]).success
    assert CALLS == {"speech": 1, "images": 1}


def test_progress_is_in_the_event_log(data_dir):
    instance = dg.DagsterInstance.ephemeral()
    brief = small_brief("progress")
    result = materialize(brief, data_dir, ["brief", "outline", "chapters"], instance=instance)
    records = instance.get_records_for_run(result.run_id).records
    reports = [r.event_log_entry.dagster_event.event_specific_data.asset_observation.metadata
               for r in records if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_OBSERVATION]
    chapters = [m for m in reports if m.get("pipeline/progress") and m["unit"].value == "chapters"]
    assert [(m["done"].value, m["total"].value, m["chapter"].value) for m in chapters] == [(1, 2, 1), (2, 2, 2)]
