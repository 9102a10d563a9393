"""Usage ledger and budgets: one record per call, no double counting, a permanent failure naming the limit."""

import json
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest
from PIL import Image

from pipeline.brief import BriefError, Budget
from pipeline.providers.images import ProceduralImages
from pipeline.store import ProjectFiles
from pipeline.usage import Ledger, Meter, Usage, exceeded
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize

TEXT = ["brief", "outline", "chapters", "script"]


def _failure(result: dg.ExecuteInProcessResult, step: str) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == step)
    return failure.step_failure_data.error.message


def _no_retry(result: dg.ExecuteInProcessResult) -> bool:
    return not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def test_ledger_counts_a_repeated_call_once_and_sums_assets(tmp_path):
    ledger = Ledger(ProjectFiles(tmp_path, "p"))
    ledger.record("outline", "call-a", Usage(tokens_in=10, tokens_out=5, text_calls=1))
    ledger.record("outline", "call-a", Usage(tokens_in=10, tokens_out=5, text_calls=1))  # the same call, retried
    with ThreadPoolExecutor(8) as pool:  # images drawn concurrently
        list(pool.map(lambda n: ledger.record("images", f"image-{n}", Usage(images=1)), range(20)))
    assert ledger.per_asset() == {"outline": Usage(tokens_in=10, tokens_out=5, text_calls=1),
                                  "images": Usage(images=20)}
    assert ledger.total().tokens == 15
    stored = json.loads(ledger.path.read_text())
    assert stored["totals"]["images"]["images"] == 20 and len(stored["assets"]["images"]) == 20


def test_a_metered_provider_keeps_its_answers_and_records_under_a_stable_key(tmp_path):
    files = ProjectFiles(tmp_path, "p")
    provider = ProceduralImages()
    images = Meter("images", small_brief("p"), files).images(provider)
    assert images.name == provider.name == "procedural"
    images.generate("a lighthouse", 7, 64, 36, tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as drawn:
        assert drawn.size == (64, 36)
    # the key of existing ledgers: a changed key would count a reused image again
    assert json.loads(Ledger(files).path.read_text())["assets"] == {"images": {"a7fae553546db2039ebdd73b": {"images": 1}}}


@pytest.mark.parametrize(("budget", "usage", "over"), [
    ({}, Usage(tokens_in=10**9), []),
    ({"tokens": 100}, Usage(tokens_in=60, tokens_out=40), []),
    ({"tokens": 100}, Usage(tokens_in=60, tokens_out=41), ["tokens"]),
    ({"images": 3, "speech_seconds": 10}, Usage(images=4, speech_seconds=10.5), ["images", "speech_seconds"]),
])
def test_exceeded(budget, usage, over):
    assert exceeded(Budget(**budget), usage) == over


def test_budget_fields_are_validated():
    with pytest.raises(BriefError, match="budget.tokens: Input should be greater than or equal to 0"):
        small_brief("b", budget={"tokens": -1})
    with pytest.raises(BriefError, match="budget.dollars: unknown field"):
        small_brief("b", budget={"dollars": 5})


def test_token_budget_stops_chapters_without_retry_and_reruns_do_not_double_count(data_dir):
    project = "budget-tokens"
    assert materialize(small_brief(project), data_dir, ["brief", "outline"]).success
    ledger = Ledger(ProjectFiles(data_dir, project))
    outline_tokens = ledger.total().tokens
    assert outline_tokens > 0

    brief = small_brief(project, budget={"tokens": outline_tokens + 20})
    CALLS.clear()
    result = materialize(brief, data_dir, TEXT)
    assert not result.success
    assert result.asset_materializations_for_node("outline")  # outline made the same call again: counted once
    assert ledger.per_asset()["outline"].tokens == outline_tokens
    message = _failure(result, "chapters")
    assert "budget.tokens exceeded in chapters: the project has used " in message
    assert f": over the budget of {outline_tokens + 20} tokens" in message and f"outline {outline_tokens}" in message
    assert "Raise budget.tokens in the brief" in message
    assert _no_retry(result) and CALLS["text:chapter"] == 1 and CALLS["text:memory"] == 0  # stopped at once
    assert not result.asset_materializations_for_node("script")


def test_image_budget_stops_before_the_image_that_would_pass_it(data_dir):
    brief = small_brief("budget-images", budget={"images": 2})
    CALLS.clear()
    result = materialize(brief, data_dir, [*TEXT, "images"])
    assert not result.success
    message = _failure(result, "images")
    assert "budget.images exceeded in images: the project has used " in message
    assert "and images needs 1 more: over the budget of 2 images" in message
    assert _no_retry(result) and CALLS["images"] == 2
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == "images").step_failure_data
    metadata = {k: v.value for k, v in failure.user_failure_data.metadata.items()}
    assert (metadata["error_code"], metadata["where"], metadata["retryable"]) == ("BUDGET_EXCEEDED", "images", False)
    assert (metadata["limit"], metadata["budget"], metadata["used"]) == ("budget.images", 2.0, 3.0)
    assert Ledger(ProjectFiles(data_dir, brief.project_id)).total().images == 2
