"""Brief validation: every malformed brief gets one clear message naming the field and the rule."""

from pathlib import Path

import pytest

from pipeline.brief import BriefError, load_brief, parse_brief

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))
DATA = Path(__file__).parent.parent / "data"


def good(**changes):
    brief = {"project_id": "p1", "prompt": "A story about a lighthouse."}
    brief.update(changes)
    return brief


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(path):
    assert load_brief(path, DATA).project_id


def test_defaults_fill_in():
    brief = parse_brief(good())
    assert (brief.kind, brief.language, brief.chapters, brief.video.total_min_seconds) == ("document", "en", 3, 180)


MALFORMED = [
    (good(project_id="../etc"), "project_id: must not contain path separators or '..'"),
    (good(project_id="a/b"), "project_id: must not contain path separators"),
    (good(project_id="a\\b"), "project_id: must not contain path separators"),
    (good(project_id="x" * 65), "project_id: String should have at most 64 characters"),
    (good(project_id="bad\x00id"), "project_id: must not contain control characters"),
    (good(project_id="Upper"), "project_id: must be a slug"),
    (good(project_id="-leading"), "project_id: must be a slug"),
    (good(project_id="has space"), "project_id: must be a slug"),
    (good(project_id=""), "project_id: String should have at least 1 character"),
    (good(project_id=12), "project_id: Input should be a valid string"),
    ({"prompt": "x"}, "project_id: required field is missing"),
    ({"project_id": "p1"}, "prompt: required field is missing"),
    (good(prompt=""), "prompt: String should have at least 1 character"),
    (good(prompt="   "), "prompt: String should have at least 1 character"),
    (good(prompt="x" * 4001), "prompt: String should have at most 4000 characters"),
    (good(prompt="bell\x07"), "prompt: must not contain control characters"),
    (good(language="fr"), "language: unsupported language 'fr'; supported: en, zh"),
    (good(kind="poem"), "kind: Input should be 'novel', 'document' or 'video'"),
    (good(chapters=0), "chapters: Input should be greater than or equal to 1"),
    (good(chapters=51), "chapters: Input should be less than or equal to 50"),
    (good(chapters="three"), "chapters: Input should be a valid integer"),
    (good(chapter_words=10), "chapter_words: Input should be greater than or equal to 50"),
    (good(chapter_words=10**6), "chapter_words: Input should be less than or equal to 20000"),
    (good(colour="red"), "colour: unknown field"),
    (good(video={"fps": 60}), "video.fps: unknown field"),
    (good(video={"segment_min_seconds": 30, "segment_max_seconds": 20}),
     "video: segment_min_seconds must be below segment_max_seconds"),
    (good(video={"target_seconds": 1000}), "video: target_seconds (1000) must lie between"),
    (good(video={"total_min_seconds": 5}), "video.total_min_seconds: Input should be greater than or equal to 10"),
    (good(stop_at="publish_everything"), "stop_at: unknown asset 'publish_everything'"),
    (good(kind="video"), "kind 'video' needs source_text"),
    (good(source_text="Some text."), "source_text is only for kind 'video'"),
    (good(context=[{"text": "a", "file": "b.md"}]), "context.0: give exactly one of text or file"),
    (good(context=[{"title": "nothing"}]), "context.0: give exactly one of text or file"),
    (good(context=[{"file": "../../etc/passwd"}]), "context.0.file: '../../etc/passwd' leads outside the data folder"),
    (good(context=[{"file": "/etc/passwd"}]), "context.0.file: must be a relative path inside the data folder"),
    (good(context=[{"file": "sources/missing.md"}]), "context.0.file: no file 'sources/missing.md'"),
    (good(video={"logo": "../secret.png"}), "video.logo: '../secret.png' leads outside the data folder"),
    (good(outline={"title": "T", "logline": "L", "chapters": [
        {"index": 2, "title": "a", "summary": "s"}]}), "outline.chapters: chapter indexes must be 1..1 in order"),
    (good(outline={"title": "T", "logline": "L", "chapters": []}), "outline.chapters: List should have at least 1 item"),
    (good(outline={"title": "T", "chapters": [{"index": 1, "title": "a", "summary": "s"}]}),
     "outline.logline: required field is missing"),
    (good(seed=-1), "seed: Input should be greater than or equal to 0"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED, ids=[m[:40] for _, m in MALFORMED])
def test_malformed_brief_names_field_and_rule(data, message):
    with pytest.raises(BriefError) as caught:
        parse_brief(data, DATA)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_every_problem_reported_at_once():
    with pytest.raises(BriefError) as caught:
        parse_brief({"project_id": "../x", "prompt": "", "language": "fr", "extra": 1})
    fields = {p.split(":")[0] for p in caught.value.problems}
    assert fields == {"project_id", "prompt", "language", "extra"}


@pytest.mark.parametrize("data", [[], "just a string", None])
def test_not_a_mapping(data):
    with pytest.raises(BriefError, match="must be a mapping"):
        parse_brief(data)


def test_unreadable_and_broken_files(tmp_path):
    with pytest.raises(BriefError, match="cannot read the file"):
        load_brief(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("project_id: [unclosed\n")
    with pytest.raises(BriefError, match="not valid YAML"):
        load_brief(broken)
