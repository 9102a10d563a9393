"""The Launchpad schema of the brief: the same fields as the Brief model, and every brief the CLI
accepts is run config it accepts; wrong types are refused at launch, other rules at the brief step."""

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import dagster as dg
import pytest
from pydantic import BaseModel

from pipeline.brief import LANGUAGES, Brief, BriefError, load_brief, parse_brief
from pipeline.defs.ops.jobs import run_config
from pipeline.defs.resources import build_resources
from pipeline.defs.text.brief_config import DIFFERENCES, MIRRORS, BriefConfig, Stage
from pipeline.run import produce_project_job
from pipeline.stages import STAGES
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.defs.harness import all_assets

ROOT = Path(__file__).resolve().parents[2]
FUTURE = (datetime.now(timezone.utc) + timedelta(days=365)).replace(microsecond=0).isoformat()
OUTLINE = {"title": "The Clock", "logline": "Time runs backwards at night.", "chapters": [
    {"index": 1, "title": "Midnight", "summary": "The apprentice notices.", "key_points": ["the hands move back"]},
    {"index": 2, "title": "Dawn", "summary": "The town wakes a day younger."}],
    "bible": {"characters": [{"name": "Ada", "role": "apprentice"}], "world": "a river town",
              "timeline": ["night", "day"], "foreshadowing": ["a cracked face"]}}


def _kind(annotation: Any) -> Any:
    """An annotation with Optional/X | None, lists and mirrored models made comparable."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        return ("union", frozenset(_kind(a) for a in args))
    if origin is list:
        return ("list", _kind(args[0]))
    if origin is Literal:
        return ("one of", args)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", MIRRORS.get(annotation, annotation))
    return annotation


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation names: X, X | None, list[X]."""
    found = []
    for a in (annotation, *get_args(annotation)):
        for b in (a, *get_args(a)):
            if isinstance(b, type) and issubclass(b, BaseModel) and b not in found:
                found.append(b)
    return found


def _default(field) -> Any:
    value = field.get_default(call_default_factory=True)
    return value.model_dump() if isinstance(value, BaseModel) else value


def _differences(model: type[BaseModel], config: type[BaseModel], prefix: str = "") -> list[str]:
    """Every way the config class differs from the model: field names, types, defaults, required-ness,
    descriptions, recursively through mirrored models."""
    found = []
    if set(model.model_fields) != set(config.model_fields):
        found.append(f"{prefix.rstrip('.') or 'brief'}: fields {sorted(config.model_fields)} != the model's "
                     f"{sorted(model.model_fields)}")
    for name in model.model_fields.keys() & config.model_fields.keys():
        path, ours, theirs = f"{prefix}{name}", model.model_fields[name], config.model_fields[name]
        if not theirs.description:
            found.append(f"{path}: no description in the schema")
        elif ours.description and ours.description != theirs.description:
            found.append(f"{path}: description {theirs.description!r} != the model's {ours.description!r}")
        if path in DIFFERENCES:
            continue
        if _kind(ours.annotation) != _kind(theirs.annotation):
            found.append(f"{path}: type {theirs.annotation} != the model's {ours.annotation}")
        if ours.is_required() != theirs.is_required():
            found.append(f"{path}: required {theirs.is_required()} != the model's {ours.is_required()}")
        if not ours.is_required() and _default(ours) != _default(theirs):
            found.append(f"{path}: default {_default(theirs)!r} != the model's {_default(ours)!r}")
        for sub in _models_in(ours.annotation):
            found += _differences(sub, MIRRORS[sub], f"{path}.")
    return found


def test_schema_mirrors_the_brief_model_field_by_field():
    assert _differences(Brief, BriefConfig) == []


def test_every_model_of_the_brief_is_mirrored():
    seen: set[type] = set()

    def walk(model):
        seen.add(model)
        for field in model.model_fields.values():
            for sub in _models_in(field.annotation):
                if sub not in seen:
                    walk(sub)

    walk(Brief)
    assert seen == set(MIRRORS)


def test_the_declared_differences_are_the_only_ones_and_hold():
    fields = Brief.model_fields
    video, publish = MIRRORS[fields["video"].annotation], MIRRORS[fields["publish"].annotation]
    # project_id: required in a brief file, optional in run config (the partition key).
    assert fields["project_id"].is_required()
    config_id = BriefConfig.model_fields["project_id"]
    assert not config_id.is_required() and config_id.default is None
    # language and stop_at: strings the model checks against a list; enums of the same list here.
    assert get_args(BriefConfig.model_fields["language"].annotation) == LANGUAGES
    assert [s.value for s in Stage] == list(STAGES) and _kind(BriefConfig.model_fields["stop_at"].annotation) == \
        ("union", frozenset({Stage, type(None)}))
    # the two fields whose type Dagster config cannot express take a wider one.
    assert video.model_fields["ken_burns"].annotation is Any and video.model_fields["ken_burns"].default is False
    assert _kind(publish.model_fields["publish_at"].annotation) == ("union", frozenset({str, type(None)}))
    assert set(DIFFERENCES) == {"project_id", "language", "stop_at", "video.ken_burns", "publish.publish_at"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in DIFFERENCES:
        assert f"| `{path}`" in readme or f"`{path}`," in readme, f"README does not list {path} as a difference"


def _cli_briefs(data_dir) -> list[Brief]:
    """Examples and small_brief variants: every field, outline, context, publish_at, both ken_burns forms."""
    examples = [load_brief(p, data_dir) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    return [*examples, small_brief(), small_brief("small-zh", "zh"),
            small_brief("with-outline", outline=OUTLINE, chapters=2, title="The Clock", style="wry", seed=7),
            small_brief("with-context", kind="document", context=[
                {"title": "Notes", "file": "sources/vector-clocks.md"}, {"text": "An inline note."}]),
            small_brief("scheduled", publish={"privacy": "private", "publish_at": FUTURE, "require_approval": True},
                        presenter={"enabled": False, "intro": "Hello.", "outro": "Bye."},
                        budget={"tokens": 1000, "images": 4, "speech_seconds": 90.5}, stop_at="manuscript"),
            small_brief("zoom-all", video={**SHORT_VIDEO, "ken_burns": True, "voice": "en-us", "logo": "logo.png"}),
            small_brief("zoom-some", video={**SHORT_VIDEO, "ken_burns": [0, 2]}),
            small_brief("from-text", kind="video", source_text="Tides rise twice a day. " * 40)]


def test_every_brief_the_cli_accepts_is_run_config_the_schema_accepts(data_dir):
    job = produce_project_job()
    briefs = _cli_briefs(data_dir)
    assert any(b.outline for b in briefs) and any(b.context for b in briefs) and any(b.publish.publish_at
                                                                                    for b in briefs)
    assert {type(b.video.ken_burns) for b in briefs} == {bool, list}
    for brief in briefs:
        result = dg.validate_run_config(job, run_config(brief))
        assert result["ops"]["brief"]["config"]["prompt"] == brief.prompt


def test_generated_briefs_the_cli_accepts_are_run_config_the_schema_accepts():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    job = produce_project_job()
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    fields = st.fixed_dictionaries({"project_id": st.just("gen"), "prompt": text}, optional={
        "title": maybe(text), "kind": st.sampled_from(["novel", "document"]), "language": st.sampled_from(LANGUAGES),
        "chapters": st.integers(1, 50), "chapter_words": st.integers(50, 20000), "style": text,
        "seed": st.integers(0, 2**31 - 1), "stop_at": maybe(st.sampled_from(STAGES)),
        "context": st.lists(st.fixed_dictionaries({"text": text}, optional={"title": text}), max_size=3),
        "video": st.fixed_dictionaries({}, optional={
            "ken_burns": st.one_of(st.booleans(), st.lists(st.integers(0, 5), unique=True, max_size=4)),
            "voice": st.sampled_from(["joe", "en-us", "cmn"]), "segment_min_seconds": st.floats(1, 4.5),
            "target_seconds": st.integers(180, 600)}),
        "presenter": st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "intro": text}),
        "publish": st.fixed_dictionaries({}, optional={"privacy": st.just("private"), "publish_at": st.just(FUTURE),
                                                        "require_approval": st.booleans()}),
        "budget": st.fixed_dictionaries({}, optional={"tokens": st.integers(0, 10**9),
                                                       "speech_seconds": st.floats(0, 1e6)}),
    })

    accepted = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(fields)
    def check(data):
        try:
            brief = parse_brief(data)
        except BriefError:
            return
        assert dg.validate_run_config(job, run_config(brief))
        accepted.append(brief)

    check()
    assert len(accepted) > 100, "most generated briefs are valid ones"


def _launch(data_dir, config: Any, partition: str = "typed"):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [partition])
    result = dg.materialize(all_assets(), selection=["brief"], instance=instance, partition_key=partition,
                            resources=build_resources(data_dir), raise_on_error=False,
                            run_config={"ops": {"brief": {"config": config}}})
    return instance, result


def _failure_of_brief(result) -> tuple[str, dict]:
    events = [e for e in result.all_events if e.is_step_failure and e.step_key == "brief"]
    assert events, "brief did not fail"
    data = events[-1].step_failure_data
    return data.error.message, {k: v.value for k, v in data.user_failure_data.metadata.items()}


@pytest.mark.parametrize("config, field", [
    ({"prompt": "x", "chapters": "three"}, "chapters"),
    ({"prompt": "x", "video": {"target_seconds": True}}, "target_seconds"),
    ({"prompt": "x", "kind": "poem"}, "kind"),
    ({"prompt": "x", "language": "fr"}, "language"),
    ({"prompt": "x", "stop_at": "everything"}, "stop_at"),
    ({"prompt": "x", "publish": {"privacy": "friends"}}, "privacy"),
    ({"prompt": "x", "context": [{"txt": "typo"}]}, "txt"),
    ({"prompt": "x", "outline": {"title": "t", "logline": "l", "chapters": [{"index": "1", "title": "a",
                                                                              "summary": "s"}]}}, "index"),
    ({"prompt": 3}, "prompt"),
    ({"chapters": 2}, "prompt"),
    ({"prompt": "x", "extra": 1}, "extra"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_wrong_types_are_refused_at_launch_before_any_run(data_dir, config, field):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", ["typed"])
    with pytest.raises(dg.DagsterInvalidConfigError, match=field):
        dg.materialize(all_assets(), selection=["brief"], instance=instance, partition_key="typed",
                       resources=build_resources(data_dir), run_config={"ops": {"brief": {"config": config}}})
    assert instance.get_runs() == []


@pytest.mark.parametrize("config, message", [
    ({"prompt": "x", "video": {"ken_burns": "yes"}}, "video.ken_burns: must be true, false or a list"),
    ({"prompt": "x", "video": {"ken_burns": [1, 1]}}, "video.ken_burns: lists a segment index twice"),
    ({"prompt": "x", "publish": {"publish_at": "tomorrow"}}, "publish.publish_at: Input should be a valid datetime"),
    ({"prompt": "x", "publish": {"publish_at": "2001-01-01T00:00:00+00:00"}}, "is not in the future"),
    ({"prompt": "x", "chapters": None}, "chapters: Input should be a valid integer"),
    ({"prompt": {"env": "HOME"}}, "prompt: Input should be a valid string"),
    ({"prompt": "x", "video": {"segment_min_seconds": 30, "segment_max_seconds": 20}}, "segment_min_seconds must"),
    ({"prompt": "x", "context": [{"file": "../outside.md"}]}, "context.0.file"),
    ({"prompt": "x", "project_id": "../x"}, "project_id: "),
])
def test_rules_the_schema_cannot_express_fail_at_the_brief_step_without_retry(data_dir, config, message):
    _, result = _launch(data_dir, config)
    assert not result.success
    text, metadata = _failure_of_brief(result)
    assert message in text and metadata["error_code"] == "BRIEF_INVALID" and metadata["retryable"] is False
    assert not any(e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)


def test_a_project_id_other_than_the_partition_fails_the_brief_step(data_dir):
    _, result = _launch(data_dir, {"prompt": "x", "project_id": "other-project"})
    text, metadata = _failure_of_brief(result)
    assert "brief.project_id is 'other-project' but the run is for partition 'typed'" in text
    assert metadata["error_code"] == "PROJECT_ID_INVALID"


def test_run_config_of_a_brief_gives_back_the_same_brief(data_dir):
    brief = small_brief("typed", outline=OUTLINE, chapters=2, context=[{"title": "Notes", "text": "An inline note."}],
                        publish={"publish_at": FUTURE}, video={**SHORT_VIDEO, "ken_burns": [0, 2]})
    _, result = _launch(data_dir, run_config(brief)["ops"]["brief"]["config"])
    assert result.success
    assert result.output_for_node("brief") == brief
