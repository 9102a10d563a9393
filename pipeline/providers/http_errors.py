"""How an HTTP answer maps to the provider error taxonomy: pure functions, no I/O."""

import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from pipeline.providers.errors import (
    ContentPolicyError,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)

TRANSIENT_STATUS = {408, 409, 425, 429}  # and every 5xx
_POLICY_MARKS = ("content_policy_violation", "moderation", "content_filter")
_RATE_MARKS = ("retrydelay", "per minute", "per_minute", "perminute", "rate limit", "rate_limit")
# a 403 that means no quota or credit is left (Google's quotaExceeded, OpenAI's insufficient_quota), not no access
_QUOTA_MARKS = ("insufficient_quota", "quotaexceeded", "dailylimitexceeded", "uploadlimitexceeded",
                "exceeded your current quota", "insufficientcredits", "insufficient_credits")


@dataclass(frozen=True)
class Hints:
    """The variables a user changes to fix a failing call, named in messages (never their values)."""

    key: str = "the API key"
    model: str = "the model"
    base_url: str = "the base URL"
    timeout: str = "the timeout"
    api: str = "the provider's API"  # what base_url must point at


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by a marker."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _seconds(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def parse_retry_after(headers: dict[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    if (ms := _seconds(headers.get("retry-after-ms", ""))) is not None:
        return ms / 1000
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if (seconds := _seconds(value)) is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def server_message(body: bytes, limit: int = 300) -> str:
    """The human part of an error body: `error.message`, `message`, `errors`, `detail`, or the text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:limit]
    found: object = data
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            found = error.get("message") or error
        else:
            found = error or data.get("message") or data.get("errors") or data.get("detail") or data
    if isinstance(found, list):
        found = "; ".join(map(str, found))
    return " ".join(str(found).split())[:limit]


def _quota_exhausted(body: str, retry_after: float | None) -> bool:
    """A 429 that waiting cannot fix: no credit left, as opposed to a per-minute rate limit."""
    if "insufficient_quota" in body:
        return True
    return "quota" in body and retry_after is None and not any(m in body for m in _RATE_MARKS)


def _permanent_text(status: int, hints: Hints) -> tuple[str, str]:
    return {
        400: ("the request was rejected", f"check {hints.model} and the input"),
        401: ("the API key was rejected", f"check {hints.key}"),
        402: ("the account has no credit left", "add credit to the account"),
        403: ("the API key has no access to this model or endpoint", f"check {hints.key} and {hints.model}"),
        404: ("the model or endpoint was not found", f"check {hints.model} and {hints.base_url}"),
        422: ("the request was not understood", f"check {hints.model} and the input"),
    }.get(status, ("the request was refused", f"check {hints.base_url}, {hints.model} and {hints.key}"))


def kind_of(status: int, body: str) -> str:
    """The failure kind (pipeline.codes.KINDS) of a refused request that is neither a 429 nor a policy refusal."""
    if status == 402 or (status == 403 and any(mark in body for mark in _QUOTA_MARKS)):
        return "quota"
    return "auth" if status in (401, 403) else "bad_request"


def classify(provider: str, status: int, headers: dict[str, str], body: bytes, hints: Hints,
             secrets: tuple[str, ...] = (), note: str = "", role: str | None = None) -> ProviderError | None:
    """The error an answer stands for (None for success), scrubbed of `secrets`; `note` ends transient ones.

    The error carries `role` and its kind: quota, rate_limited, timeout (408), server_error, content_policy,
    auth (401/403), bad_request (the other 4xx).
    """
    if 200 <= status < 300:
        return None
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    said = scrub(server_message(body), secrets)
    detail = f"; the server said: {said}" if said else ""
    lowered = body.decode("utf-8", errors="replace").lower()
    head = f"{status} {reason}"
    if status == 429:
        wait = parse_retry_after(headers)
        if _quota_exhausted(lowered, wait):
            return PermanentProviderError(provider, f"{head}: the quota is exhausted{detail}", status=status,
                                          hint=f"add credit or raise the quota of the account behind {hints.key}",
                                          role=role, kind="quota")
        after = f", the server asks to wait {wait:g} s" if wait is not None else ""
        return RateLimited(provider, f"{head}: rate limited{after}{detail}{note}", retry_after=wait, status=status,
                           role=role)
    if status >= 500 or status in TRANSIENT_STATUS:
        return TransientProviderError(provider, f"{head}: the server could not answer now{detail}{note}",
                                      status=status, role=role, kind="timeout" if status == 408 else "server_error")
    if any(mark in lowered for mark in _POLICY_MARKS):
        return ContentPolicyError(provider, f"{head}: refused by the provider's content policy{detail}",
                                  hint="rephrase the input", status=status, role=role)
    kind = kind_of(status, lowered)
    what, hint = _permanent_text(status, hints)
    if kind == "quota" and status != 402:
        what, hint = "the quota is exhausted", f"add credit or raise the quota of the account behind {hints.key}"
    return PermanentProviderError(provider, f"{head}: {what}{detail}", hint=hint, status=status, role=role, kind=kind)
