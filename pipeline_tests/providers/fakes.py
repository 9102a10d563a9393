"""Loopback HTTP servers speaking the OpenAI-compatible and Stability protocols, with faults on demand."""

import base64
import hashlib
import io
import json
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipeline_tests.providers.model import chat_answer
from pipeline_tests.providers.server import Answer, Fault, LoopbackServer, Seen


def unavailable() -> Fault:
    return Fault(503, {"error": {"message": "The server is overloaded", "type": "server_error"}})


def rate_limited(retry_after: str | None = None) -> Fault:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Fault(429, {"error": {"message": "Rate limit reached for requests", "type": "requests"}}, headers)


def quota_exhausted() -> Fault:
    return Fault(429, {"error": {"message": "You exceeded your current quota, please check your plan and billing "
                                 "details.", "type": "insufficient_quota", "code": "insufficient_quota"}})


def bad_request() -> Fault:
    return Fault(400, {"error": {"message": "Invalid value for 'size'", "type": "invalid_request_error"}})


def refused() -> Fault:
    return Fault(400, {"error": {"code": "content_policy_violation", "type": "invalid_request_error",
                                 "message": "Your request was rejected as a result of our safety system."}})


def moderated() -> Fault:
    return Fault(403, {"name": "content_moderation", "id": "f00",
                       "errors": ["Your request was flagged by our content moderation system."]})


def slow(seconds: float) -> Fault:
    return Fault(delay=seconds)


def reset() -> Fault:
    return Fault(reset=True)


Route = Callable[["FakeServer", Seen], tuple[int, dict[str, str], bytes]]
Latency = Callable[[Seen, Answer], float]  # seconds to wait before sending a route's answer


@dataclass
class HostedLatency:
    """How long a hosted API takes to answer, in seconds: a chat call plus per 100 output tokens (the answer's
    `usage.completion_tokens`), a speech request, an image. Pass it as `FakeServer(latency=...)`."""

    chat: float = 2.0
    chat_per_100_tokens: float = 0.02
    speech: float = 0.8
    image: float = 4.0

    def __call__(self, seen: Seen, answer: Answer) -> float:
        status, _, content = answer
        if status != 200:
            return 0.0
        if seen.path.endswith("/chat/completions"):
            tokens = json.loads(content).get("usage", {}).get("completion_tokens", 0)
            return self.chat + self.chat_per_100_tokens * tokens / 100
        if seen.path.endswith("/audio/speech"):
            return self.speech
        if seen.path.endswith("/images/generations") or "/stable-image/" in seen.path:
            return self.image
        return 0.0


class FakeServer(LoopbackServer):
    """A loopback server of the OpenAI-compatible shape; `key` is the API key it accepts.

    `delay` is waited before every request; `latency` (e.g. HostedLatency) after a route has made its answer,
    for as long as it says that answer takes, so a model of the provider can depend on what was answered.
    """

    def __init__(self, routes: dict[str, Route], key: str | None = None, delay: float = 0.0,
                 latency: Latency | None = None):
        super().__init__()
        self.routes, self.key, self.delay, self.latency = routes, key, delay, latency
        self.faults: deque[Fault] = deque()
        self.in_flight = self.peak = 0

    def push(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def count(self, suffix: str = "") -> int:
        return sum(1 for s in self.seen if s.path.endswith(suffix))

    def answer(self, seen: Seen) -> tuple[Fault | None, tuple[int, dict[str, str], bytes] | None]:
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            fault = self.faults.popleft() if self.faults else None
        try:
            time.sleep(self.delay + (fault.delay if fault else 0.0))
            if fault is not None and (fault.reset or fault.status is not None):
                return fault, None
            if self.key is not None and seen.headers.get("authorization") != f"Bearer {self.key}":
                given = seen.headers.get("authorization", "").removeprefix("Bearer ")
                return Fault(401, {"error": {"message": f"Incorrect API key provided: {given}.",
                                             "type": "invalid_request_error", "code": "invalid_api_key"}}), None
            route = self.routes.get(seen.path)
            if route is None:
                return Fault(404, {"error": {"message": f"no route {seen.path}"}}), None
            answer = route(self, seen)
            if self.latency is not None:
                time.sleep(self.latency(seen, answer))
            return None, answer
        finally:
            with self._lock:
                self.in_flight -= 1


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def color_of(prompt: str) -> tuple[int, int, int]:
    """The flat colour the fakes paint for a prompt, so tests can check pixels."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def wav(seconds: float, rate: int = 24000, streaming: bool = True, voice: np.ndarray | None = None,
        start: int = 0) -> bytes:
    """A 16-bit mono tone, or `seconds` of the samples `voice` (int16 at `rate`, looped) from `start` on;
    `streaming` puts placeholder sizes in the header, as OpenAI's TTS does."""
    if voice is None:
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    else:
        samples = np.take(voice, np.arange(start, start + int(seconds * rate)), mode="wrap").astype("<i2").tobytes()
    size = 0xFFFFFFFF if streaming else len(samples)
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    riff = 0xFFFFFFFF if streaming else 4 + len(fmt) + 8 + len(samples)
    return struct.pack("<4sI4s", b"RIFF", riff, b"WAVE") + fmt + struct.pack("<4sI", b"data", size) + samples


SECONDS_PER_WORD = 1 / 2.6  # the fake voice speaks at OpenAISpeech's default rate


def _chat(server: FakeServer, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    request = seen.json()
    text = chat_answer(request["messages"][0]["content"], request["messages"][-1]["content"])
    answer = {"id": "chatcmpl-1", "object": "chat.completion", "model": request["model"] + "-2024",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": len(request["messages"][-1]["content"].split()),
                        "completion_tokens": len(text.split())}}
    return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _speech(server: FakeServer, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    words = len(seen.json()["input"].split())
    return 200, {"Content-Type": "audio/wav"}, wav(max(0.4, words * SECONDS_PER_WORD))


def _images(server: FakeServer, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    request = seen.json()
    width, height = map(int, request["size"].split("x"))
    data = base64.b64encode(png(width, height, color_of(request["prompt"]))).decode()
    answer = {"created": 1, "data": [{"b64_json": data, "revised_prompt": request["prompt"]}]}
    return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _stability(server: FakeServer, seen: Seen) -> tuple[int, dict[str, str], bytes]:
    form = seen.form()
    return 200, {"Content-Type": "image/png", "finish-reason": "SUCCESS", "seed": form.get("seed", "0")}, \
        png(1344, 768, color_of(form["prompt"]))


def openai_server(key: str | None = None, delay: float = 0.0, latency: Latency | None = None) -> FakeServer:
    """An OpenAI-compatible API under /v1: chat completions, speech, image generations."""
    return FakeServer({"/v1/chat/completions": _chat, "/v1/audio/speech": _speech,
                       "/v1/images/generations": _images}, key=key, delay=delay, latency=latency)


def stability_server(key: str | None = None) -> FakeServer:
    """Stability AI's v2beta Stable Image core endpoint."""
    return FakeServer({"/v2beta/stable-image/generate/core": _stability}, key=key)
