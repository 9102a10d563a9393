"""Failures: bad run config, invalid model output repaired or reported, the images 20 % rule."""

from typing import ClassVar

import dagster as dg
import pytest

from pipeline.defs.video.images import image_outcome
from pipeline.providers.errors import ContentPolicyError, TransientProviderError
from pipeline.providers.images import ProceduralImages
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.text import TextResponse
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize


def _failure(result: dg.ExecuteInProcessResult, step: str) -> str:
    events = [e for e in result.all_events if e.is_step_failure and e.step_key == step]
    assert events, f"{step} did not fail"
    return events[-1].step_failure_data.error.message


def test_bad_brief_in_run_config_fails_without_retry(data_dir):
    brief = small_brief("bad-config")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [brief.project_id])
    from pipeline_tests.defs.harness import all_assets
    from pipeline.defs.resources import build_resources

    def launch(config):
        return dg.materialize(all_assets(), selection=["brief"], instance=instance, partition_key="bad-config",
                              resources=build_resources(data_dir), raise_on_error=False,
                              run_config={"ops": {"brief": {"config": config}}})

    # A language outside the config schema's enum is refused at launch: no run, no step.
    with pytest.raises(dg.DagsterInvalidConfigError, match="language not in enum .* got fr"):
        launch({"prompt": "", "language": "fr"})
    assert instance.get_runs() == []
    # Rules the schema cannot express fail at the brief step, every one named, without retry.
    result = launch({"prompt": "", "chapters": 0})
    assert not result.success
    message = _failure(result, "brief")
    assert "prompt: String should have at least 1 character" in message and "chapters: Input should be" in message
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


class BadScriptOnce(OfflineText):
    """Answers the first script request with a segment far too long, then behaves."""

    answered: ClassVar[int] = 0

    def generate(self, request):
        if request.task == "script":
            CALLS["script"] += 1
            if request.attempt == 0:
                good = super().generate(request).text
                return TextResponse(text=good.replace('"duration": ', '"duration": 99', 1), model="bad")
        return super().generate(request)


class AlwaysBadScript(OfflineText):
    def generate(self, request):
        if request.task == "script":
            CALLS["script"] += 1
            return TextResponse(text='{"title": "t", "segments": [{"index": 0, "kind": "intro", "text": "x", '
                                     '"duration": 1, "image_description": "y"}]}', model="bad")
        return super().generate(request)


def test_invalid_script_is_repaired(data_dir):
    CALLS.clear()
    result = materialize(small_brief("repair"), data_dir, ["brief", "outline", "chapters", "script"],
                         text_provider=BadScriptOnce())
    assert result.success
    assert CALLS["script"] == 2
    assert result.asset_materializations_for_node("script")[0].metadata["attempts"].value == 2


def test_unrepairable_script_names_every_violation_and_is_not_retried(data_dir):
    CALLS.clear()
    result = materialize(small_brief("norepair"), data_dir, ["brief", "outline", "chapters", "script"],
                         text_provider=AlwaysBadScript())
    assert not result.success
    message = _failure(result, "script")
    assert "segment 0: duration 1 s is outside 4-12 s" in message
    assert "total: 1 s is outside 20-60 s" in message
    assert "structure:" in message
    assert CALLS["script"] == 3  # one answer and two repairs, no step retry


class RefusingImages(ProceduralImages):
    refuse: ClassVar[int] = 0

    def generate(self, description, seed, width, height, out_path):
        CALLS["images"] += 1
        if seed % 100 < RefusingImages.refuse:
            raise ContentPolicyError(self.name, f"refused {description[:20]!r}")
        return super().generate(description, seed, width, height, out_path)


def test_images_partial_success_with_placeholders(data_dir):
    brief = small_brief("partial", seed=0, video={"target_seconds": 60, "segment_min_seconds": 4,
                                                  "segment_max_seconds": 10, "total_min_seconds": 40,
                                                  "total_max_seconds": 90})
    RefusingImages.refuse = 1  # only segment 0, of more than five
    result = materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "images"],
                         image_provider=RefusingImages())
    assert result.success
    metadata = result.asset_materializations_for_node("images")[0].metadata
    assert metadata["status"].value == "partial_success"
    assert metadata["images"].value >= 5
    assert "refused" in metadata["errors"].value["0"]


def test_images_fail_above_twenty_percent_without_retry(data_dir):
    brief = small_brief("mostly-refused", seed=0)
    RefusingImages.refuse = 100  # every segment
    CALLS.clear()
    result = materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "images"],
                         image_provider=RefusingImages())
    assert not result.success
    assert "failed (over 20%)" in _failure(result, "images")
    segments = CALLS["images"]
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)
    assert segments >= 3


@pytest.mark.parametrize(("failed", "total", "expected"), [
    ({}, 10, ("success", False)),
    ({1: ContentPolicyError("p", "x"), 2: TransientProviderError("p", "x")}, 10, ("partial_success", False)),
    ({i: ContentPolicyError("p", "x") for i in range(3)}, 10, ("failed", False)),
    ({0: ContentPolicyError("p", "x"), 1: TransientProviderError("p", "x"), 2: ContentPolicyError("p", "x")}, 10,
     ("failed", True)),
])
def test_image_outcome_rule(failed, total, expected):
    assert image_outcome(failed, total) == expected
