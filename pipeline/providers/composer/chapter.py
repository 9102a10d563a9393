"""compose_chapter and compose_memory: chapter bodies written against the outline and memory."""

import random
import re
from dataclasses import dataclass
from types import ModuleType

from pipeline.providers.composer.common import (
    bank,
    brief_material,
    ensure_end,
    join_list,
    lower_first,
    make_rng,
    shorten,
    split_sentences,
    strip_end,
)
from pipeline.providers.composer.outline import brief_phrases, chunk, fill, invent_names, slots
from pipeline.rules.units import language_of, length_units

FILL_LOW, FILL_HIGH, TRIM_AT = 0.97, 1.1, 1.15
MAX_TRIES = 8
PAD_STEPS = 100
PARAGRAPH_LINES = 6
CONTINUITY_SHARE = 6  # the recap takes at most 1/6 of the chapter (but never fewer than the minimum)
MIN_CONTINUITY = {"en": 10, "zh": 20}
SHORT_CONTINUITY = {"en": 6, "zh": 10}
QUOTE_UNITS = {"en": (5, 9), "zh": (8, 14)}
SHORT_QUOTE_UNITS = {"en": (3, 5), "zh": (4, 8)}
CITATION_MARK = re.compile(r"\[\d+\]|[\[\]\"“”]")


@dataclass
class Line:
    """One sentence of a chapter; optional ones are dropped first when the chapter runs long."""

    text: str
    essential: bool = True


def cast_names(outline: dict, rng: random.Random, words: ModuleType, language: str) -> list[str]:
    """Character names from the story bible, or two invented ones when it has none."""
    bible = outline.get("bible") or {}
    names = [c["name"] for c in bible.get("characters") or []]
    if names:
        return names
    return invent_names(rng, words, language, 2)


def chapter_cast(names: list[str], index: int) -> list[str]:
    """The hero plus the supporting character(s) whose turn chapter `index` is."""
    others = names[1:] or names
    return [names[0]] + [others[(index - 1 + k) % len(others)] for k in range(min(2, len(others)))]


def sources_for(sources: list[dict], index: int, count: int) -> list[dict]:
    """The sources chapter `index` of `count` cites: round-robin, so every source gets cited."""
    if not sources:
        return []
    mine = [s for k, s in enumerate(sources) if k % count == (index - 1) % count]
    return mine or [sources[(index - 1) % len(sources)]]


def quote(source: dict, rng: random.Random, sizes: dict = QUOTE_UNITS) -> str:
    """A short phrase taken word for word from the start of one of the source's sentences."""
    text = CITATION_MARK.sub("", source.get("text") or "") or source.get("title") or str(source["number"])
    language = language_of(text)
    sentences = split_sentences(text, language) or [text]
    low, high = sizes[language]
    sentence = rng.choice(sentences[:6])
    if length_units(sentence, language) > high:
        sentence = shorten(sentence, rng.randint(low, high), language)
    phrase = strip_end(sentence)
    return phrase or strip_end(text)[:40]


def foreshadow_events(outline: dict, words: ModuleType, index: int) -> list[tuple[str, str]]:
    """('plant' | 'payoff', object) for the bible's foreshadowing that touches chapter `index`."""
    events = []
    for hint in (outline.get("bible") or {}).get("foreshadowing") or []:
        found = re.match(words.FORESHADOW_PATTERN, hint)
        if not found:
            continue
        thing = lower_first(found["object"]) if words.JOIN else found["object"]
        if int(found["a"]) == index:
            events.append(("plant", thing))
        if int(found["b"]) == index:
            events.append(("payoff", thing))
    return events


def continuity(memory: dict, words: ModuleType, language: str, limit: int, rng: random.Random) -> list[Line]:
    """A recap of the previous chapter's summary, at most `limit` words (en) or characters (zh)."""
    summaries = memory.get("summaries") or []
    if not summaries:
        return []
    first = (split_sentences(summaries[-1], language) or [summaries[-1]])[0]
    if length_units(first, language) > limit:
        first = shorten(first, limit, language)
    return [Line(rng.choice(words.CONTINUITY).format(prev=strip_end(first)))]


def opening(inputs: dict, words: ModuleType, values: dict, rng: random.Random, target: int) -> list[Line]:
    """The first paragraph: recap, a character's carried state, and what this chapter is about."""
    language, plan = inputs["brief"]["language"], inputs["chapter"]
    limit = max(MIN_CONTINUITY[language], target // CONTINUITY_SHARE)
    lines = continuity(inputs.get("memory") or {}, words, language, limit, rng)
    state = ((inputs.get("memory") or {}).get("character_state") or {}).get(values["name"])
    if state and inputs["brief"]["kind"] == "novel":
        lines.append(Line(words.STATE.format(name=values["name"], state=strip_end(state)), essential=False))
    summary = split_sentences(plan["summary"], language)
    lines += [Line(ensure_end(summary[0], language), essential=False)] if summary else []
    return lines


def point_paragraphs(inputs: dict, words: ModuleType, values: dict, rng: random.Random) -> list[list[Line]]:
    """One paragraph per key point, carrying the citations and foreshadowing of this chapter."""
    brief, plan, outline = inputs["brief"], inputs["chapter"], inputs["outline"]
    novel = brief["kind"] == "novel"
    paragraphs = [[Line(fill(rng.choice(words.NOVEL_POINT if novel else words.DOC_POINT), {**values, "kp": kp}))]
                  for kp in plan.get("key_points") or []] or [[]]
    cited = sources_for(inputs.get("sources") or [], plan["index"], len(outline["chapters"]))
    for k, source in enumerate(cited):
        line = rng.choice(words.CITE).format(title=source["title"], n=source["number"], phrase=quote(source, rng))
        paragraphs[k % len(paragraphs)].append(Line(line))
    for kind, thing in foreshadow_events(outline, words, plan["index"]) if novel else []:
        template = rng.choice(words.PLANT if kind == "plant" else words.PAYOFF)
        paragraphs[0 if kind == "plant" else -1].append(Line(fill(template, {**values, "object": thing}), False))
    return paragraphs


def compact(inputs: dict, words: ModuleType, values: dict, rng: random.Random) -> list[list[Line]]:
    """The essentials in as few words as possible, for chapters too short for the full layout."""
    brief, plan, outline = inputs["brief"], inputs["chapter"], inputs["outline"]
    language = brief["language"]
    lines = continuity(inputs.get("memory") or {}, words, language, SHORT_CONTINUITY[language], rng)
    if plan.get("key_points"):
        lines.append(Line(fill(words.COMPACT_POINTS, {**values, "kps": join_list(plan["key_points"], language)})))
    for source in sources_for(inputs.get("sources") or [], plan["index"], len(outline["chapters"])):
        phrase = quote(source, rng, SHORT_QUOTE_UNITS)
        lines.append(Line(words.CITE_SHORT.format(n=source["number"], phrase=phrase)))
    return [lines]


def filler_values(values: dict, words: ModuleType, rng: random.Random, cast: list[str], kp: str) -> dict:
    """Template values for one filler sentence, varied by `rng`."""
    name = rng.choice([n for n in cast if n not in kp] or cast)
    others = [n for n in cast if n != name] or cast
    return {**values, "name": name, "other": rng.choice(others), "kp": kp, "detail": rng.choice(words.DETAILS),
            "smell": rng.choice(words.SMELLS), "sound": rng.choice(words.SOUNDS),
            "memory": rng.choice(words.MEMORIES),
            "weather": rng.choice(words.WEATHERS), "analogy": rng.choice(words.ANALOGIES),
            "cause": rng.choice(words.CAUSES)}


def total(paragraphs: list[list[Line]], language: str) -> int:
    """Length of the chapter so far, in words (en) or CJK characters (zh)."""
    return sum(length_units(line.text, language) for p in paragraphs for line in p)


def trim(paragraphs: list[list[Line]], language: str, limit: float) -> list[list[Line]]:
    """Drop optional sentences, last first, while the chapter is longer than `limit`."""
    for p_index in reversed(range(len(paragraphs))):
        for line in reversed(list(paragraphs[p_index])):
            if total(paragraphs, language) > limit and not line.essential:
                paragraphs[p_index].remove(line)
    return [p for p in paragraphs if p]


def pad(paragraphs: list[list[Line]], pool: list[str], make_sentence, language: str, target: int) -> None:
    """Add sentences (from `pool` first, then fillers) round-robin until the target length."""
    used, have = {line.text for p in paragraphs for line in p}, total(paragraphs, language)
    targets = list(range(1, len(paragraphs))) or [0]
    for turn in range(PAD_STEPS + 2 * target):
        room = target * FILL_HIGH - have
        if have >= target * FILL_LOW or room <= 0:
            return
        p_index = targets[turn % len(targets)]
        from_pool = bool(pool)
        options = [pool.pop(0)] if from_pool else [make_sentence(p_index) for _ in range(MAX_TRIES)]
        fitting = [c for c in options if length_units(c, language) <= room]
        fresh = [c for c in fitting if c not in used]
        choice = (fresh or ([] if from_pool else fitting) or [""])[0]
        if not choice and not pool and have >= target * 0.8:
            return
        if choice:
            paragraphs[p_index].append(Line(choice))
            used.add(choice)
            have += length_units(choice, language)


def reflow(paragraphs: list[list[Line]]) -> list[list[Line]]:
    """Split paragraphs longer than PARAGRAPH_LINES sentences."""
    return [p[k:k + PARAGRAPH_LINES] for p in paragraphs for k in range(0, len(p), PARAGRAPH_LINES)]


def compose_chapter(inputs: dict) -> str:
    """The Markdown body (no heading) of `inputs["chapter"]`, close to the brief's chapter_words."""
    brief, plan, outline = inputs["brief"], inputs["chapter"], inputs["outline"]
    language, words, target = brief["language"], bank(brief["language"]), brief["chapter_words"]
    rng = make_rng("chapter", brief_material(brief), outline, plan, inputs.get("memory"), inputs.get("sources"))
    cast = chapter_cast(cast_names(outline, rng, words, language), plan["index"])
    values = {**slots(brief, brief_phrases(brief), [], plan["index"]), "name": cast[0], "other": cast[-1],
              "title": plan["title"]}
    points = point_paragraphs(inputs, words, values, rng)
    closing = rng.choice(words.NOVEL_CLOSING if brief["kind"] == "novel" else words.DOC_CLOSING)
    paragraphs = [opening(inputs, words, values, rng, target), *points, [Line(fill(closing, values), False)]]
    paragraphs = trim([p for p in paragraphs if p], language, target * TRIM_AT)
    if total(paragraphs, language) > target * TRIM_AT:
        paragraphs = compact(inputs, words, values, rng)
    pool = []
    if brief["kind"] == "video" and brief.get("source_text"):
        pool = chunk(split_sentences(brief["source_text"], language), len(outline["chapters"]), plan["index"])
    templates = words.NOVEL_FILLER if brief["kind"] == "novel" else words.DOC_FILLER
    key_points = plan.get("key_points") or [values["p"]]

    def make_sentence(p_index: int) -> str:
        """A filler sentence for paragraph `p_index`, about that paragraph's key point."""
        kp = key_points[(p_index - 1) % len(key_points)]
        return fill(rng.choice(templates), filler_values(values, words, rng, cast, kp))

    pad(paragraphs, pool, make_sentence, language, target)
    return "\n\n".join(words.JOIN.join(line.text for line in p) for p in reflow(paragraphs))


def compose_memory(inputs: dict) -> dict:
    """A 1-2 sentence summary of the chapter and every character's state after it."""
    brief, plan, outline, text = inputs["brief"], inputs["chapter"], inputs["outline"], inputs["text"]
    language, words = brief["language"], bank(brief["language"])
    rng = make_rng("memory", brief_material(brief), plan, text)
    first = (split_sentences(plan["summary"], language) or [plan["title"]])[0]
    points = (plan.get("key_points") or [plan["title"]])[:2]
    summary = words.JOIN.join([ensure_end(first, language), words.MEMORY_POINTS.format(kp=words.AND.join(points))])
    if brief["kind"] != "novel":
        return {"summary": summary, "character_state": {}}
    states = dict((inputs.get("memory") or {}).get("character_state") or {})
    for character in (outline.get("bible") or {}).get("characters") or []:
        name = character["name"]
        if name in text or (language != "zh" and name.split()[0] in text.split()):
            kp = rng.choice(plan.get("key_points") or [plan["title"]])
            states[name] = words.MEMORY_STATE.format(mood=rng.choice(words.MOODS), i=plan["index"], kp=kp)
    return {"summary": summary, "character_state": states}
