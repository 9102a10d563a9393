"""HttpClient for APIs beyond the OpenAI shape: any method and auth scheme, more secrets to hide.

Requests go through HttpClient's one retrying, slot-holding, classifying `_send`; they are never
put in the response cache (polls, token grants and uploads must reach the server every time).
"""

import json
from dataclasses import dataclass, field, fields
from typing import Any

from pipeline.providers.errors import PermanentProviderError
from pipeline.providers.http import USER_AGENT, HttpClient, Reply


@dataclass(frozen=True)
class ApiClient(HttpClient):
    """An HttpClient whose key goes out as `<auth_scheme> <key>` and whose `extra_secrets` are scrubbed too."""

    auth_scheme: str = "Bearer"
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_client(cls, client: HttpClient, **changes: Any) -> "ApiClient":
        """An ApiClient with `client`'s settings, some changed."""
        values = {f.name: getattr(client, f.name) for f in fields(HttpClient)}
        return cls(**{**values, **changes})

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (*super()._secrets, *(s for s in self.extra_secrets if s))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value this client must never show (key, URL password, extra secrets)."""
        return self._secrets

    def call(self, method: str, url: str, *, json_body: dict[str, Any] | None = None,
             form: dict[str, str] | None = None, content: bytes | None = None, content_type: str = "",
             headers: dict[str, str] | None = None, auth: bool = True, accept: str = "application/json") -> Reply:
        """One request (`url` absolute, or a path under base_url) with transport retries; a ProviderError on failure."""
        target = url if url.startswith(("http://", "https://")) else self.base_url.rstrip("/") + url
        sent = {"Accept": accept, "User-Agent": USER_AGENT, **(headers or {})}
        if auth and self.api_key:
            sent["Authorization"] = f"{self.auth_scheme} {self.api_key}"
        request: dict[str, Any] = {"headers": sent}
        if json_body is not None:
            request["content"] = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json; charset=UTF-8"
        elif form is not None:
            request["data"] = form  # application/x-www-form-urlencoded
        elif content is not None:
            request["content"] = content
            sent["Content-Type"] = content_type or "application/octet-stream"
        return self._send(method, target, request)

    def call_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """`call`, and the answer's JSON object."""
        return reply_json(self.call(method, url, **kwargs), self.provider)


def reply_json(reply: Reply, provider: str) -> dict[str, Any]:
    """The JSON object of a reply, or a PermanentProviderError saying it is none."""
    try:
        value = json.loads(reply.content)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise PermanentProviderError(provider, f"the answer is not a JSON object ({len(reply.content)} bytes)",
                                     hint="check the base URL")
    return value
