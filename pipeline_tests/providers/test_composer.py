"""The offline composer: valid shapes, determinism, lengths, citations, memory and script timing."""

import re

import pytest

from pipeline.brief import parse_brief
from pipeline.defs.text.models import ChapterMemory, Outline
from pipeline.defs.video.models import Script
from pipeline.providers.composer import (
    compose_chapter,
    compose_memory,
    compose_outline,
    compose_script,
    estimate_seconds,
)
from pipeline.rules.script import ScriptBounds

PROMPTS = {
    ("en", "novel"): "A lighthouse keeper discovers a map to a drowned city.",
    ("en", "document"): "Write a practical guide to home solar panels and battery storage.",
    ("zh", "novel"): "一位灯塔看守人发现了一张通往沉没之城的地图。",
    ("zh", "document"): "写一篇关于家用太阳能电池板和储能电池的实用指南。",
}
SOURCES = [
    {"number": 1, "title": "Energy Report", "origin": "inline",
     "text": "Solar panels convert sunlight into electricity with no moving parts. Output falls in winter."},
    {"number": 2, "title": "Grid Notes", "origin": "notes/grid.md",
     "text": "Home batteries can cut peak demand by a third. Installers size them for one day of use."},
    {"number": 3, "title": "储能手册", "origin": "inline",
     "text": "储能电池可以把白天多余的电留到晚上使用。电池寿命通常在十年左右。"},
]
CJK = re.compile(r"[\u4e00-\u9fff]")
SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]+[\"'”’」』)）]*")
CITED = re.compile(r"[\"“]([^\"“”]+)[\"”] ?\[(\d+)\]")


def make_brief(language: str = "en", kind: str = "novel", **fields) -> dict:
    """A validated brief as the composer receives it."""
    data = {"project_id": "demo", "language": language, "kind": kind, "prompt": PROMPTS[(language, kind)]}
    return parse_brief({**data, **fields}).model_dump()


def write_book(brief: dict, sources: list[dict] = ()) -> tuple[dict, list[dict], list[dict]]:
    """Outline, chapters ({index, title, summary, text}) and the memory after each chapter."""
    outline = compose_outline({"brief": brief})
    memory, chapters, memories = {"summaries": [], "character_state": {}}, [], []
    for plan in outline["chapters"]:
        text = compose_chapter({"brief": brief, "outline": outline, "chapter": plan, "memory": memory,
                                "sources": list(sources)})
        after = compose_memory({"brief": brief, "outline": outline, "chapter": plan, "text": text,
                                "memory": memory})
        memory = {"summaries": memory["summaries"] + [after["summary"]], "character_state": after["character_state"]}
        chapters.append({"index": plan["index"], "title": plan["title"], "summary": after["summary"], "text": text})
        memories.append(memory)
    return outline, chapters, memories


def units(text: str, language: str) -> int:
    """Words (en) or CJK characters (zh), as a reader counts them."""
    return len(CJK.findall(text)) if language == "zh" else len(text.split())


def sentences(text: str) -> list[str]:
    """Sentences as downstream code splits them."""
    return [s.strip() for s in SENTENCE.findall(text)]


def all_strings(value) -> list[str]:
    """Every string inside a nested dict/list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("kind", ["novel", "document"])
def test_outline_validates_and_follows_the_brief(language, kind):
    brief = make_brief(language, kind, chapters=4)
    outline = Outline.model_validate(compose_outline({"brief": brief}))
    assert [c.index for c in outline.chapters] == [1, 2, 3, 4]
    for chapter in outline.chapters:
        assert 2 <= len(chapter.key_points) <= 4
        assert 1 <= len(sentences(chapter.summary)) <= 3
    if kind == "novel":
        assert 3 <= len(outline.bible.characters) <= 5
        assert all(c.name and c.role and c.description for c in outline.bible.characters)
        assert outline.bible.world and len(outline.bible.timeline) == 4 and outline.bible.foreshadowing
    else:
        assert outline.bible is None


def test_outline_title_comes_from_the_brief_or_the_prompt():
    assert compose_outline({"brief": make_brief(title="Salt and Stone")})["title"] == "Salt and Stone"
    derived = compose_outline({"brief": make_brief()})["title"].lower()
    assert any(word in derived for word in ("lighthouse", "drowned", "city", "map"))
    assert "太阳能" in compose_outline({"brief": make_brief("zh", "document")})["title"]


@pytest.mark.parametrize("kind", ["novel", "document"])
def test_chinese_outline_is_chinese_throughout(kind):
    outline = compose_outline({"brief": make_brief("zh", kind)})
    assert all(CJK.search(s) for s in all_strings(outline))
    for character in (outline["bible"] or {}).get("characters", []):
        assert all(CJK.match(ch) for ch in character["name"])


def test_video_outline_follows_the_source_text():
    source = ("Tidal power turns the motion of tides into electricity. It is predictable. "
              "Barrages and stream turbines are the two main designs. Environmental effects are debated.")
    brief = parse_brief({"project_id": "v", "kind": "video", "prompt": "Summarise the article",
                         "source_text": source, "chapters": 2}).model_dump()
    outline = Outline.model_validate(compose_outline({"brief": brief}))
    assert outline.bible is None
    assert "Tidal power" in outline.chapters[0].summary and "Barrages" in outline.chapters[1].summary


@pytest.mark.parametrize("language", ["en", "zh"])
def test_same_brief_gives_the_same_text_and_another_seed_does_not(language):
    brief = make_brief(language, chapters=2, chapter_words=200)
    first, again = write_book(brief), write_book(brief)
    assert first == again
    bounds = {"segment_min": 5, "segment_max": 20, "total_min": 60, "total_max": 200, "target": 90}
    script = [compose_script({"brief": brief, "outline": first[0], "chapters": first[1], "bounds": bounds,
                              "rate": 2.5}) for _ in range(2)]
    assert script[0] == script[1]
    other = write_book({**brief, "seed": 7})
    assert other[0] != first[0] and other[1][0]["text"] != first[1][0]["text"]


def test_project_id_does_not_change_the_text():
    assert write_book(make_brief(chapter_words=120)) == write_book(make_brief(chapter_words=120, project_id="other"))


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("kind", ["novel", "document"])
@pytest.mark.parametrize("words", [80, 400, 1500])
def test_chapter_length_is_close_to_chapter_words(language, kind, words):
    brief = make_brief(language, kind, chapters=3, chapter_words=words)
    _, chapters, _ = write_book(brief, SOURCES if kind == "document" else ())
    for chapter in chapters:
        assert 0.75 * words <= units(chapter["text"], language) <= 1.25 * words


@pytest.mark.parametrize("kind", ["novel", "document"])
def test_chinese_chapters_have_no_ascii_only_sentences(kind):
    _, chapters, memories = write_book(make_brief("zh", kind, chapter_words=300), SOURCES)
    for chapter in chapters:
        assert chapter["text"].strip() and not chapter["text"].startswith("#")
        found = sentences(chapter["text"])
        assert found and all(CJK.search(s) for s in found)
        assert all(CJK.search(s) for s in memories[-1]["summaries"])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_sentence_ends_with_punctuation(language):
    _, chapters, _ = write_book(make_brief(language, "document", chapter_words=250), SOURCES)
    for chapter in chapters:
        for paragraph in chapter["text"].split("\n\n"):
            assert "".join(sentences(paragraph)).replace(" ", "") == paragraph.replace(" ", "")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_chapters_use_key_points_characters_and_the_previous_summary(language):
    brief = make_brief(language, chapters=3, chapter_words=400)
    outline, chapters, memories = write_book(brief)
    names = [c["name"] for c in outline["bible"]["characters"]]
    for plan, chapter in zip(outline["chapters"], chapters):
        assert all(point in chapter["text"] for point in plan["key_points"])
        assert any(name in chapter["text"] for name in names)
    recap = sentences(memories[0]["summaries"][0])[0].rstrip(".。")
    assert recap in chapters[1]["text"]


def test_continuity_quotes_a_given_memory():
    brief = make_brief(chapters=2, chapter_words=300)
    outline = compose_outline({"brief": brief})
    memory = {"summaries": ["Mara found the map under the floor."], "character_state": {}}
    text = compose_chapter({"brief": brief, "outline": outline, "chapter": outline["chapters"][1],
                            "memory": memory, "sources": []})
    assert "Mara found the map under the floor" in text


def test_novels_pay_off_their_foreshadowing():
    outline, chapters, _ = write_book(make_brief(chapters=4, chapter_words=500))
    for hint in outline["bible"]["foreshadowing"]:
        found = re.match(r"^(.+?), first noticed by .+ paid off in chapter (\d+)\)", hint)
        thing = found[1][0].lower() + found[1][1:]
        assert thing in chapters[int(found[2]) - 1]["text"]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("chapter_count", [2, 3, 5])
def test_documents_cite_every_source_with_a_phrase_from_it(language, chapter_count):
    brief = make_brief(language, "document", chapters=chapter_count, chapter_words=300)
    _, chapters, _ = write_book(brief, SOURCES)
    texts = {s["number"]: s["text"] for s in SOURCES}
    cited = set()
    for chapter in chapters:
        quotes = CITED.findall(chapter["text"])
        assert quotes, chapter["text"]
        for phrase, number in quotes:
            assert phrase in texts[int(number)]
            cited.add(int(number))
    assert cited == set(texts)


def test_memory_carries_character_state_forward():
    brief = make_brief(chapters=3, chapter_words=300)
    outline = compose_outline({"brief": brief})
    plan = outline["chapters"][1]
    earlier = {"summaries": ["Something happened."], "character_state": {"Old Friend": "lost at sea"}}
    text = compose_chapter({"brief": brief, "outline": outline, "chapter": plan, "memory": earlier, "sources": []})
    after = compose_memory({"brief": brief, "outline": outline, "chapter": plan, "text": text, "memory": earlier})
    state = ChapterMemory(summaries=[after["summary"]], character_state=after["character_state"]).character_state
    assert state["Old Friend"] == "lost at sea"
    present = [c["name"] for c in outline["bible"]["characters"] if c["name"] in text]
    assert present and all("chapter 2" in state[name] for name in present)
    assert 1 <= len(sentences(after["summary"])) <= 2


def test_memory_of_a_document_has_no_characters():
    brief = make_brief(kind="document", chapter_words=150)
    _, _, memories = write_book(brief, SOURCES)
    assert memories[-1]["character_state"] == {} and len(memories[-1]["summaries"]) == 3


@pytest.mark.parametrize(
    ("language", "target", "segment_min", "segment_max", "total_min", "total_max", "rate"),
    [
        ("en", 30, 5, 12, 20, 60, 2.5),
        ("en", 240, 5, 20, 180, 600, 2.5),
        ("zh", 240, 5, 20, 180, 600, 4.5),
        ("zh", 30, 5, 12, 20, 60, 4.0),
        ("en", 60, 3, 8, 40, 90, 2.2),
        ("en", 600, 10, 30, 400, 900, 2.8),
        ("en", 100, 2, 4, 80, 120, 2.5),
        ("zh", 180, 15, 40, 120, 200, 5.0),
    ],
)
@pytest.mark.parametrize("kind", ["novel", "document"])
def test_script_honours_the_bounds(language, target, segment_min, segment_max, total_min, total_max, rate, kind):
    brief = make_brief(language, kind, chapters=3, chapter_words=250)
    outline, chapters, _ = write_book(brief, SOURCES if kind == "document" else ())
    bounds = ScriptBounds(segment_min=segment_min, segment_max=segment_max, total_min=total_min,
                          total_max=total_max, target=target).model_dump()
    script = Script.model_validate(compose_script(
        {"brief": brief, "outline": outline, "chapters": chapters, "bounds": bounds, "rate": rate}))
    kinds = [s.kind for s in script.segments]
    assert kinds[0] == "intro" and kinds[-1] == "outro" and set(kinds[1:-1]) == {"segment"}
    assert [s.index for s in script.segments] == list(range(len(kinds)))
    assert {s.chapter for s in script.segments[1:-1]} <= {1, 2, 3} and script.segments[0].chapter is None
    for segment in script.segments:
        assert segment_min <= segment.duration <= segment_max
        assert abs(segment.duration - estimate_seconds(segment.text, language, rate)) <= 0.1
        assert 1 <= len(sentences(segment.text)) <= 4
        assert "".join(sentences(segment.text)).replace(" ", "") == segment.text.replace(" ", "")
        if language == "zh":
            assert all(CJK.search(s) for s in sentences(segment.text)) and CJK.search(segment.image_description)
    assert total_min <= script.total_seconds <= total_max
    assert abs(script.total_seconds - target) <= 0.15 * target
    assert len({s.image_description for s in script.segments}) == len(script.segments)
    assert 3 <= len(script.tags) <= 8 and 2 <= len(sentences(script.description)) <= 3


def test_script_segments_come_from_the_chapters():
    brief = make_brief(chapters=3, chapter_words=300)
    outline, chapters, _ = write_book(brief)
    bounds = {"segment_min": 5, "segment_max": 20, "total_min": 180, "total_max": 600, "target": 240}
    script = compose_script({"brief": brief, "outline": outline, "chapters": chapters, "bounds": bounds, "rate": 2.5})
    for segment in script["segments"][1:-1]:
        source = chapters[segment["chapter"] - 1]["text"]
        assert any(s in source for s in sentences(segment["text"]))
    assert {s["chapter"] for s in script["segments"][1:-1]} == {1, 2, 3}
    assert "[" not in "".join(s["text"] for s in script["segments"])


def test_estimate_seconds_counts_words_or_characters():
    assert estimate_seconds("one two three four five", "en", 2.0) == 2.5
    assert estimate_seconds("你好世界，AI 来了。", "zh", 2.0) == 3.5  # 6 characters + 1 word
    with pytest.raises(ValueError):
        estimate_seconds("text", "en", 0)
