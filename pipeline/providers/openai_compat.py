"""OpenAI-compatible providers: chat completions, /audio/speech and /images/generations.

The same wire protocol is spoken by OpenAI, Gemini's OpenAI endpoint, DeepSeek, Qwen (DashScope
compatible mode), Ollama (`http://127.0.0.1:11434/v1`), vLLM and llama.cpp's server.
"""

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from pipeline.providers.errors import ContentPolicyError, PermanentProviderError, TransientProviderError
from pipeline.providers.http_client import Reply
from pipeline.providers.http_resource import HttpSettings
from pipeline.providers.images import ImageProvider
from pipeline.providers.media import pcm_wav, save_cover
from pipeline.providers.speech import SpeechProvider, SpeechResult, wav_duration
from pipeline.providers.structured import JSON_ANSWER
from pipeline.providers.text import TextProvider, TextRequest, TextResponse
from pipeline.store import atomic_write

JSON_TASKS = {"outline", "memory", "script"}  # tasks whose answer is parsed as JSON
_THINKING = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)  # reasoning models' preamble


class OpenAIText(TextProvider, HttpSettings):
    """Text from any OpenAI-compatible chat completions API."""

    model: str = Field(default="gpt-4o-mini", description="chat model, e.g. gpt-4o-mini, deepseek-chat, qwen2.5")
    timeout: float = Field(default=120.0, gt=0, description="seconds to wait for an answer (chapters are long)")
    temperature: float | None = Field(default=None, description="sampling temperature (unset: the server's)")

    role: ClassVar[str] = "text"

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def generate(self, request: TextRequest) -> TextResponse:
        system = request.system
        body: dict[str, Any] = {"model": self.model}
        if request.json_schema is not None or request.task in JSON_TASKS:
            body["response_format"] = {"type": "json_object"}
            if request.json_schema is not None:
                system += JSON_ANSWER.format(schema=json.dumps(request.json_schema, ensure_ascii=False))
        body["messages"] = [{"role": "system", "content": system}, {"role": "user", "content": request.prompt}]
        if self.temperature is not None:
            body["temperature"] = self.temperature
        client = self.client(self.model)
        data = client.request_json("POST", "/chat/completions", json_body=body, cache=True)
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise PermanentProviderError(client.provider, "the answer has no choices[0].message",
                                         hint=f"check that {client.hints.base_url} is an OpenAI-compatible API",
                                         role=client.role) from None
        text = _THINKING.sub("", message.get("content") or "")
        if not text.strip():
            if choice.get("finish_reason") == "content_filter" or message.get("refusal"):
                raise ContentPolicyError(client.provider, f"the model refused the {request.task}: "
                                         f"{message.get('refusal') or 'content filter'}", hint="rephrase the brief",
                                         role=client.role)
            raise TransientProviderError(client.provider, f"the model sent an empty answer for the {request.task}",
                                         role=client.role)
        usage = data.get("usage") or {}
        return TextResponse(text=text, model=str(data.get("model") or self.model),
                            prompt_tokens=int(usage.get("prompt_tokens") or 0),
                            completion_tokens=int(usage.get("completion_tokens") or 0))


class OpenAISpeech(SpeechProvider, HttpSettings):
    """Speech from an OpenAI-compatible /audio/speech API, as 16-bit PCM WAV."""

    model: str = Field(default="gpt-4o-mini-tts", description="speech model, e.g. gpt-4o-mini-tts or tts-1")
    voice: str = Field(default="alloy", description="voice when the brief names none")
    words_per_second: float = Field(default=2.6, gt=0, description="speaking rate for word-counted languages")
    chars_per_second: float = Field(default=3.5, gt=0, description="speaking rate for Chinese, in characters")

    role: ClassVar[str] = "speech"
    env_texts: ClassVar[dict[str, str]] = {"MODEL": "model", "VOICE": "voice"}

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def voice_id(self, language: str, voice: str | None) -> str:
        return f"openai:{self.model}:{voice or self.voice}"

    def rate(self, language: str) -> float:
        return self.chars_per_second if language == "zh" else self.words_per_second

    def concurrency(self) -> int:
        return self.max_in_flight  # the client's slots hold every run on the machine to it as well

    def synthesize(self, text: str, language: str, voice: str | None, out_path: Path) -> SpeechResult:
        client = self.client(self.model)
        body = {"model": self.model, "input": text, "voice": voice or self.voice, "response_format": "wav"}
        reply = client.request("POST", "/audio/speech", json_body=body, accept="audio/wav", cache=True,
                               check=lambda r: _require_wav(r, client.provider, client.role))
        atomic_write(out_path, pcm_wav(reply.content, client.provider, client.role))
        seconds, rate = wav_duration(out_path)
        if seconds <= 0:
            raise PermanentProviderError(client.provider, f"no audio for {text[:40]!r}", hint="check the voice",
                                         role=client.role, kind="invalid_output")
        return SpeechResult(duration=seconds, sample_rate=rate)


def _require_wav(reply: Reply, provider: str, role: str | None) -> None:
    """Refuse a broken WAV before it reaches the response cache."""
    pcm_wav(reply.content, provider, role)


# The sizes each family of image model accepts: landscape, portrait, square. Servers that speak the protocol
# for other models (a local Stable Diffusion) get dall-e-3's, which they usually accept.
MODEL_SIZES = {"dall-e-3": ("1792x1024", "1024x1792", "1024x1024"),
               "gpt-image": ("1536x1024", "1024x1536", "1024x1024"),
               "dall-e-2": ("1024x1024", "1024x1024", "1024x1024")}


def request_size(model: str, width: int, height: int) -> str:
    """The size to ask `model` for: the accepted one nearest the aspect of `width` x `height` (then cropped)."""
    family = next((f for f in MODEL_SIZES if model.startswith(f)), "dall-e-3")
    landscape, portrait, square = MODEL_SIZES[family]
    aspect = width / height
    return landscape if aspect > 1.2 else portrait if aspect < 1 / 1.2 else square


class OpenAIImages(ImageProvider, HttpSettings):
    """Images from an OpenAI-compatible /images/generations API, cropped to the asked size."""

    model: str = Field(default="dall-e-3", description="image model, e.g. dall-e-3 or gpt-image-1")
    size: str | None = Field(default=None, description="size asked of the API (unset: the model's size nearest "
                                                       "the asked aspect, e.g. dall-e-3 1792x1024 or 1024x1792)")
    timeout: float = Field(default=120.0, gt=0, description="seconds to wait for an image")

    role: ClassVar[str] = "images"

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def generate(self, description: str, seed: int, width: int, height: int, out_path: Path) -> None:
        client = self.client(self.model)
        body: dict[str, Any] = {"model": self.model, "prompt": description, "n": 1,
                                "size": self.size or request_size(self.model, width, height)}
        if not self.model.startswith("gpt-image"):  # gpt-image models always answer base64, and refuse the field
            body["response_format"] = "b64_json"
        data = client.request_json("POST", "/images/generations", json_body=body, cache=True)
        try:
            item = data["data"][0]
            picture = base64.b64decode(item["b64_json"], validate=True) if item.get("b64_json") else None
            url = item.get("url")
        except (KeyError, IndexError, TypeError, binascii.Error):
            raise PermanentProviderError(client.provider, "the answer has no data[0].b64_json or url",
                                         hint=f"check that {client.hints.base_url} is an OpenAI-compatible API",
                                         role=client.role) from None
        if picture is None:
            if not url:
                raise PermanentProviderError(client.provider, "the answer carries no image", role=client.role)
            picture = client.download(url)
        save_cover(picture, width, height, out_path, client.provider, client.role)
