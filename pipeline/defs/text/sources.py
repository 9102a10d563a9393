"""Numbered sources from a brief's context, and a user's own text split into chapters."""

import re

from pipeline.brief import Brief
from pipeline.defs.common import failure, unreadable
from pipeline.defs.text.models import ChapterPlan, Outline, Source
from pipeline.documents import read_context_file


def collect_sources(brief: Brief, data_dir: str) -> list[Source]:
    """The brief's context as numbered sources: inline text, or files under the data folder.

    A file that cannot be read (it changed since the brief was checked) fails the step with INPUT_UNREADABLE.
    """
    sources = []
    for number, item in enumerate(brief.context, start=1):
        if item.file is not None:
            try:
                text = read_context_file(data_dir, item.file, f"context.{number - 1}.file")
            except ValueError as e:
                raise failure(unreadable(e, "chapters")) from e
            origin = item.file
        else:
            text, origin = item.text or "", "inline"
        sources.append(Source(number=number, title=item.title or origin, text=text.strip(), origin=origin))
    return sources


def split_source_text(text: str, parts: int) -> list[str]:
    """The user's text in about `parts` pieces of similar length, cut between paragraphs."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    parts = max(1, min(parts, len(paragraphs)))
    target = sum(len(p) for p in paragraphs) / parts
    pieces: list[list[str]] = [[]]
    size = 0
    for paragraph in paragraphs:
        if pieces[-1] and size >= target and len(pieces) < parts:
            pieces.append([])
            size = 0
        pieces[-1].append(paragraph)
        size += len(paragraph)
    return ["\n\n".join(p) for p in pieces]


def _first_sentence(text: str, limit: int = 80) -> str:
    sentence = re.split(r"(?<=[.!?。！？])\s*", text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def outline_from_text(brief: Brief) -> Outline:
    """An outline whose chapters are the pieces of the user's own text (kind 'video')."""
    pieces = split_source_text(brief.source_text or "", brief.chapters)
    chapters = [
        ChapterPlan(index=n, title=_first_sentence(piece, 60), summary=_first_sentence(piece, 400))
        for n, piece in enumerate(pieces, start=1)
    ]
    title = brief.title or _first_sentence(brief.prompt, 100)
    return Outline(title=title, logline=_first_sentence(brief.prompt, 400), chapters=chapters)
