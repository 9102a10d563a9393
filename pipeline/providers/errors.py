"""One error taxonomy for every provider: small typed exceptions that carry data.

Transient errors may succeed when tried again (the client retries them, then the step's
RetryPolicy); permanent ones never will and fail the step at once with what to do.

Each error also says which `role` failed (text, speech, images, avatar, publisher: set by the
HTTP client from its settings' role, or by the provider that raised it; None when the builder
cannot know, and the step's role is used) and what `kind` of failure it is (one of
`pipeline.codes.KINDS`): together they make the step's error code, e.g. TEXT_RATE_LIMITED.
"""


class ProviderError(Exception):
    """A provider call failed. `provider` names the implementation, never a secret.

    `detail` is the message without the provider and the hint; `status` the HTTP status the
    server answered with (None when no answer says it: a timeout, a local tool, a bad answer).
    """

    kind = "server_error"

    def __init__(self, provider: str, message: str, *, hint: str = "", status: int | None = None,
                 role: str | None = None, kind: str | None = None):
        self.provider = provider
        self.hint = hint
        self.detail = message
        self.status = status
        self.role = role
        if kind is not None:
            self.kind = kind
        super().__init__(f"{provider}: {message}" + (f" ({hint})" if hint else ""))


class TransientProviderError(ProviderError):
    """Timeout (kind `timeout`), connection error, 5xx: worth another try."""


class RateLimited(TransientProviderError):
    """429: try again after `retry_after` seconds (None when the server gave no hint)."""

    kind = "rate_limited"

    def __init__(self, provider: str, message: str, *, retry_after: float | None = None, hint: str = "",
                 status: int | None = None, role: str | None = None):
        self.retry_after = retry_after
        super().__init__(provider, message, hint=hint, status=status, role=role)


class PermanentProviderError(ProviderError):
    """400 (kind `bad_request`), 401/403 (`auth`), quota exhausted (`quota`): trying again cannot help."""

    kind = "bad_request"


class ContentPolicyError(PermanentProviderError):
    """The provider refused this input (e.g. an image prompt) on policy grounds."""

    kind = "content_policy"


class MissingEngine(PermanentProviderError):
    """A program a local provider runs (espeak-ng) is not installed: a missing tool, like ffmpeg."""


class InvalidModelOutput(ProviderError):
    """The model answered, but not in the shape asked for, after every repair attempt.

    `task` is the request's task (outline, memory, script...): an invalid script is the script's own code.
    """

    kind = "invalid_output"

    def __init__(self, provider: str, what: str, problems: list[str], *, task: str = "", role: str | None = None):
        self.problems = problems
        self.task = task
        super().__init__(
            provider,
            f"{what} is still invalid after repair attempts:\n" + "\n".join(f"  - {p}" for p in problems),
            role=role,
        )
