"""What a project has spent, call by call, and the brief's budget that stops it.

The ledger `<project>/usage.json` holds one record per provider call, keyed by the asset and the
call's inputs: a retried or re-executed step that makes the same call again replaces its record, so
nothing is counted twice, and items reused from checkpoints make no call and cost nothing. A step
stops with a permanent failure at its first call after the project passed a limit (images: before
the image that would pass it), and at its end if it passed one. An asset meters its providers by
wrapping them (`Meter.text`, `.speech`, `.images`): the wrapper keeps the provider's type and answers
everything the provider answers. The same wrappers report each call when the brief is verbose
(pipeline/calls.py).
"""

import contextlib
import fcntl
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import dagster as dg
from pydantic import BaseModel

from pipeline.brief import Brief, Budget
from pipeline.calls import CallLog
from pipeline.defs.common import failure
from pipeline.failure import Problem
from pipeline.providers.avatar import AvatarProvider
from pipeline.providers.images import ImageProvider
from pipeline.providers.publisher import Publisher
from pipeline.providers.speech import SpeechProvider, SpeechResult
from pipeline.providers.text import TextProvider, TextRequest, TextResponse
from pipeline.store import ProjectFiles, atomic_write, item_key

LEDGER = "usage.json"
# budget field -> (what it measures, its unit)
LIMITS = {"tokens": "tokens", "images": "images", "speech_seconds": "seconds of speech"}


class Usage(BaseModel):
    """Units of paid work."""

    tokens_in: int = 0
    tokens_out: int = 0
    text_calls: int = 0
    images: int = 0
    speech_seconds: float = 0.0
    avatar_seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in Usage.model_fields})

    def amount(self, limit: str) -> float:
        """The measure a budget field limits."""
        return float(getattr(self, limit))

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in self.model_dump().items()}


def exceeded(budget: Budget, total: Usage) -> list[str]:
    """The budget fields `total` is over."""
    return [name for name in LIMITS if (limit := getattr(budget, name)) is not None and total.amount(name) > limit]


class Ledger:
    """One project's usage records `{asset: {call key: Usage}}`, changed under a file lock, written atomically."""

    def __init__(self, files: ProjectFiles):
        self.path = files.path(LEDGER)
        self._lock_path = files.path(f".{LEDGER}.lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, dict[str, Usage]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {asset: {key: Usage(**u) for key, u in calls.items()} for asset, calls in raw.get("assets", {}).items()}

    def record(self, asset: str, key: str, usage: Usage) -> None:
        """Store the usage of one call, replacing an earlier record of the same call."""
        with self._locked():
            records = self._read()
            records.setdefault(asset, {})[key] = usage
            data = {"totals": {a: _sum(calls.values()).rounded() for a, calls in records.items()},
                    "assets": {a: {k: u.model_dump(exclude_defaults=True) for k, u in calls.items()}
                               for a, calls in records.items()}}
            atomic_write(self.path, json.dumps(data, indent=1))

    def per_asset(self) -> dict[str, Usage]:
        """Each asset's total."""
        with self._locked():
            return {asset: _sum(calls.values()) for asset, calls in self._read().items()}

    def total(self) -> Usage:
        """The project's total."""
        return _sum(self.per_asset().values())


def _minus(a: Usage, b: Usage) -> Usage:
    return Usage(**{k: getattr(a, k) - getattr(b, k) for k in Usage.model_fields})


def _sum(items: Any) -> Usage:
    total = Usage()
    for item in items:
        total = total + item
    return total


class Meter:
    """Records one asset step's provider calls in the ledger and stops the step at the budget."""

    def __init__(self, asset: str, brief: Brief, files: ProjectFiles, calls: CallLog | None = None):
        self.asset = asset
        self.budget = brief.budget
        self.calls = calls or CallLog(None, verbose=False)
        self.ledger = Ledger(files)
        self.step = Usage()
        self.models: set[str] = set()
        self._pending = Usage()
        self._lock = threading.Lock()

    def check(self, limit: str, coming: Usage | None = None) -> None:
        """Fail the step (no retry) when the project is over budget field `limit`, or `coming` would take it over."""
        coming = coming or Usage()
        total = self.ledger.total() + self._pending + coming
        if limit in exceeded(self.budget, total):
            raise self._failure(limit, total, coming)

    def reserve(self, limit: str, coming: Usage) -> None:
        """Check that `coming` fits under `limit`, and count it as pending until `release`."""
        with self._lock:
            self.check(limit, coming)
            self._pending = self._pending + coming

    def release(self, coming: Usage) -> None:
        """Forget a reservation whose call failed."""
        with self._lock:
            self._pending = _minus(self._pending, coming)

    def text(self, provider: TextProvider) -> TextProvider:
        """`provider` with its calls metered."""
        return cast(TextProvider, _MeteredText(provider, self))

    def speech(self, provider: SpeechProvider) -> SpeechProvider:
        """`provider` with its cues metered."""
        return cast(SpeechProvider, _MeteredSpeech(provider, self))

    def images(self, provider: ImageProvider) -> ImageProvider:
        """`provider` with its images metered and reserved."""
        return cast(ImageProvider, _MeteredImages(provider, self))

    def avatar(self, provider: AvatarProvider) -> AvatarProvider:
        """`provider` with its clips reported (the presenter asset records their seconds, as ffprobe reads them)."""
        return self.calls.avatar(provider)

    def publisher(self, provider: Publisher) -> Publisher:
        """`provider` with its publications reported."""
        return self.calls.publisher(provider)

    def call(self, role: str, model: str, request: str, **details: Any):
        """Around one provider call: reported when the brief is verbose (pipeline/calls.py)."""
        return self.calls.call(role, model, request, **details)

    def record(self, key: str, usage: Usage, model: str | None = None, reserved: Usage | None = None) -> None:
        """Add one call's usage to the step and the ledger (and drop what it had `reserved`)."""
        with self._lock:
            self.ledger.record(self.asset, key, usage)
            if reserved is not None:
                self._pending = _minus(self._pending, reserved)
            self.step = self.step + usage
            if model:
                self.models.add(model)

    def finish(self) -> dict[str, Any]:
        """Check the budget once more; the step's usage as asset metadata."""
        total = self.ledger.total()
        if over := [n for n in exceeded(self.budget, total) if self.step.amount(n) > 0]:
            raise self._failure(over[0], total, Usage())
        step = self.step
        metadata: dict[str, Any] = {
            "usage": dg.MetadataValue.json({"step": step.rounded(), "project": total.rounded(),
                                            "budget": self.budget.model_dump(exclude_none=True)}),
            "model": ", ".join(sorted(self.models)) or "none",
        }
        if step.text_calls:
            metadata.update(tokens_in=step.tokens_in, tokens_out=step.tokens_out, text_calls=step.text_calls)
        if step.images:
            metadata["images_generated"] = step.images
        if step.speech_seconds:
            metadata["speech_seconds"] = round(step.speech_seconds, 2)
        if step.avatar_seconds:
            metadata["avatar_seconds"] = round(step.avatar_seconds, 2)
        return metadata

    def _failure(self, name: str, total: Usage, coming: Usage) -> dg.Failure:
        limit, unit = getattr(self.budget, name), LIMITS[name]
        per_asset = self.ledger.per_asset()
        recorded = sum(u.amount(name) for u in per_asset.values())
        parts = ", ".join(f"{a} {u.amount(name):g}" for a, u in per_asset.items() if u.amount(name))
        said = f"the project has used {recorded:g} {unit} ({parts or 'none so far'})"
        if pending := self._pending.amount(name):
            said += f", {pending:g} more are being made"
        if coming.amount(name):
            said += f", and {self.asset} needs {coming.amount(name):g} more"
        return failure(Problem(
            f"budget.{name} exceeded in {self.asset}: {said}: over the budget of {limit:g} {unit}",
            where=self.asset, code="BUDGET_EXCEEDED",
            hint=f"Raise budget.{name} in the brief (or remove it) and launch the project again: "
                 "finished items are reused",
            details={"limit": f"budget.{name}", "budget": float(limit), "used": total.amount(name)},
        ))


def meter(context: dg.AssetExecutionContext, brief: Brief, files: ProjectFiles) -> Meter:
    """A meter for the running asset step, reporting each call when the brief is verbose."""
    return Meter(context.asset_key.path[-1], brief, files, CallLog(context, brief.verbose))


class _Metered:
    """A provider standing in for the resource inside an asset body: it answers everything the resource
    answers (name, voice_id, max_in_flight...) and meters the calls that cost."""

    def __init__(self, provider: Any, meter: Meter):
        self._provider = provider
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


class _MeteredText(_Metered):
    """A text provider whose calls count tokens against budget.tokens."""

    def generate(self, request: TextRequest) -> TextResponse:
        self._meter.check("tokens")
        with self._meter.call("text", self._provider.name, request.prompt, task=request.task,
                              repair=request.attempt) as call:
            response = self._provider.generate(request)
            call.answered(response.text, response.model, tokens_in=response.prompt_tokens,
                          tokens_out=response.completion_tokens)
        usage = Usage(tokens_in=response.prompt_tokens, tokens_out=response.completion_tokens, text_calls=1)
        # Keyed by what is sent: the same request again is answered from the response cache, at no cost.
        key = item_key("text", self._provider.name, request.model_dump(exclude={"inputs"}))
        self._meter.record(key, usage, response.model)
        return response


class _MeteredSpeech(_Metered):
    """A speech provider whose cues count seconds against budget.speech_seconds."""

    def synthesize(self, text: str, language: str, voice: str | None, out_path: Path) -> SpeechResult:
        self._meter.check("speech_seconds")
        with self._meter.call("speech", self._provider.voice_id(language, voice), text) as call:
            result = self._provider.synthesize(text, language, voice, out_path)
            call.answered(f"{result.duration:.2f} s of audio at {result.sample_rate} Hz", summarise=False,
                          seconds=result.duration)
        key = item_key("speech", self._provider.name, self._provider.voice_id(language, voice), text)
        self._meter.record(key, Usage(speech_seconds=result.duration), self._provider.name)
        return result


class _MeteredImages(_Metered):
    """An image provider whose images count against budget.images, reserved before each one is asked for."""

    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        one = Usage(images=1)
        self._meter.reserve("images", one)
        try:
            with self._meter.call("images", self._provider.name, description) as call:
                self._provider.generate(description, seed, width, height, out_path)
                call.answered(f"a {width}x{height} {out_path.suffix.lstrip('.').upper()}", summarise=False, images=1)
        except BaseException:
            self._meter.release(one)
            raise
        key = item_key("image", self._provider.name, description, seed, width, height)
        self._meter.record(key, one, self._provider.name, reserved=one)
