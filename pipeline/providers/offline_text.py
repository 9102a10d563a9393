"""The offline text provider: a deterministic composer, seeded by the brief, needing no network."""

import json

from pipeline.providers.composer import compose_chapter, compose_memory, compose_outline, compose_script
from pipeline.providers.text import TextProvider, TextRequest, TextResponse

_COMPOSERS = {
    "outline": lambda inputs: json.dumps(compose_outline(inputs), ensure_ascii=False),
    "chapter": compose_chapter,
    "memory": lambda inputs: json.dumps(compose_memory(inputs), ensure_ascii=False),
    "script": lambda inputs: json.dumps(compose_script(inputs), ensure_ascii=False),
}


class OfflineText(TextProvider):
    """Composes structured, language-aware text from the request's structured inputs."""

    @classmethod
    def from_env(cls, data_dir: str) -> "OfflineText":
        return cls()

    @property
    def name(self) -> str:
        return "offline"

    def generate(self, request: TextRequest) -> TextResponse:
        text = _COMPOSERS[request.task](request.inputs)
        return TextResponse(
            text=text,
            model="offline-composer-1",
            prompt_tokens=len(request.prompt.split()),
            completion_tokens=len(text.split()),
        )
