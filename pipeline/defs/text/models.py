"""Typed artifacts of the text assets: outline, chapters, manuscript."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.rules.units import language_of, length_units

_Strict = ConfigDict(extra="forbid")


class ChapterPlan(BaseModel):
    model_config = _Strict
    index: int = Field(ge=1, le=100)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=4000)
    key_points: list[str] = Field(default_factory=list, max_length=20)


class Character(BaseModel):
    model_config = _Strict
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


class StoryBible(BaseModel):
    """What every chapter of a novel is written against."""

    model_config = _Strict
    characters: list[Character] = Field(default_factory=list, max_length=50)
    world: str = Field(default="", max_length=4000)
    timeline: list[str] = Field(default_factory=list, max_length=100)
    foreshadowing: list[str] = Field(default_factory=list, max_length=50)


class Outline(BaseModel):
    model_config = _Strict
    title: str = Field(min_length=1, max_length=200)
    logline: str = Field(min_length=1, max_length=1000)
    chapters: list[ChapterPlan] = Field(min_length=1, max_length=50)
    bible: StoryBible | None = None

    @field_validator("chapters")
    @classmethod
    def _numbered_in_order(cls, chapters: list[ChapterPlan]) -> list[ChapterPlan]:
        found = [c.index for c in chapters]
        expected = list(range(1, len(chapters) + 1))
        if found != expected:
            raise ValueError(f"chapter indexes must be 1..{len(chapters)} in order, found {found}")
        return chapters


class Source(BaseModel):
    """A numbered piece of user-given context that documents cite as [n]."""

    number: int
    title: str
    text: str
    origin: str  # "inline" or the file path relative to the data folder


class ChapterMemory(BaseModel):
    """The compact memory of earlier chapters a new chapter is written with."""

    summaries: list[str] = Field(default_factory=list)
    character_state: dict[str, str] = Field(default_factory=dict)


class MemoryNote(BaseModel):
    """What the model says a chapter leaves for the next one."""

    summary: str = Field(min_length=1, max_length=2000)
    character_state: dict[str, str] = Field(default_factory=dict)


def _body(markdown: str) -> str:
    """A chapter file's text without its `# title` line."""
    lines = markdown.strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).strip()


class Chapter(BaseModel):
    index: int
    title: str
    text: str
    summary: str
    words: int  # pipeline.rules.units.length_units: words (en) or CJK characters (zh)
    path: str  # relative to the project folder
    cited: list[int] = Field(default_factory=list)
    edited: bool = False  # the user changed the text after it was written


class Chapters(BaseModel):
    chapters: list[Chapter]
    sources: list[Source] = Field(default_factory=list)
    language: str | None = None  # the brief's; None in chapters saved before it was kept

    def with_edits(self, project_folder: Path) -> "Chapters":
        """These chapters with the text of any chapter file the user edited since it was written."""
        changed = []
        for chapter in self.chapters:
            path = project_folder / chapter.path
            text = _body(path.read_text(encoding="utf-8")) if path.exists() else chapter.text
            if text.strip() != chapter.text.strip():
                words = length_units(text, self.language or language_of(text))
                chapter = chapter.model_copy(update={"text": text, "edited": True, "words": words})
            changed.append(chapter)
        return self.model_copy(update={"chapters": changed})

    @model_validator(mode="after")
    def _ordered(self) -> "Chapters":
        if [c.index for c in self.chapters] != list(range(1, len(self.chapters) + 1)):
            raise ValueError("chapters must be numbered 1..n in order")
        return self


class Manuscript(BaseModel):
    title: str
    path: str
    words: int
    chapters: int
    references: int
