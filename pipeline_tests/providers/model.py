"""What the fake chat endpoint answers: read the pipeline's prompts the way a model would."""

import json
import re

_WORDS = ("the old clock in the square turned back an hour while the quiet town slept and "
          "the apprentice watched its gears with a lamp in hand and wondered why").split()


def prose(words: int, seed: int = 0) -> str:
    """`words` words of plain sentences, eight words each."""
    out = [_WORDS[(seed + i) % len(_WORDS)] for i in range(max(1, words))]
    sentences = [" ".join(out[i:i + 8]) for i in range(0, len(out), 8)]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)


def _outline(prompt: str) -> dict:
    count = int(re.search(r"Chapters: exactly (\d+)", prompt).group(1))
    brief = re.search(r"Brief: (.*)", prompt).group(1)
    chapters = [{"index": i, "title": f"The {['First', 'Second', 'Third', 'Fourth'][(i - 1) % 4]} Night {i}",
                 "summary": f"Part {i} of the story: {brief[:80]}", "key_points": [f"clue {i}", f"turn {i}"]}
                for i in range(1, count + 1)]
    answer = {"title": "The Backward Clock", "logline": brief[:120], "chapters": chapters}
    if "Plan a novel" in prompt:
        answer["bible"] = {"characters": [{"name": "Ada", "role": "apprentice", "description": "curious"}],
                           "world": "a small town", "timeline": ["night one"], "foreshadowing": ["the bell"]}
    return answer


def _script(prompt: str) -> dict:
    numbers = r"([\d.]+)"
    rate = float(re.search(rf"at {numbers} (?:words|characters) per second", prompt).group(1))
    bounds = re.search(rf"Every segment lasts {numbers}-{numbers} s;\s+the total is {numbers}-{numbers} s, "
                       rf"aiming at {numbers} s", prompt)
    seg_min, seg_max, _, _, target = map(float, bounds.groups())
    chapters = re.findall(r"^(\d+)\. ([^:\n]+):", prompt.split("Chapters:", 1)[1].split("Rules:", 1)[0], re.M)
    count = max(3, round(target / ((seg_min + seg_max) / 2)))
    duration = round(min(seg_max, max(seg_min, target / count)), 1)
    segments = []
    for i in range(count):
        kind = "intro" if i == 0 else "outro" if i == count - 1 else "segment"
        chapter = int(chapters[(i - 1) % len(chapters)][0]) if kind == "segment" and chapters else None
        segments.append({"index": i, "kind": kind, "chapter": chapter, "duration": duration,
                         "text": prose(round(duration * rate), seed=i * 5),
                         "image_description": f"A clock tower at night, scene {i}, warm lamplight"})
    title = re.search(r"Title: (.*)", prompt).group(1)
    return {"title": title, "description": "A short narrated story.", "tags": ["story", "clock"],
            "segments": segments}


def chat_answer(system: str, prompt: str) -> str:
    """The answer a well-behaved model would give to one of the pipeline's prompts."""
    if prompt.startswith("Plan a "):
        return json.dumps(_outline(prompt))
    if prompt.startswith("Adapt this "):
        return json.dumps(_script(prompt))
    if prompt.startswith("Summarise chapter"):
        index = int(re.search(r"Summarise chapter (\d+)", prompt).group(1))
        return json.dumps({"summary": f"In chapter {index} the clock ran backwards again.",
                           "character_state": {"Ada": f"puzzled after chapter {index}"}})
    if prompt.startswith("Write chapter "):
        index = int(re.search(r"Write chapter (\d+)", prompt).group(1))
        return prose(60, seed=index) + "\n\n" + prose(40, seed=index + 3)
    return "OK."
