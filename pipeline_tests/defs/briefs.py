"""Small briefs that go through the whole pipeline in seconds."""

from pipeline.brief import Brief, parse_brief

SHORT_VIDEO = {"target_seconds": 30, "segment_min_seconds": 4, "segment_max_seconds": 12,
               "total_min_seconds": 20, "total_max_seconds": 60}
# about 40 cues: narration lasts long enough for a cancel or a kill to land in the middle of it
LONGER_VIDEO = {"target_seconds": 150, "segment_min_seconds": 4, "segment_max_seconds": 12,
                "total_min_seconds": 100, "total_max_seconds": 200}


def small_brief(project_id: str = "small-en", language: str = "en", **changes) -> Brief:
    data = {
        "project_id": project_id, "language": language, "kind": "novel", "chapters": 2, "chapter_words": 120,
        "prompt": "A clockmaker's apprentice discovers that the town clock runs backwards at night."
        if language == "en" else "一个钟表匠的学徒发现，小镇的钟楼每到夜里就会倒着走。",
        "video": SHORT_VIDEO,
    }
    data.update(changes)
    return parse_brief(data)
