"""The one HTTP client of every real provider: timeouts, transport retries, slots, response cache.

Transport retries live here (a transient error is tried again up to `max_retries` times, with
exponential backoff and jitter, honouring Retry-After up to a cap); step retries live in the assets'
RetryPolicy. The API key goes into the Authorization header only: never into a log line, a message,
a repr or a cache key, and it is scrubbed from anything the server echoes back.
"""

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pipeline.providers.errors import PermanentProviderError, ProviderError, RateLimited, TransientProviderError
from pipeline.providers.http_errors import Hints, classify, scrub
from pipeline.providers.response_cache import ResponseCache, cache_enabled
from pipeline.providers.slots import SlotLimiter
from pipeline.store import default_data_dir, item_key

# Under `pipeline.providers`, which dagster.yaml's python_logs manages: inside a step these lines go to the
# run's event log (UI, Redis generation_logs, `pipeline logs`) as well as to stderr.
log = logging.getLogger(__name__)
USER_AGENT = "content-pipeline/0.1"


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, lower-cased headers, body, and whether it came from the cache."""

    status: int
    headers: dict[str, str]
    content: bytes
    cached: bool = False


def backoff_delay(attempt: int, base: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds before retry `attempt` (0-based): base x 2^attempt, jittered plus or minus 50 %."""
    return base * 2**attempt * (0.5 + rng())


def redact_url(url: str) -> str:
    """`url` without the user name and password it may carry."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "an invalid URL"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else url


@dataclass(frozen=True)
class HttpClient:
    """Calls one provider's API. `provider` (e.g. 'openai text') names it in messages and folders."""

    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    model: str = ""
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 3
    backoff_base: float = 1.0
    retry_after_cap: float = 60.0
    max_in_flight: int = 4
    data_dir: Path | None = None
    cache: bool = True
    hints: Hints = Hints()

    @property
    def _slug(self) -> str:
        return self.provider.replace(" ", "-")

    @property
    def _root(self) -> Path:
        return (self.data_dir or default_data_dir()) / "cache"

    @property
    def _secrets(self) -> tuple[str, ...]:
        try:
            password = httpx.URL(self.base_url).password if "@" in self.base_url else None
        except httpx.InvalidURL:
            password = None
        return tuple(s for s in (self.api_key, password) if s)

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to `base_url + path`; the answer's JSON object."""
        reply = self.post(path, json_body=body, check=self._is_json)
        return json.loads(reply.content)

    def post(self, path: str, *, json_body: dict[str, Any] | None = None, form: dict[str, str] | None = None,
             accept: str = "application/json", check: Callable[[Reply], None] | None = None) -> Reply:
        """POST JSON or a multipart form; `check` may reject a 2xx answer (it is then not cached)."""
        key = item_key(self.provider, self.model, redact_url(self.base_url), path, json_body, form, accept)
        store = ResponseCache(self._root / "responses" / self._slug) if self.cache and cache_enabled() else None
        if store is not None and (hit := store.get(key)) is not None:
            return Reply(200, {}, hit, cached=True)
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request: dict[str, Any] = {"headers": headers}
        if json_body is not None:
            request["content"] = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if form is not None:
            request["files"] = {name: (None, value) for name, value in form.items()}
        reply = self._send("POST", self.base_url.rstrip("/") + path, request)
        if check is not None:
            check(reply)
        if store is not None:
            store.put(key, reply.content)
        return reply

    def download(self, url: str) -> bytes:
        """GET a file the API pointed at (e.g. an image URL), without sending the API key."""
        return self._send("GET", url, {"headers": {"User-Agent": USER_AGENT}}).content

    def _is_json(self, reply: Reply) -> None:
        try:
            value = json.loads(reply.content)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise PermanentProviderError(
                self.provider, f"the answer from {redact_url(self.base_url)} is not a JSON object",
                hint=f"check that {self.hints.base_url} points at an OpenAI-compatible API (usually ending in /v1)")

    def _send(self, method: str, url: str, request: dict[str, Any]) -> Reply:
        """One call with transport retries; raises a ProviderError subclass when it cannot succeed."""
        slots = SlotLimiter(self._root / "slots" / self._slug, self.max_in_flight)
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            note = f"; gave up after {attempts} attempt{'s' if attempts > 1 else ''}" if last else ""
            with slots.hold():
                outcome = self._once(method, url, request, note)
            if isinstance(outcome, Reply):
                return outcome
            wait = backoff_delay(attempt, self.backoff_base)
            if isinstance(outcome, RateLimited) and outcome.retry_after is not None:
                if outcome.retry_after > self.retry_after_cap:
                    raise RateLimited(
                        self.provider, f"{_text(outcome)}; that is over the {self.retry_after_cap:g} s this "
                        "client waits, so the step's retry policy takes over", retry_after=outcome.retry_after)
                wait = max(wait, outcome.retry_after)
            if last or not isinstance(outcome, TransientProviderError):
                raise outcome
            log.warning("%s; retry %d of %d in %.2f s", outcome, attempt + 1, self.max_retries, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _once(self, method: str, url: str, request: dict[str, Any], note: str) -> Reply | ProviderError:
        """One attempt: the reply, or the error it stands for (transport errors included)."""
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        host = "the server"
        try:
            host = httpx.URL(url).netloc.decode("ascii", errors="replace").rsplit("@", 1)[-1]
            with httpx.Client(timeout=timeout, follow_redirects=True) as client:
                response = client.request(method, url, **request)
        except httpx.TimeoutException as e:
            return TransientProviderError(
                self.provider, f"no answer from {host} within {self.timeout:g} s ({type(e).__name__}){note}",
                hint=f"raise {self.hints.timeout} for slow models or servers")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            return PermanentProviderError(self.provider, f"{redact_url(url)} is not a usable URL: "
                                          f"{scrub(str(e), self._secrets)}", hint=f"check {self.hints.base_url}")
        except httpx.TransportError as e:
            reason = scrub(str(e), self._secrets) or "the connection was closed"
            return TransientProviderError(
                self.provider, f"connection to {host} failed: {type(e).__name__}: {reason}{note}",
                hint=f"is the server up? check {self.hints.base_url}")
        headers = {k.lower(): v for k, v in response.headers.items()}
        error = classify(self.provider, response.status_code, headers, response.content, self.hints,
                         self._secrets, note=note)
        return error or Reply(response.status_code, headers, response.content)


def _text(error: ProviderError) -> str:
    """An error's message without the provider prefix and the hint."""
    text = str(error).removeprefix(f"{error.provider}: ")
    return text.removesuffix(f" ({error.hint})") if error.hint else text
