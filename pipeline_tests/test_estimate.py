"""`pipeline estimate`: calls, tokens, images, seconds and cost of a brief before anything is spent."""

import argparse

import pytest
import yaml

from pipeline.cli.estimate import add_command
from pipeline.estimate import PRICES, PriceError, estimate, render, tokens_of
from pipeline_tests.defs.briefs import small_brief

ROLES = ["PIPELINE_TEXT_PROVIDER", "PIPELINE_SPEECH_PROVIDER", "PIPELINE_IMAGES_PROVIDER", "PIPELINE_AVATAR_PROVIDER"]


@pytest.fixture
def env(monkeypatch):
    for name in [*ROLES, *PRICES.values()]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _paid(env) -> None:
    for role, name in zip(ROLES, ("openai", "openai", "stability", "did")):
        env.setenv(role, name)


def test_calls_images_and_seconds_follow_the_brief(env, tmp_path):
    brief = small_brief("est", chapters=3)
    result = estimate(brief, tmp_path)
    assert {t.task: t.calls for t in result.tasks} == {"outline": 1, "chapter": 3, "memory": 3, "script": 1}
    assert (result.text_calls, result.segments, result.images) == (8, 4, 4)  # 30 s of 4-12 s segments
    assert (result.speech_seconds, result.avatar_seconds) == (30.0, 0.0)
    chapter = next(t for t in result.tasks if t.task == "chapter")
    assert chapter.tokens_out == round(3 * 120 * 1.35)  # three chapters of 120 words
    longer = next(t for t in estimate(small_brief("est", chapters=3, chapter_words=240), tmp_path).tasks
                  if t.task == "chapter")
    assert longer.tokens_out == 2 * chapter.tokens_out and longer.tokens_in == chapter.tokens_in
    assert result.costs == {"text": 0.0, "images": 0.0, "speech": 0.0, "avatar": 0.0}  # all offline: free


def test_a_given_outline_or_text_skips_those_calls(env, tmp_path):
    outline = {"title": "T", "logline": "L", "chapters": [
        {"index": i, "title": f"C{i}", "summary": "S", "key_points": ["k"]} for i in (1, 2)]}
    tasks = {t.task: t.calls for t in estimate(small_brief("est", outline=outline), tmp_path).tasks}
    assert tasks == {"chapter": 2, "memory": 2, "script": 1}
    video = small_brief("est", kind="video", source_text="One sentence. " * 80)
    assert {t.task: t.calls for t in estimate(video, tmp_path).tasks} == {"memory": 2, "script": 1}


def test_costs_from_configured_prices(env, tmp_path):
    _paid(env)
    prices = {"text_in": 0.5, "text_out": 1.5, "image": 0.04, "speech": 0.015, "avatar": 0.3}
    for key, value in prices.items():
        env.setenv(PRICES[key], str(value))
    result = estimate(small_brief("est"), tmp_path)
    assert result.avatar_seconds == 16.0  # intro and outro, a mean segment (8 s) each
    text = result.tokens_in / 1000 * 0.5 + result.tokens_out / 1000 * 1.5
    assert result.costs["text"] == pytest.approx(text, abs=1e-4)
    assert result.costs["images"] == pytest.approx(4 * 0.04)
    assert result.costs["speech"] == pytest.approx(30 / 60 * 0.015, abs=1e-4)
    assert result.costs["avatar"] == pytest.approx(16 / 60 * 0.3, abs=1e-4)
    assert result.total_cost == pytest.approx(sum(result.costs.values()), abs=1e-4)


def test_a_missing_price_makes_the_cost_unknown(env, tmp_path):
    _paid(env)
    env.setenv(PRICES["image"], "0.04")
    brief = small_brief("est", budget={"images": 2})
    result = estimate(brief, tmp_path)
    assert result.costs["images"] == pytest.approx(0.16) and result.costs["text"] is None and result.total_cost is None
    table = render(result, brief)
    assert "unknown" in table and "total cost unknown: set PIPELINE_PRICE_TEXT_INPUT_PER_1K" in table
    assert "over budget.images: about 4 expected, the budget is 2" in table


def test_a_bad_price_is_named(env, tmp_path):
    _paid(env)
    env.setenv(PRICES["speech"], "cheap")
    with pytest.raises(PriceError, match="PIPELINE_PRICE_SPEECH_PER_MINUTE='cheap' is not a number"):
        estimate(small_brief("est"), tmp_path)


def test_tokens_of_counts_cjk_characters_one_each():
    assert tokens_of("abcdefgh") == 2 and tokens_of("钟表匠") == 3


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pipeline")
    add_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_the_command_prints_a_table(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path))
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(small_brief("est-cli").model_dump(mode="json", exclude_none=True)))
    assert _cli(["estimate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Estimate for project 'est-cli' (novel, en): 2 chapters of about 120 words, a 30 s video")
    assert "  outline           1" in out and "  images                   4   free (offline)" in out
    assert "total cost nothing: every provider is offline" in out


def test_the_command_refuses_a_bad_brief_with_exit_2(env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path))
    path = tmp_path / "bad.yaml"
    path.write_text("project_id: ../x\nprompt: hi\nbudget: {tokens: -5}\n")
    assert _cli(["estimate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "project_id: must not contain path separators" in err and "budget.tokens: Input should be greater" in err
