"""One error taxonomy for every provider: small typed exceptions that carry data.

Transient errors may succeed when tried again (the client retries them, then the step's
RetryPolicy); permanent ones never will and fail the step at once with what to do.
"""


class ProviderError(Exception):
    """A provider call failed. `provider` names the implementation, never a secret.

    `detail` is the message without the provider and the hint; `status` the HTTP status the
    server answered with (None when no answer says it: a timeout, a local tool, a bad answer).
    """

    def __init__(self, provider: str, message: str, *, hint: str = "", status: int | None = None):
        self.provider = provider
        self.hint = hint
        self.detail = message
        self.status = status
        super().__init__(f"{provider}: {message}" + (f" ({hint})" if hint else ""))


class TransientProviderError(ProviderError):
    """Timeout, connection error, 5xx: worth another try."""


class RateLimited(TransientProviderError):
    """429: try again after `retry_after` seconds (None when the server gave no hint)."""

    def __init__(self, provider: str, message: str, *, retry_after: float | None = None, hint: str = "",
                 status: int | None = None):
        self.retry_after = retry_after
        super().__init__(provider, message, hint=hint, status=status)


class PermanentProviderError(ProviderError):
    """400, 401, 403, quota exhausted, a missing local tool: trying again cannot help."""


class ContentPolicyError(PermanentProviderError):
    """The provider refused this input (e.g. an image prompt) on policy grounds."""


class InvalidModelOutput(ProviderError):
    """The model answered, but not in the shape asked for, after every repair attempt."""

    def __init__(self, provider: str, what: str, problems: list[str]):
        self.problems = problems
        super().__init__(
            provider,
            f"{what} is still invalid after repair attempts:\n" + "\n".join(f"  - {p}" for p in problems),
        )
