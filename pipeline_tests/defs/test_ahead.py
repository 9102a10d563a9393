"""Encoding ahead in the pipeline: the images step encodes the video's stills as its pictures come, unless
PIPELINE_ENCODE_AHEAD=off; either way the video step ends with every still encoded once."""

import dagster as dg
import pytest

from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief


def _meta(instance: dg.DagsterInstance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


@pytest.mark.parametrize("setting, ahead", [("off", False), ("on", True)])
def test_the_images_step_encodes_the_stills_ahead_unless_switched_off(setting, ahead, instance, data_dir,
                                                                       monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PIPELINE_ENCODE_AHEAD", setting)
    assert run_locally(small_brief(f"ahead-{setting}"), instance=instance).success
    images, video = _meta(instance, "images"), _meta(instance, "video")
    assert images["stills_encoded_ahead"] == (video["stills"] if ahead else 0)
    assert images["stills_encoded_ahead"] + video["stills_encoded"] == video["stills"]
