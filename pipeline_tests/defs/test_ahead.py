"""Encoding ahead in the pipeline: the images step encodes the video's stills as its pictures come when
PIPELINE_ENCODE_AHEAD says so (auto: when the voice or the presenter is hosted); either way every still is
encoded once."""

import dagster as dg
import pytest

from pipeline.defs.video.ahead import encode_ahead
from pipeline.objects.settings import SettingsError
from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief


def _meta(instance: dg.DagsterInstance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


@pytest.mark.parametrize("setting, ahead", [("off", False), ("on", True), ("", False)])  # unset: offline, so off
def test_the_images_step_encodes_the_stills_ahead_unless_switched_off(setting, ahead, instance, data_dir,
                                                                       monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PIPELINE_ENCODE_AHEAD", setting)
    assert run_locally(small_brief(f"ahead-{setting or 'auto'}"), instance=instance).success
    images, video = _meta(instance, "images"), _meta(instance, "video")
    assert images["stills_encoded_ahead"] == (video["stills"] if ahead else 0)
    assert images["stills_encoded_ahead"] + video["stills_encoded"] == video["stills"]


def test_auto_encodes_ahead_when_the_voice_or_the_presenter_is_hosted(monkeypatch):
    for name in ("PIPELINE_ENCODE_AHEAD", "PIPELINE_SPEECH_PROVIDER", "PIPELINE_AVATAR_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    brief = small_brief("ahead-auto")
    assert not encode_ahead(brief)  # every voice made on this machine's cores
    monkeypatch.setenv("PIPELINE_AVATAR_PROVIDER", "did")
    assert encode_ahead(brief) and not encode_ahead(small_brief("ahead-auto", presenter={"enabled": False}))
    monkeypatch.setenv("PIPELINE_AVATAR_PROVIDER", "none")
    monkeypatch.setenv("PIPELINE_SPEECH_PROVIDER", "openai")
    assert encode_ahead(brief)
    monkeypatch.setenv("PIPELINE_ENCODE_AHEAD", " OFF ")
    assert not encode_ahead(brief)
    monkeypatch.setenv("PIPELINE_ENCODE_AHEAD", "sometimes")
    with pytest.raises(SettingsError, match="PIPELINE_ENCODE_AHEAD='sometimes': give one of auto, on, off"):
        encode_ahead(brief)
