"""Verbose mode (`verbose: true` in a brief): one line for every provider call of a run.

The asset's provider wrappers (pipeline/usage.py) open a call around each request to a provider;
when the brief is verbose it is reported once it ends: role, model, latency, what it made (tokens in
and out, seconds of speech or video, images), whether the answer came from the response cache, the
attempt that got it (the HTTP client's retries, pipeline/providers/trace.py), a repair's number, and
the first words of the request and of the answer. The line goes to the run's log (the UI,
`generation_logs`, `pipeline logs`), and an AssetObservation tagged `pipeline/call` carries it and
its fields to the project's stream. A summary is a few first words, never a whole prompt or answer;
no header, and so no key, is ever part of one.
"""

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import dagster as dg

from pipeline.events.progress import CALL_TAG
from pipeline.providers.avatar import AvatarProvider, ClipResult
from pipeline.providers.publisher import PublishPackage, Publisher, PublishResult
from pipeline.providers.trace import traced

WORDS, CHARS = 8, 48  # a summary: at most this many words and characters


def first_words(text: str, words: int = WORDS, chars: int = CHARS) -> str:
    """The first words of `text` and its length, never all of it (CJK text is cut by characters)."""
    flat = " ".join(str(text).split())
    if not flat:
        return '""'
    head = " ".join(flat.split(" ")[:words])[:chars]
    if len(head) >= len(flat):
        head = flat[: len(flat) // 2]
    return f'"{head.rstrip()}…" ({len(flat)} chars)'


@dataclass
class Call:
    """One provider call, as the verbose line tells it."""

    role: str
    model: str
    request: str  # a summary (first_words), or a short description of what was asked
    task: str = ""
    repair: int = 0  # a text request asked again with the validation errors (0: the first ask)
    answer: str = ""
    made: dict[str, float] = field(default_factory=dict)  # tokens_in, tokens_out, seconds, images
    latency_ms: int = 0
    cache: str = "none"
    attempt: int = 0
    error: str = ""
    reported: bool = True  # False when the brief is not verbose: nothing is summarised

    def answered(self, answer: str, model: str | None = None, summarise: bool = True, **made: float) -> None:
        """What the call gave back: the answer's text (summarised here unless `summarise` is off, for a
        description such as "a 1920x1080 PNG"), the model that answered, and what it made."""
        if not self.reported:
            return
        self.answer = first_words(answer) if summarise else answer
        self.model = model or self.model
        self.made.update(made)

    def line(self) -> str:
        parts = [f"{self.latency_ms} ms"]
        if "tokens_in" in self.made or "tokens_out" in self.made:
            parts.append(f"{self.made.get('tokens_in', 0):g} tokens in, {self.made.get('tokens_out', 0):g} out")
        if "seconds" in self.made:
            parts.append(f"{self.made['seconds']:.2f} s")
        if "images" in self.made:
            parts.append(f"{self.made['images']:g} image{'s' if self.made['images'] != 1 else ''}")
        parts.append({"none": "no HTTP request", "hit": "cache hit"}.get(self.cache, f"cache miss, attempt {self.attempt}"))
        if self.repair:
            parts.append(f"repair {self.repair}")
        asked = f"asked{f' ({self.task})' if self.task else ''} {self.request}"
        outcome = f"failed: {self.error}" if self.error else f"answered {self.answer or '(nothing)'}"
        return f"provider call: {self.role} {self.model}: {', '.join(parts)}; {asked}; {outcome}"

    def metadata(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "role": self.role, "model": self.model, "latency_ms": self.latency_ms, "cache": self.cache,
            "attempt": self.attempt, "request": self.request, "answer": self.answer, **self.made}
        if self.task:
            values["task"] = self.task
        if self.repair:
            values["repair"] = self.repair
        if self.error:
            values["error"] = self.error
        return values


class CallLog:
    """Reports the provider calls of one asset step when its brief is verbose; otherwise costs nothing."""

    def __init__(self, context: dg.AssetExecutionContext | None, verbose: bool):
        self.context = context
        self.verbose = verbose
        self._lock = threading.Lock()  # images are drawn from several threads

    @contextlib.contextmanager
    def call(self, role: str, model: str, request: str, task: str = "", repair: int = 0) -> Iterator[Call]:
        """Around one provider call; fill in the answer with `Call.answered`. `request` is summarised here."""
        if not self.verbose or self.context is None:
            yield Call(role, model, "", reported=False)
            return
        call = Call(role, model, first_words(request), task=task, repair=repair)
        started = time.monotonic()
        with traced() as trace:
            try:
                yield call
            except Exception as e:  # reported, then raised as it was
                call.error = f"{type(e).__name__}: {first_words(str(e))}"
                raise
            finally:
                call.latency_ms = round(1000 * (time.monotonic() - started))
                call.cache, call.attempt = trace.cache, trace.attempt
                if call.error or call.answer or call.made:  # not a call cut short by a cancel
                    self._report(call)

    def avatar(self, provider: AvatarProvider) -> AvatarProvider:
        """`provider` with its clips reported."""
        return cast(AvatarProvider, _ReportedAvatar(provider, self))

    def publisher(self, provider: Publisher) -> Publisher:
        """`provider` with its publications reported."""
        return cast(Publisher, _ReportedPublisher(provider, self))

    def _report(self, call: Call) -> None:
        line = call.line()
        ctx = self.context
        assert ctx is not None  # a CallLog without a context reports nothing
        with self._lock:
            ctx.log.info(line)
            ctx.log_event(dg.AssetObservation(
                asset_key=ctx.asset_key, partition=ctx.partition_key if ctx.has_partition_key else None,
                metadata={CALL_TAG: True, **call.metadata(), "message": line}))


class _Reported:
    """A provider standing in for the resource, answering everything it answers, its calls reported."""

    def __init__(self, provider: Any, calls: CallLog):
        self._provider = provider
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


class _ReportedAvatar(_Reported):
    def make_clip(self, text: str, language: str, out_path: Path) -> ClipResult:
        with self._calls.call("avatar", self._provider.name, text) as call:
            result = self._provider.make_clip(text, language, out_path)
            call.answered(f"a clip of {result.seconds:.2f} s", summarise=False, seconds=result.seconds)
        return result


class _ReportedPublisher(_Reported):
    def publish(self, package: PublishPackage, progress: Any = None) -> PublishResult:
        with self._calls.call("publisher", self._provider.name, package.title) as call:
            result = self._provider.publish(package, progress)
            call.answered(result.url or str(result.folder or result.video_id or "published"), summarise=False)
        return result
