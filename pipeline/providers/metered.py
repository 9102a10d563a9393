"""Providers wrapped so that every call they make is recorded in the project's usage ledger.

The wrappers stand in for the resource inside an asset body: they answer everything the resource
answers (name, voice_id, max_in_flight...) and meter `generate` / `synthesize`.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.store import item_key

if TYPE_CHECKING:
    from pipeline.providers.speech import SpeechResult
    from pipeline.providers.text import TextRequest, TextResponse
    from pipeline.usage import Meter


class _Metered:
    def __init__(self, provider: Any, meter: "Meter"):
        self._provider = provider
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


class MeteredText(_Metered):
    """A text provider whose calls count tokens against budget.tokens."""

    def generate(self, request: "TextRequest") -> "TextResponse":
        from pipeline.usage import Usage

        self._meter.check("tokens")
        response = self._provider.generate(request)
        usage = Usage(tokens_in=response.prompt_tokens, tokens_out=response.completion_tokens, text_calls=1)
        # Keyed by what is sent: the same request again is answered from the response cache, at no cost.
        key = item_key("text", self._provider.name, request.model_dump(exclude={"inputs"}))
        self._meter.record(key, usage, response.model)
        return response


class MeteredSpeech(_Metered):
    """A speech provider whose cues count seconds against budget.speech_seconds."""

    def synthesize(self, text: str, language: str, voice: str | None, out_path: Path) -> "SpeechResult":
        from pipeline.usage import Usage

        self._meter.check("speech_seconds")
        result = self._provider.synthesize(text, language, voice, out_path)
        key = item_key("speech", self._provider.name, self._provider.voice_id(language, voice), text)
        self._meter.record(key, Usage(speech_seconds=result.duration), self._provider.name)
        return result


class MeteredImages(_Metered):
    """An image provider whose images count against budget.images, reserved before each one is asked for."""

    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        from pipeline.usage import Usage

        one = Usage(images=1)
        self._meter.reserve("images", one)
        try:
            self._provider.generate(description, seed, width, height, out_path)
        except BaseException:
            self._meter.release(one)
            raise
        key = item_key("image", self._provider.name, description, seed, width, height)
        self._meter.record(key, one, self._provider.name, reserved=one)
