"""compose_outline: a title, logline, chapter plans and (for novels) a story bible."""

import copy
import random
import re
from types import ModuleType

from pipeline.providers.composer.common import (
    bank,
    brief_material,
    make_rng,
    split_sentences,
    style_of,
    title_case,
    topic_phrases,
    upper_first,
)

MIN_CAST, MAX_CAST = 3, 5
MAX_TITLE = 200
MAX_SUMMARY_SENTENCES = 3
VIDEO_SUMMARY_WORDS = 60


def cast_roles(names: list[str]) -> dict[str, str]:
    """Template slots for the cast: hero, ally, rival, mentor (reusing the ally when short)."""
    hero = names[0] if names else ""
    ally = names[1] if len(names) > 1 else hero
    rival = names[2] if len(names) > 2 else ally
    mentor = names[3] if len(names) > 3 else ally
    return {"hero": hero, "ally": ally, "rival": rival, "mentor": mentor}


def with_article(phrase: str, titled: bool = False) -> str:
    """An English noun phrase ready for a sentence: 'the drowned city', but 'Tokyo'."""
    if phrase[:1].isupper():
        return title_case(phrase) if titled else phrase
    return "the " + (title_case(phrase) if titled else phrase)


def slots(brief: dict, phrases: list[str], names: list[str], index: int = 1) -> dict[str, str]:
    """The values templates are filled with for chapter `index`."""
    p0, p = phrases[0], phrases[index % len(phrases)]
    values = {"p0": p0, "p": p, "P0": p0, "P": p, "style": style_of(brief), "i": str(index)}
    if brief["language"] != "zh":
        values.update(p0=with_article(p0), p=with_article(p), P0=with_article(p0, True), P=with_article(p, True))
    values.update(cast_roles(names))
    return values


def fill(template: str, values: dict) -> str:
    """`template` filled with `values`, its first letter capitalised."""
    return upper_first(template.format(**values))


def beat_for(index: int, count: int, beats: tuple) -> dict:
    """The story or argument beat chapter `index` of `count` plays."""
    if count == 1:
        return beats[0]
    return beats[round((index - 1) * (len(beats) - 1) / (count - 1))]


def invent_names(rng: random.Random, words: ModuleType, language: str, count: int) -> list[str]:
    """`count` distinct full names in the brief's language."""
    if language == "zh":
        return [s + g for s, g in zip(rng.sample(words.SURNAMES, count), rng.sample(words.GIVEN_NAMES, count))]
    return [f"{f} {s}" for f, s in zip(rng.sample(words.FIRST_NAMES, count), rng.sample(words.LAST_NAMES, count))]


def make_cast(rng: random.Random, words: ModuleType, brief: dict, phrases: list[str]) -> list[dict]:
    """3-5 characters with distinct names, a role and a one-sentence description."""
    count = rng.randint(MIN_CAST, MAX_CAST)
    names = invent_names(rng, words, brief["language"], count)
    return [
        {"name": name, "role": words.ROLES[i],
         "description": fill(words.CHARACTER, {**slots(brief, phrases, [], i + 1), "name": name,
                                               "trait": rng.choice(words.TRAITS), "tie": rng.choice(words.TIES)})}
        for i, name in enumerate(names)
    ]


def foreshadowing(rng: random.Random, words: ModuleType, count: int) -> list[tuple[str, int, int]]:
    """(object, planted, paid off) triples: planted early, paid off in a later chapter."""
    objects = rng.sample(words.OBJECTS, max(2, min(3, count - 1)))
    if count == 1:
        return [(thing, 1, 1) for thing in objects]
    plan = []
    for k, thing in enumerate(objects):
        planted = min(k + 1, count - 1)
        plan.append((thing, planted, min(count, max(planted + 1, count - k))))
    return plan


def make_bible(rng, words, brief, phrases, cast, seeds) -> dict:
    """The story bible: characters, world, one timeline entry per chapter, foreshadowing."""
    names = [c["name"] for c in cast]
    timeline = []
    for i in range(1, brief["chapters"] + 1):
        beat = beat_for(i, brief["chapters"], words.NOVEL_BEATS)
        timeline.append(words.TIMELINE.format(i=i, event=fill(beat["event"], slots(brief, phrases, names, i))))
    world = fill(rng.choice(words.WORLD), {**slots(brief, phrases, names), "setting": rng.choice(words.SETTINGS),
                                           "Rule": rng.choice(words.RULES)})
    hints = [words.FORESHADOW.format(Object=upper_first(t), name=names[0], a=a, b=b) for t, a, b in seeds]
    return {"characters": cast, "world": world, "timeline": timeline, "foreshadowing": hints}


def unique_title(title: str, seen: set[str], words: ModuleType) -> str:
    """`title`, suffixed with a part number when an earlier chapter already has it."""
    candidate, n = title, 2
    while candidate in seen:
        candidate, n = words.CHAPTER_REPEAT.format(title=title, n=n), n + 1
    seen.add(candidate)
    return candidate[:MAX_TITLE]


def plan_chapters(rng, words, brief, phrases, names, seeds) -> list[dict]:
    """ChapterPlan dicts following the novel's story beats or the document's argument."""
    count, seen, plans = brief["chapters"], set(), []
    beats = words.NOVEL_BEATS if brief["kind"] == "novel" else words.DOC_BEATS
    for i in range(1, count + 1):
        beat, values = beat_for(i, count, beats), slots(brief, phrases, names, i)
        points = [p.format(**values) for p in rng.sample(beat["points"], rng.randint(2, 3))]
        points += [words.PAYOFF_POINT.format(object=t) for t, _, paid in seeds if paid == i][: 4 - len(points)]
        title = unique_title(fill(rng.choice(beat["titles"]), values), seen, words)
        plans.append({"index": i, "title": title, "summary": fill(beat["summary"], values), "key_points": points})
    return plans


def chunk(items: list[str], parts: int, index: int) -> list[str]:
    """The `index`-th (1-based) of `parts` contiguous, near-equal slices of `items`."""
    if not items:
        return []
    if len(items) < parts:
        return [items[(index - 1) % len(items)]]
    start, end = (index - 1) * len(items) // parts, index * len(items) // parts
    return items[start:end]


def clip_words(sentence: str, language: str) -> str:
    """A sentence cut to a summary-friendly length."""
    limit = VIDEO_SUMMARY_WORDS * (3 if language == "zh" else 1)
    return sentence[:limit] if language == "zh" else " ".join(sentence.split()[:limit])


def plan_video(words: ModuleType, brief: dict) -> list[dict]:
    """ChapterPlan dicts that follow consecutive slices of the source text."""
    language, count, seen, plans = brief["language"], brief["chapters"], set(), []
    sentences = split_sentences(brief["source_text"] or brief["prompt"], language)
    for i in range(1, count + 1):
        part = chunk(sentences, count, i)
        local = topic_phrases(" ".join(part), language, limit=4)
        head = local[0] if language == "zh" else title_case(local[0])
        summary = words.JOIN.join(clip_words(s, language) for s in part[:MAX_SUMMARY_SENTENCES])
        points = [words.VIDEO_POINT.format(p=p) for p in local[:4]]
        if len(points) < 2:
            points.append(points[0] + ("（续）" if language == "zh" else " in detail"))
        plans.append({"index": i, "title": unique_title(head, seen, words),
                      "summary": (summary or head)[:4000], "key_points": points})
    return plans


def derive_title(rng: random.Random, words: ModuleType, brief: dict, phrases: list[str]) -> str:
    """The brief's title, or one made from the prompt's main topic."""
    if brief.get("title"):
        return brief["title"]
    templates = words.NOVEL_TITLES if brief["kind"] == "novel" else words.DOC_TITLES
    return fill(rng.choice(templates), slots(brief, phrases, []))[:MAX_TITLE]


def brief_phrases(brief: dict) -> list[str]:
    """Topic phrases of the prompt (and source text); a novel's setting, usually named last, first."""
    text = brief["prompt"] + ("\n" + brief["source_text"] if brief.get("source_text") else "")
    phrases = topic_phrases(text, brief["language"])
    return phrases[-1:] + phrases[:-1] if brief["kind"] == "novel" else phrases


def compose_outline(inputs: dict) -> dict:
    """An Outline dict for `inputs["brief"]` (the brief's own outline when it carries one)."""
    brief = inputs["brief"]
    if brief.get("outline"):
        return copy.deepcopy(brief["outline"])
    words, rng = bank(brief["language"]), make_rng("outline", brief_material(brief))
    phrases = brief_phrases(brief)
    cast = make_cast(rng, words, brief, phrases) if brief["kind"] == "novel" else []
    names = [c["name"] for c in cast]
    seeds = foreshadowing(rng, words, brief["chapters"]) if cast else []
    if brief["kind"] == "video":
        chapters = plan_video(words, brief)
    else:
        chapters = plan_chapters(rng, words, brief, phrases, names, seeds)
    loglines = {"novel": words.NOVEL_LOGLINES, "document": words.DOC_LOGLINES, "video": words.VIDEO_LOGLINES}
    logline = fill(rng.choice(loglines[brief["kind"]]), slots(brief, phrases, names, 2))
    bible = make_bible(rng, words, brief, phrases, cast, seeds) if cast else None
    return {"title": derive_title(rng, words, brief, phrases), "logline": re.sub(r"\s+", " ", logline),
            "chapters": chapters, "bible": bible}
