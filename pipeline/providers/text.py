"""The text role: one request/response shape for every implementation."""

from abc import abstractmethod
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, Field

TextTask = Literal["outline", "chapter", "memory", "script"]


class TextRequest(BaseModel):
    """What an asset asks of a text model.

    `system` and `prompt` are the rendered prompts an HTTP model reads; `inputs` carries the same
    content structured, for implementations that compose text themselves. `json_schema` is set when
    the answer must be JSON of that schema.
    """

    task: TextTask
    system: str
    prompt: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    json_schema: dict[str, Any] | None = None
    attempt: int = 0


class TextResponse(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class TextProvider(dg.ConfigurableResource):
    """Writes text for a request. Implementations: offline composer, OpenAI-compatible HTTP."""

    @property
    @abstractmethod
    def name(self) -> str:
        """A short label for metadata and messages, e.g. 'offline' or 'openai:gpt-4o-mini'."""

    @abstractmethod
    def generate(self, request: TextRequest) -> TextResponse:
        """Answer one request; raise a ProviderError subclass on failure."""
