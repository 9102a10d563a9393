"""Text assets through Dagster: user outlines used as is, a user's text as chapters, cited sources."""

import json

from pipeline.defs.text.models import Chapter, Chapters
from pipeline.rules.units import length_units
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize

TEXT = ["brief", "outline", "chapters", "manuscript"]


def test_user_outline_is_used_as_is(data_dir):
    outline = {"title": "My Own Plan", "logline": "Exactly as I wrote it.", "chapters": [
        {"index": 1, "title": "Start Here", "summary": "Where it begins.", "key_points": ["a first step"]},
        {"index": 2, "title": "End There", "summary": "Where it ends.", "key_points": []}]}
    brief = small_brief("own-outline", kind="document", outline=outline)
    CALLS.clear()
    assert materialize(brief, data_dir, TEXT).success
    saved = json.loads(ProjectFiles(data_dir, brief.project_id).path("outline.json").read_text())
    assert saved["title"] == "My Own Plan" and [c["title"] for c in saved["chapters"]] == ["Start Here", "End There"]
    assert "text:outline" not in CALLS and CALLS["text:chapter"] == 2


def test_video_from_the_users_text(data_dir):
    paragraphs = [f"Paragraph {n} explains one idea in plain words. It has a second sentence too." for n in range(6)]
    brief = small_brief("own-text", kind="video", chapters=3, source_text="\n\n".join(paragraphs))
    CALLS.clear()
    assert materialize(brief, data_dir, [*TEXT, "script"]).success
    chapters = json.loads(ProjectFiles(data_dir, brief.project_id).path("chapters.json").read_text())["chapters"]
    assert len(chapters) == 3
    assert "\n\n".join(c["text"] for c in chapters) == "\n\n".join(paragraphs)
    assert "text:chapter" not in CALLS and "text:outline" not in CALLS and CALLS["text:script"] == 1


def test_document_cites_numbered_sources(data_dir):
    brief = small_brief("cited", kind="document", chapters=2, context=[
        {"title": "Clock notes", "file": "sources/vector-clocks.md"},
        {"title": "Inline note", "text": "Hybrid logical clocks keep timestamps close to physical time."}])
    assert materialize(brief, data_dir, TEXT).success
    files = ProjectFiles(data_dir, brief.project_id)
    chapters = json.loads(files.path("chapters.json").read_text())
    assert [s["origin"] for s in chapters["sources"]] == ["sources/vector-clocks.md", "inline"]
    assert sorted({n for c in chapters["chapters"] for n in c["cited"]}) == [1, 2]
    manuscript = files.path("manuscript.md").read_text()
    assert "## References" in manuscript and "[1] Clock notes (sources/vector-clocks.md)" in manuscript
    assert "## Contents" in manuscript


def test_an_edited_chinese_chapter_counts_words_as_when_it_was_written(tmp_path):
    (tmp_path / "chapters").mkdir()
    text = "钟表匠修好了钟。"
    written = Chapters(language="zh", chapters=[Chapter(index=1, title="一", text=text, summary="s",
                                                        words=length_units(text, "zh"), path="chapters/01.md")])
    assert written.chapters[0].words == 7  # CJK characters, no punctuation
    (tmp_path / "chapters" / "01.md").write_text("# 一\n\n钟表匠修好了那座老钟，AI 也来帮忙。\n", encoding="utf-8")
    edited = written.with_edits(tmp_path).chapters[0]
    assert edited.edited and edited.words == 14 == length_units(edited.text, "zh")
    # chapters saved before `language` was kept still load, and the text tells the language
    old = Chapters.model_validate_json(written.model_dump_json(exclude={"language"}))
    assert old.language is None and old.with_edits(tmp_path).chapters[0].words == 14
