"""The one HTTP client of every real provider: timeouts, transport retries, slots, response cache.

Transport retries live here (a transient error is tried again up to `max_retries` times, with
exponential backoff and jitter, honouring Retry-After up to a cap); step retries live in the assets'
RetryPolicy. The API key goes into the Authorization header only: never into a log line, a message,
a repr or a cache key, and it is scrubbed (with `extra_secrets`) from anything the server echoes back.
"""

import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pipeline.providers.errors import PermanentProviderError, ProviderError, RateLimited, TransientProviderError
from pipeline.providers.http_errors import Hints, classify, scrub
from pipeline.providers.response_cache import ResponseCache, cache_enabled
from pipeline.providers.slots import SlotLimiter
from pipeline.providers.trace import note_attempt, note_cached
from pipeline.store import default_data_dir, item_key

# Under `pipeline.providers`, which dagster.yaml's python_logs manages: inside a step these lines go to the
# run's event log (UI, Redis generation_logs, `pipeline logs`) as well as to stderr.
log = logging.getLogger(__name__)
USER_AGENT = "content-pipeline/0.1"
JSON_UTF8 = "application/json; charset=UTF-8"


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
    """Calls one provider's API. `provider` (e.g. 'openai text') names it in messages and folders; `role`
    (pipeline.codes.ROLES) is carried by every error it raises.

    The key goes out as `<auth_scheme> <key>`; `extra_secrets` (OAuth secrets, tokens, session URLs)
    are scrubbed like the key. Cheap to make and to copy with `with_`: it holds no connection.
    """

    provider: str
    base_url: str
    role: str | None = None
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
    auth_scheme: str = "Bearer"
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)

    def with_(self, **changes: Any) -> "HttpClient":
        """This client with some settings changed."""
        return dataclasses.replace(self, **changes)

    @property
    def _slug(self) -> str:
        return self.provider.replace(" ", "-")

    @property
    def _root(self) -> Path:
        return (self.data_dir or default_data_dir()) / "cache"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value this client must never show (key, URL password, extra secrets)."""
        try:
            password = httpx.URL(self.base_url).password if "@" in self.base_url else None
        except httpx.InvalidURL:
            password = None
        return tuple(s for s in (self.api_key, password, *self.extra_secrets) if s)

    def request(self, method: str, url: str, *, json_body: dict[str, Any] | None = None,
                form: dict[str, str] | None = None, multipart: dict[str, str] | None = None,
                content: bytes | None = None, content_type: str = "", headers: dict[str, str] | None = None,
                auth: bool = True, accept: str = "application/json", cache: bool = False,
                check: Callable[[Reply], None] | None = None) -> Reply:
        """One request with transport retries; a ProviderError subclass when it cannot succeed.

        Args:
            url: absolute, or a path under base_url.
            json_body, form, multipart, content: the body (one of them): JSON, urlencoded form, multipart
                form, or raw bytes; `content_type` overrides the type of a JSON or raw body.
            auth: send the key (off for token grants and hosts other than the API's).
            cache: answer from, and keep in, the response cache (POSTs of JSON or multipart bodies only:
                the key covers those); off when the client's `cache` or PIPELINE_RESPONSE_CACHE is.
            check: may reject a 2xx answer, which is then not cached.
        """
        if cache and (method != "POST" or form is not None or content is not None):
            raise ValueError("only POSTs of a JSON or multipart body can be cached")
        key = item_key(self.provider, self.model, redact_url(self.base_url), url, json_body, multipart, accept)
        cached = cache and self.cache and cache_enabled()
        store = ResponseCache(self._root / "responses" / self._slug) if cached else None
        if store is not None and (hit := store.get(key)) is not None:
            note_cached()
            return Reply(200, {}, hit, cached=True)
        target = url if url.startswith(("http://", "https://")) else self.base_url.rstrip("/") + url
        sent = {"Accept": accept, "User-Agent": USER_AGENT, **(headers or {})}
        if auth and self.api_key:
            sent["Authorization"] = f"{self.auth_scheme} {self.api_key}"
        request: dict[str, Any] = {"headers": sent}
        if json_body is not None:
            request["content"] = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = content_type or "application/json"
        elif form is not None:
            request["data"] = form  # application/x-www-form-urlencoded
        elif multipart is not None:
            request["files"] = {name: (None, value) for name, value in multipart.items()}
        elif content is not None:
            request["content"] = content
            sent["Content-Type"] = content_type or "application/octet-stream"
        reply = self._send(method, target, request)
        if check is not None:
            check(reply)
        if store is not None:
            store.put(key, reply.content)
        return reply

    def request_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """`request`, and the answer's JSON object (an answer that is none is refused before the cache)."""
        return json.loads(self.request(method, url, check=self._json_object, **kwargs).content)

    def download(self, url: str) -> bytes:
        """GET a file the API pointed at (e.g. an image URL), without sending the API key."""
        return self._send("GET", url, {"headers": {"User-Agent": USER_AGENT}}).content

    def _json_object(self, reply: Reply) -> None:
        try:
            value = json.loads(reply.content)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise PermanentProviderError(
                self.provider, f"the answer from {redact_url(self.base_url)} is not a JSON object "
                f"({len(reply.content)} bytes)", hint=f"check that {self.hints.base_url} points at {self.hints.api}",
                role=self.role)

    def _send(self, method: str, url: str, request: dict[str, Any]) -> Reply:
        """One call with transport retries, each attempt holding one of the provider's slots."""
        slots = SlotLimiter(self._root / "slots" / self._slug, self.max_in_flight)
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            note = f"; gave up after {attempts} attempt{'s' if attempts > 1 else ''}" if attempt == attempts - 1 else ""
            with slots.hold():
                outcome = self.once(method, url, request, note=note)
            note_attempt(attempt + 1, isinstance(outcome, Reply))  # for a verbose call's line (providers/trace.py)
            if isinstance(outcome, Reply):
                return outcome
            wait = self.retry_wait(outcome, attempt)
            log.warning("%s; retry %d of %d in %.2f s", outcome, attempt + 1, self.max_retries, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def retry_wait(self, error: ProviderError, retry: int) -> float:
        """Seconds to wait before retry `retry + 1` after `error`; raises `error` when no retry is left or can help.

        The wait is the backoff, or the server's Retry-After when longer; a Retry-After over
        `retry_after_cap` hands over to the step's retry policy at once.
        """
        wait = backoff_delay(retry, self.backoff_base)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.retry_after_cap:
                raise RateLimited(
                    self.provider, f"{error.detail}; that is over the {self.retry_after_cap:g} s this client "
                    "waits, so the step's retry policy takes over", retry_after=error.retry_after, status=error.status,
                    role=error.role)
            wait = max(wait, error.retry_after)
        if retry >= self.max_retries or not isinstance(error, TransientProviderError):
            raise error
        return wait

    def once(self, method: str, url: str, request: dict[str, Any], *, note: str = "", follow_redirects: bool = True,
             passthrough: Collection[int] = ()) -> Reply | ProviderError:
        """One attempt, neither retried nor holding a slot: the reply, or the error it stands for.

        Args:
            request: httpx's request arguments (headers, content, data, files).
            note: ends the message of a transient error (e.g. that it was the last attempt).
            follow_redirects: off where a 3xx is an answer (an upload's 308 Resume Incomplete).
            passthrough: statuses returned as a Reply rather than classified as errors.
        """
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        host = "the server"
        try:
            host = httpx.URL(url).netloc.decode("ascii", errors="replace").rsplit("@", 1)[-1]
            with httpx.Client(timeout=timeout, follow_redirects=follow_redirects) as client:
                response = client.request(method, url, **request)
        except httpx.TimeoutException as e:
            return TransientProviderError(
                self.provider, f"no answer from {host} within {self.timeout:g} s ({type(e).__name__}){note}",
                hint=f"raise {self.hints.timeout} for slow models or servers", role=self.role, kind="timeout")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            return PermanentProviderError(self.provider, scrub(f"{redact_url(url)} is not a usable URL: {e}",
                                                               self.secrets), hint=f"check {self.hints.base_url}",
                                          role=self.role)
        except httpx.TransportError as e:
            reason = scrub(str(e), self.secrets) or "the connection was closed"
            return TransientProviderError(
                self.provider, f"connection to {host} failed: {type(e).__name__}: {reason}{note}",
                hint=f"is the server up? check {self.hints.base_url}", role=self.role)
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        error = None if status in passthrough else classify(self.provider, status, headers, response.content,
                                                              self.hints, self.secrets, note=note, role=self.role)
        return error or Reply(status, headers, response.content)
