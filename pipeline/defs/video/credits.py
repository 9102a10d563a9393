"""Footage credits: who made each stock clip the video shows, where it is and its licence, for the publication's
description and metadata and for the manuscript's references.

The `images` step keeps them in `images/credits.json`. The manuscript's references end with them (between
two HTML comments, so the block is replaced, never repeated): written by whichever of `manuscript` and
`publication` runs last, since the manuscript can be made before or after the images.
"""

import json
import re

from pipeline.defs.video.models import FootageCredit
from pipeline.store import ProjectFiles, atomic_write

START, END = "<!-- footage credits -->", "<!-- /footage credits -->"
_BLOCK = re.compile(re.escape("\n" + START) + ".*?" + re.escape(END) + "\n?", re.S)
HEADINGS = {"en": ("References", "Footage"), "zh": ("参考资料", "视频素材")}


def save_credits(folder: ProjectFiles, credits: list[FootageCredit]) -> None:
    atomic_write(folder.path("images", "credits.json"),
                 json.dumps([c.model_dump() for c in credits], ensure_ascii=False, indent=2) + "\n")


def load_credits(folder: ProjectFiles) -> list[FootageCredit]:
    path = folder.path("images", "credits.json")
    if not path.exists():
        return []
    return [FootageCredit.model_validate(c) for c in json.loads(path.read_text(encoding="utf-8"))]


def with_credits(manuscript: str, credits: list[FootageCredit], language: str) -> str:
    """The manuscript's text with its footage block replaced by `credits` (removed when there are none)."""
    text = _BLOCK.sub("\n", manuscript).rstrip("\n") + "\n"
    if not credits:
        return text
    references, footage = HEADINGS.get(language, HEADINGS["en"])
    lines = [START]
    if f"\n## {references}\n" not in text:
        lines += [f"## {references}", ""]
    lines += [f"### {footage}", ""] + [f"- {c.line()}" for c in credits] + [END]
    return text + "\n" + "\n".join(lines) + "\n"


def update_manuscript(folder: ProjectFiles, language: str) -> bool:
    """Write the footage credits into the project's manuscript.md, if it has one; whether it changed."""
    path = folder.path("manuscript.md")
    if not path.exists():
        return False
    before = path.read_text(encoding="utf-8")
    after = with_credits(before, load_credits(folder), language)
    if after != before:
        atomic_write(path, after)
    return after != before


def description_with_credits(description: str, credits: list[FootageCredit]) -> str:
    """A video description ending with its footage credits, as platforms ask of stock footage."""
    if not credits:
        return description
    block = "Footage:\n" + "\n".join(f"- {c.line()}" for c in credits)
    return f"{description.rstrip()}\n\n{block}" if description.strip() else block
