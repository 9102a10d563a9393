"""What a brief will cost before anything is spent: calls, tokens, images, seconds of speech and avatar, prices.

Tokens are approximations (about 4 characters of English, or one CJK character, per token) from the
prompts the text assets send; repairs and retries are not counted. Prices come from
`PIPELINE_PRICE_*` variables; a role served offline costs nothing, a price not set is unknown.
"""

import json
import math
import os
from pathlib import Path

from pydantic import BaseModel

from pipeline.brief import Brief
from pipeline.defs.text import prompts
from pipeline.defs.text.models import MemoryNote, Outline
from pipeline.defs.video.models import Script
from pipeline.providers.catalog import ROLES
from pipeline.providers.structured import JSON_ANSWER
from pipeline.rules.script import bounds_of, segment_count
from pipeline.rules.units import estimate_seconds, length_units
from pipeline.store import default_data_dir

PRICES = {"text_in": "PIPELINE_PRICE_TEXT_INPUT_PER_1K", "text_out": "PIPELINE_PRICE_TEXT_OUTPUT_PER_1K",
          "image": "PIPELINE_PRICE_IMAGE", "speech": "PIPELINE_PRICE_SPEECH_PER_MINUTE",
          "avatar": "PIPELINE_PRICE_AVATAR_PER_MINUTE"}
COSTED = ("text", "speech", "images", "avatar")  # the roles an estimate prices
TOKENS_PER_UNIT = {"en": 1.35, "zh": 1.0}  # tokens per word (en) or per character (zh)
PLAN_UNITS, MEMORY_UNITS, BIBLE_UNITS, SEGMENT_EXTRA_TOKENS = 60, 45, 260, 45


class PriceError(ValueError):
    """A PIPELINE_PRICE_* variable is not a non-negative number."""


class TaskEstimate(BaseModel):
    task: str
    calls: int
    tokens_in: int
    tokens_out: int


class Estimate(BaseModel):
    """Expected usage of a brief's project and its cost (None: a price is not configured)."""

    project: str
    tasks: list[TaskEstimate]
    segments: int
    images: int
    speech_seconds: float
    avatar_seconds: float
    costs: dict[str, float | None]
    offline: list[str]

    @property
    def text_calls(self) -> int:
        return sum(t.calls for t in self.tasks)

    @property
    def tokens_in(self) -> int:
        return sum(t.tokens_in for t in self.tasks)

    @property
    def tokens_out(self) -> int:
        return sum(t.tokens_out for t in self.tasks)

    @property
    def total_cost(self) -> float | None:
        values = list(self.costs.values())
        return None if any(v is None for v in values) else round(sum(values), 4)  # type: ignore[arg-type]


def tokens_of(text: str) -> int:
    """Approximate tokens of a text: ASCII at 4 characters per token, every other character one."""
    wide = sum(1 for ch in text if ord(ch) > 127)
    return math.ceil((len(text) - wide) / 4) + wide


def _schema(model: type[BaseModel]) -> int:
    return tokens_of(JSON_ANSWER.format(schema=json.dumps(model.model_json_schema(), ensure_ascii=False)))


def _source_chars(brief: Brief, data_dir: Path) -> int:
    chars = 0
    for item in brief.context:
        size = len(item.text) if item.text is not None else _file_size(data_dir / (item.file or ""))
        chars += min(size, 1500) + len(item.title or "") + 8
    return chars


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 1500


def text_tasks(brief: Brief, data_dir: Path) -> list[TaskEstimate]:
    """Calls and tokens per text task, without repairs."""
    per = TOKENS_PER_UNIT.get(brief.language, 1.35)
    system = tokens_of(prompts.SYSTEM.format(language=brief.language, style=brief.style))
    n, words = brief.chapter_count, brief.chapter_words
    if brief.kind == "video" and brief.source_text:
        words = length_units(brief.source_text, brief.language) // n
    novel = brief.kind == "novel"
    tasks = []
    if brief.outline is None and brief.kind != "video":
        outline_in = system + _schema(Outline) + tokens_of(prompts.OUTLINE) + tokens_of(brief.prompt) + 10
        outline_out = round((n * PLAN_UNITS + 40 + (BIBLE_UNITS if novel else 0)) * per)
        tasks.append(TaskEstimate(task="outline", calls=1, tokens_in=outline_in, tokens_out=outline_out))
    if brief.kind != "video":
        fixed = system + tokens_of(prompts.CHAPTER) + round((PLAN_UNITS + (BIBLE_UNITS if novel else 0)) * per)
        sources = tokens_of(prompts.CHAPTER_SOURCES) + _source_chars(brief, data_dir) // 4 if brief.context else 0
        memory = round(MEMORY_UNITS * per) * (n * (n - 1) // 2)  # chapter i reads i-1 summaries
        tasks.append(TaskEstimate(task="chapter", calls=n, tokens_in=n * (fixed + sources) + memory,
                                  tokens_out=round(n * words * per)))
    memory_in = system + _schema(MemoryNote) + tokens_of(prompts.MEMORY) + round(words * per)
    tasks.append(TaskEstimate(task="memory", calls=n, tokens_in=n * memory_in,
                              tokens_out=round(n * MEMORY_UNITS * per)))
    segments = segment_count(bounds_of(brief.video))
    rate = _speech_rate(brief.language)
    script_in = system + _schema(Script) + tokens_of(prompts.SCRIPT) + round(n * 50 * per)
    script_out = round(brief.video.target_seconds * rate * per) + segments * SEGMENT_EXTRA_TOKENS + 80
    tasks.append(TaskEstimate(task="script", calls=1, tokens_in=script_in, tokens_out=script_out))
    return tasks


def _price(name: str) -> float | None:
    variable = PRICES[name]
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise PriceError(f"{variable}={raw!r} is not a number") from None
    if value < 0 or not math.isfinite(value):
        raise PriceError(f"{variable}={raw!r} must be a non-negative number")
    return value


def _offline_roles() -> list[str]:
    """The costed roles whose chosen provider is the free default (offline, or no avatar)."""
    return [name for name in COSTED if ROLES[name].chosen() == ROLES[name].default]


def _speech_rate(language: str) -> float:
    """The speaking rate the `script` asset uses: the chosen speech provider's, with its defaults (no key needed)."""
    role = ROLES["speech"]
    # an unknown name fails the run itself; the estimate goes on with the default's rate
    engine = role.implementations.get(role.chosen(), role.implementations[role.default])
    return engine().rate(language)


def _avatar_seconds(brief: Brief, offline: list[str]) -> float:
    if "avatar" in offline or not brief.presenter.enabled:
        return 0.0
    v = brief.video
    rate = _speech_rate(brief.language)
    spoken = [estimate_seconds(t, brief.language, rate) for t in (brief.presenter.intro, brief.presenter.outro) if t]
    return round(sum(spoken) + (2 - len(spoken)) * (v.segment_min_seconds + v.segment_max_seconds) / 2, 1)


def estimate(brief: Brief, data_dir: Path | None = None) -> Estimate:
    """The expected calls, tokens, images, seconds and cost of producing `brief`'s project."""
    tasks = text_tasks(brief, data_dir or default_data_dir())
    segments = segment_count(bounds_of(brief.video))
    offline = _offline_roles()
    avatar = _avatar_seconds(brief, offline)
    speech = float(brief.video.target_seconds)
    text_in, text_out = _price("text_in"), _price("text_out")
    tokens_in, tokens_out = sum(t.tokens_in for t in tasks), sum(t.tokens_out for t in tasks)

    def cost(role: str, *amounts: tuple[float | None, float]) -> float | None:
        if role in offline:
            return 0.0
        if any(price is None for price, _ in amounts):
            return None
        return round(sum(price * qty for price, qty in amounts), 4)  # type: ignore[operator]

    costs = {"text": cost("text", (text_in, tokens_in / 1000), (text_out, tokens_out / 1000)),
             "images": cost("images", (_price("image"), segments)),
             "speech": cost("speech", (_price("speech"), speech / 60)),
             "avatar": cost("avatar", (_price("avatar"), avatar / 60))}
    return Estimate(project=brief.project_id, tasks=tasks, segments=segments, images=segments, speech_seconds=speech,
                    avatar_seconds=avatar, costs=costs, offline=offline)


def render(result: Estimate, brief: Brief) -> str:
    """A readable table of an estimate."""

    def money(role: str) -> str:
        if role in result.offline:
            return "none configured" if role == "avatar" else "free (offline)"
        value = result.costs[role]
        return "unknown" if value is None else f"{value:,.4f}"

    unit = "characters" if brief.language == "zh" else "words"
    kind = f"{brief.chapter_count} chapters of about {brief.chapter_words} {unit}"
    lines = [f"Estimate for project {result.project!r} ({brief.kind}, {brief.language}): {kind}, "
             f"a {brief.video.target_seconds} s video",
             "Approximate: repairs and retries are not counted. Nothing has been spent.", "",
             f"  {'text task':<12}{'calls':>7}{'tokens in':>12}{'tokens out':>12}"]
    for t in result.tasks:
        lines.append(f"  {t.task:<12}{t.calls:>7}{t.tokens_in:>12,}{t.tokens_out:>12,}")
    lines += [f"  {'all text':<12}{result.text_calls:>7}{result.tokens_in:>12,}{result.tokens_out:>12,}", "",
              f"  {'what':<12}{'amount':>14}   cost",
              f"  {'text':<12}{result.tokens_in + result.tokens_out:>7,} tokens   {money('text')}",
              f"  {'images':<12}{result.images:>14}   {money('images')}",
              f"  {'speech':<12}{result.speech_seconds:>12g} s   {money('speech')}",
              f"  {'avatar':<12}{result.avatar_seconds:>12g} s   {money('avatar')}",
              ""]
    if len(result.offline) == 4:
        lines.append("  total cost nothing: every provider is offline")
    elif result.total_cost is not None:
        lines.append(f"  total cost {result.total_cost:,.4f} (in the currency of the configured prices)")
    else:
        missing = [v for k, v in PRICES.items() if _price(k) is None]
        lines.append(f"  total cost unknown: set {', '.join(missing)}")
    budget = brief.budget
    for name, amount in (("tokens", result.tokens_in + result.tokens_out), ("images", result.images),
                         ("speech_seconds", result.speech_seconds)):
        limit = getattr(budget, name)
        if limit is not None and amount > limit:
            lines.append(f"  over budget.{name}: about {amount:,g} expected, the budget is {limit:,g}")
    return "\n".join(lines)
