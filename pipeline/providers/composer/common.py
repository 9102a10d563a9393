"""Shared helpers of the composer: seeded randomness, sentences and topic phrases (counting: pipeline.rules.units)."""

import hashlib
import json
import random
import re
from types import ModuleType
from typing import Any

from pipeline.providers.composer import en, zh
from pipeline.rules.units import CJK, LATIN_WORD, cjk_count

BANKS: dict[str, ModuleType] = {"en": en, "zh": zh}
SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]+[\"'”’」』)）]*")
ENDS = ".!?。！？"
CLOSERS = "\"'”’」』)）"
CITATION = re.compile(r"\s?\[\d+\]")
EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[^\sA-Za-z]")
EN_TRAILING = re.compile(r"[\s,;:—–\-\"'“”‘’(]+$")
ZH_TRAILING = re.compile(r"[\s，、；：,;:“”‘’「」（(]+$")
# Brief fields that shape the text; project_id, stop_at and video settings must not change it.
SEED_FIELDS = ("kind", "language", "prompt", "title", "chapters", "chapter_words", "style", "seed",
               "source_text", "context", "outline")
ZH_DEFAULT_STYLE = "清晰生动"
MAX_PHRASE_WORDS = 3
MAX_ZH_PHRASE = 6


def bank(language: str) -> ModuleType:
    """The word bank of `language` (English when unknown)."""
    return BANKS.get(language, en)


def make_rng(task: str, *parts: Any) -> random.Random:
    """A private Random seeded with the sha256 of the task and its inputs."""
    material = json.dumps([task, *parts], sort_keys=True, ensure_ascii=False, default=str)
    return random.Random(int(hashlib.sha256(material.encode("utf-8")).hexdigest(), 16))


def brief_material(brief: dict) -> dict:
    """The part of a brief that decides the text."""
    return {key: brief.get(key) for key in SEED_FIELDS}


def ensure_end(sentence: str, language: str) -> str:
    """`sentence` stripped, ending with sentence punctuation."""
    sentence = sentence.strip()
    if sentence.rstrip(CLOSERS)[-1:] in tuple(ENDS):
        return sentence
    trailing = ZH_TRAILING if language == "zh" else EN_TRAILING
    return trailing.sub("", sentence) + bank(language).STOP


def split_sentences(text: str, language: str) -> list[str]:
    """Sentences of `text` (markdown headings dropped), each ending with punctuation."""
    body = " ".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"[*_`>]+", "", body)
    found, end = [], 0
    for match in SENTENCE.finditer(body):
        found.append(match.group().strip())
        end = match.end()
    tail = body[end:].strip()
    if tail and (CJK.search(tail) or LATIN_WORD.search(tail)):
        found.append(ensure_end(tail, language))
    return [s for s in found if CJK.search(s) or LATIN_WORD.search(s)]


def strip_end(sentence: str) -> str:
    """`sentence` without its closing punctuation, for embedding in another sentence."""
    return sentence.strip().rstrip(ENDS + CLOSERS + " ").strip()


def title_case(phrase: str) -> str:
    """Capitalise each word of an English phrase."""
    return " ".join(w[:1].upper() + w[1:] for w in phrase.split())


def upper_first(text: str) -> str:
    """`text` with its first character upper-cased."""
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """`text` with its first character lower-cased."""
    return text[:1].lower() + text[1:]


def _en_phrases(text: str) -> list[str]:
    """Runs of content words between stopwords and punctuation; proper nouns keep their capitals."""
    tokens = EN_TOKEN.findall(re.sub(r"\n+", " . ", text))
    proper = {t for k, t in enumerate(tokens) if k and t[:1].isupper() and tokens[k - 1] not in ".!?"}
    runs, current, start = [], [], True
    for token in tokens:
        word = token.strip("'’-")
        if not word or not word[0].isalpha() or word.lower() in en.STOPWORDS or len(word) < 3:
            if current:
                runs.append(current)
            current, start = [], token in ".!?"
            continue
        current.append(word if word[0].isupper() and (not start or word in proper) else word.lower())
        start = False
    if current:
        runs.append(current)
    return [" ".join(run[:MAX_PHRASE_WORDS]) for run in runs]


def _zh_phrases(text: str) -> list[str]:
    """Chunks of CJK text between particles, verbs and punctuation."""
    chunks = re.split(zh.PHRASE_SPLIT, text)
    return [c[-MAX_ZH_PHRASE:] for c in chunks if cjk_count(c) >= 2 and cjk_count(c) == len(c)]


def topic_phrases(text: str, language: str, limit: int = 8) -> list[str]:
    """Distinct topic phrases of `text`, in order of appearance."""
    found = _zh_phrases(text) if language == "zh" else _en_phrases(text)
    unique: list[str] = []
    for phrase in found:
        if phrase.lower() not in {u.lower() for u in unique}:
            unique.append(phrase)
    return unique[:limit] or [bank(language).FALLBACK_TOPIC]


def style_of(brief: dict) -> str:
    """The brief's style, in Chinese for Chinese briefs when it was given in English."""
    style = brief.get("style") or ""
    if brief.get("language") == "zh" and not CJK.search(style):
        return ZH_DEFAULT_STYLE
    return style


def shorten(sentence: str, units: int, language: str) -> str:
    """The first `units` words (en) or CJK characters (zh) of `sentence`, closed as a sentence."""
    units = max(1, units)
    if language == "zh":
        kept, seen = [], 0
        for char in strip_end(sentence):
            if CJK.match(char):
                if seen == units:
                    break
                seen += 1
            kept.append(char)
        text = at_clause("".join(kept), "，；：", seen // 2 if seen == units else 0)
        return ZH_TRAILING.sub("", text).replace("“", "").replace("”", "") + zh.STOP
    words = strip_end(sentence).split()
    if len(words) > units:
        words = at_clause(" ".join(words[:units]), ",;:", units // 2).split()
        while len(words) > 1 and words[-1].lower().strip(",;:") in en.STOPWORDS:
            words.pop()
    return EN_TRAILING.sub("", " ".join(words)).replace('"', "") + en.STOP


def at_clause(text: str, marks: str, keep: int) -> str:
    """`text` cut after its last clause mark, if at least `keep` units come before it (0: no cut)."""
    cut = max(text.rfind(mark) for mark in marks)
    head = text[:cut]
    if keep and cut > 0 and max(cjk_count(head), len(head.split())) >= keep:
        return head
    return text


def merge(first: str, second: str, language: str) -> str:
    """Two sentences joined into one (en: with a semicolon; zh: with a comma)."""
    head = first.rstrip(CLOSERS).rstrip(ENDS)
    if language == "zh":
        return head + "，" + second
    word = second.split()[0].lower() if second.split() else ""
    return head + "; " + (lower_first(second) if word in en.STOPWORDS else second)


def join_list(items: list[str], language: str) -> str:
    """'a, b and c' (en) or 'a、b与c' (zh)."""
    words = bank(language)
    if len(items) <= 1:
        return "".join(items)
    return words.LIST_SEP.join(items[:-1]) + words.AND + items[-1]
