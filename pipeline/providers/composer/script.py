"""compose_script: a narrated video script whose segment durations honour the bounds."""

import math
import random
import re
from types import ModuleType

from pipeline.providers.composer.common import (
    CITATION,
    bank,
    brief_material,
    ensure_end,
    join_list,
    make_rng,
    merge,
    shorten,
    split_sentences,
    style_of,
    topic_phrases,
    upper_first,
)
from pipeline.providers.composer.outline import brief_phrases
from pipeline.rules.script import SEGMENT, ScriptBounds, segment_count, segment_kinds
from pipeline.rules.units import estimate_seconds, speech_units

SLACK = 0.25  # a segment may run this much over or under its running goal
TOTAL_MARGIN = 0.05  # seconds kept clear of total_min / total_max against float sums
MAX_SENTENCES = 4
MIN_CUT = {"en": 3, "zh": 4}
LOOKAHEAD = 4
CLOSE_ENOUGH = 0.95  # stop adding chapter sentences at this share of the goal
PADDED = 0.9  # top up with filler sentences to at least this share of the goal
MAX_TAGS = 8
MAX_TITLE = 200


def unit_window(low: float, high: float, rate: float) -> tuple[int, int]:
    """The fewest and most speech units whose rounded duration lies within [low, high] seconds."""
    lo = max(1, math.floor(low * rate) - 2)
    while round(lo / rate, 1) < low:
        lo += 1
    hi = math.ceil(high * rate) + 2
    while hi > 0 and round(hi / rate, 1) > high:
        hi -= 1
    return lo, hi


def template_pattern(template: str) -> re.Pattern:
    """A regex matching sentences made from `template`."""
    return re.compile("^" + re.sub(r"\\\{\w+\\\}|\{\w+\}", ".+", re.escape(template)) + "$")


def narration_sentences(text: str, language: str, skip: list[re.Pattern]) -> list[str]:
    """Speakable sentences of a chapter: no citation marks, no recaps of earlier chapters."""
    clean = CITATION.sub("", text)
    return [s for s in split_sentences(clean, language) if not any(p.match(s) for p in skip)]


def fit(pool: list[str], fillers: list[str], window: tuple[int, int], goal: float,
        language: str) -> tuple[str, list[str]]:
    """1-4 sentences from `pool` (then `fillers`) within `window` and near `goal`; also the pool used."""
    lo, hi = window
    chosen, taken, count, left = [], [], 0, list(pool)
    while left and count < goal * CLOSE_ENOUGH:
        fits = [s for s in left[:LOOKAHEAD] if count + speech_units(s, language) <= hi]
        if fits:
            left.remove(fits[0])
            chosen.append(fits[0])
            taken.append(fits[0])
        elif count < lo and hi - count >= MIN_CUT[language]:
            taken.append(left[0])
            size = min(hi - count, max(MIN_CUT[language], round(goal - count)))
            chosen.append(shorten(left.pop(0), size, language))
        else:
            break
        count += speech_units(chosen[-1], language)
    spare = list(fillers)
    while count < max(lo, goal * PADDED):
        room = hi - count
        fitting = sorted((f for f in spare if speech_units(f, language) <= room),
                         key=lambda f: -speech_units(f, language))
        below_goal = [f for f in fitting if speech_units(f, language) <= max(goal - count, lo - count)]
        pick = (below_goal or fitting or [shorten(max(fillers, key=len), room, language)])[0]
        spare = [f for f in spare if f != pick] or list(fillers)
        chosen.append(pick)
        count += speech_units(pick, language)
    while len(chosen) > MAX_SENTENCES:
        k = min(range(len(chosen) - 1), key=lambda i: len(chosen[i]) + len(chosen[i + 1]))
        chosen[k:k + 2] = [merge(chosen[k], chosen[k + 1], language)]
    return bank(language).JOIN.join(chosen), taken


def image_description(language: str, kind: str, text: str, look: dict, known: list[str]) -> str:
    """What the segment's picture shows: a shot, its main subjects, a scene and the video's palette."""
    words = bank(language)
    subjects = [k for k in known if k.lower() in text.lower()] or topic_phrases(text, language, limit=2)
    motif = join_list(list(dict.fromkeys(subjects))[:2], language)
    template = {"intro": words.INTRO_IMAGE, "outro": words.OUTRO_IMAGE}.get(kind, words.IMAGE)
    return upper_first(template.format(motif=motif, **look))


def plan_segments(count: int, chapters: list[dict]) -> list[tuple[str, dict | None]]:
    """(kind, chapter) per segment: intro, chapters spread evenly over the middle, outro."""
    kinds = segment_kinds(count)
    middle = kinds.count(SEGMENT)
    return [(kind, chapters[(k - 1) * len(chapters) // middle] if kind == SEGMENT else None)
            for k, kind in enumerate(kinds)]


def pools(inputs: dict, words: ModuleType, plan: list, rng: random.Random) -> list[tuple[list[str], list[str]]]:
    """(sentences, fillers) for each planned segment."""
    brief, outline = inputs["brief"], inputs["outline"]
    language, title = brief["language"], outline["title"]
    points = {c["index"]: c.get("key_points") or [c["title"]] for c in outline["chapters"]}
    chapters = inputs.get("chapters") or []
    ends = {"title": title, "first": chapters[0]["title"] if chapters else title,
            "last": chapters[-1]["title"] if chapters else title}
    skip = [template_pattern(t) for t in (*words.CONTINUITY, words.STATE)]
    texts = {c["index"]: narration_sentences(c.get("text") or "", language, skip)
             or split_sentences(c.get("summary") or c["title"], language) for c in chapters}
    per_chapter = {c["index"]: sum(1 for _, ch in plan if ch and ch["index"] == c["index"]) for c in chapters}
    recap = [split_sentences(c.get("summary") or c["title"], language)[0] for c in chapters]
    seen, result = {i: 0 for i in texts}, []
    for kind, chapter in plan:
        if chapter is None:
            lines = words.INTRO if kind == "intro" else words.OUTRO
            pool = [line.format(**ends) for line in lines]
            pool[1:1] = split_sentences(outline["logline"], language) if kind == "intro" else recap
            kp = rng.choice(points[outline["chapters"][0]["index"]])
            fillers = [f.format(title=title, kp=kp) for f in words.SEGMENT_FILLER]
        else:
            sentences, index = texts[chapter["index"]], chapter["index"]
            start = seen[index] * len(sentences) // per_chapter[index]
            seen[index] += 1
            pool = sentences[start:] or split_sentences(chapter.get("summary") or chapter["title"], language)
            kp = rng.choice(points.get(index) or [chapter["title"]])
            fillers = [upper_first(f.format(title=chapter["title"], kp=kp)) for f in words.SEGMENT_FILLER]
        pool = list(dict.fromkeys(ensure_end(s, language) for s in pool))
        result.append((pool, rng.sample(fillers, len(fillers))))
    return result


def segment_goal(bounds: dict, rate: float, spent: float, left: int,
                 window: tuple[int, int]) -> tuple[float, tuple[int, int]]:
    """The running goal (units) of the next segment and a window that keeps the total reachable."""
    goal = (bounds["target"] - spent) / left
    after = left - 1
    shortest, longest = round(window[0] / rate, 1), round(window[1] / rate, 1)
    low = max(bounds["segment_min"], bounds["total_min"] - spent - after * longest + TOTAL_MARGIN)
    high = min(bounds["segment_max"], bounds["total_max"] - spent - after * shortest - TOTAL_MARGIN)
    for lo, hi in (unit_window(max(low, goal * (1 - SLACK)), min(high, goal * (1 + SLACK)), rate),
                   unit_window(low, high, rate), window):
        if lo <= hi:
            return min(max(goal * rate, lo), hi), (lo, hi)
    if high < shortest:  # the total is nearly used up: as short as allowed
        return window[0], (window[0], window[0])
    if low > longest:  # the total still needs more than any one segment can hold
        return window[1], (window[1], window[1])
    return min(max(goal * rate, window[0]), window[1]), window


def distinct_pictures(segments: list[dict], language: str) -> None:
    """Number repeated image descriptions so every segment asks for its own picture."""
    seen: set[str] = set()
    for segment in segments:
        mark = f" (scene {segment['index'] + 1})" if language == "en" else f"（第{segment['index'] + 1}幕）"
        if segment["image_description"] in seen:
            segment["image_description"] += mark
        seen.add(segment["image_description"])


def describe(words: ModuleType, brief: dict, outline: dict) -> tuple[str, list[str]]:
    """A 2-3 sentence description and 3-8 tags."""
    language = brief["language"]
    titles = [c["title"] for c in outline["chapters"]]
    first = (split_sentences(outline["logline"], language) or [outline["title"]])[0]
    more = [words.DESCRIPTION[0].format(count=len(titles), topics=join_list(titles[:3], language)),
            words.DESCRIPTION[1].format(style=style_of(brief))]
    tags = [t.lower() if language == "en" else t for t in brief_phrases(brief)[:5]]
    tags += list(words.TAGS[brief["kind"]])
    tags = [t for t in dict.fromkeys(tags) if t != words.FALLBACK_TOPIC][:MAX_TAGS]
    return words.JOIN.join([ensure_end(first, language), *more]), tags


def compose_script(inputs: dict) -> dict:
    """A Script dict: intro, chapter segments, outro, each segment's duration within the bounds."""
    brief, outline, bounds, rate = inputs["brief"], inputs["outline"], inputs["bounds"], float(inputs["rate"])
    language, words = brief["language"], bank(brief["language"])
    rng = make_rng("script", brief_material(brief), outline, inputs.get("chapters"), bounds, rate)
    chapters = inputs.get("chapters") or [{**c, "text": c["summary"]} for c in outline["chapters"]]
    plan = plan_segments(segment_count(ScriptBounds.model_validate(bounds)), chapters)
    window = unit_window(bounds["segment_min"], bounds["segment_max"], rate)
    look = {"palette": rng.choice(words.PALETTES), "title": outline["title"]}
    shots = rng.sample(words.SHOTS, len(words.SHOTS))
    names = [c["name"] for c in (outline.get("bible") or {}).get("characters") or []]
    known = names[:1] + brief_phrases(brief) + names[1:]
    segments, spent, spoken = [], 0.0, set()
    scenery = words.SCENES["novel" if brief["kind"] == "novel" else "document"]
    scenes = rng.sample(scenery, len(scenery))
    material = pools({**inputs, "chapters": chapters}, words, plan, rng)
    for k, ((kind, chapter), (pool, fillers)) in enumerate(zip(plan, material)):
        goal, limits = segment_goal(bounds, rate, spent, len(plan) - k, window)
        text, taken = fit([s for s in pool if s not in spoken], fillers, limits, goal, language)
        spoken.update(taken)
        duration = estimate_seconds(text, language, rate)
        spent += duration
        end_chapter = chapters[0] if kind == "intro" else chapters[-1]
        about = text + "\n" + chapter["title"] if chapter else end_chapter["title"]
        look.update(shot=shots[k % len(shots)], scene=scenes[k % len(scenes)])
        picture = image_description(language, kind, about, look, known)
        segments.append({"index": k, "kind": kind, "chapter": chapter["index"] if chapter else None,
                         "text": text, "duration": duration, "image_description": picture})
    distinct_pictures(segments, language)
    description, tags = describe(words, brief, outline)
    return {"title": outline["title"][:MAX_TITLE], "description": description, "tags": tags, "segments": segments}
