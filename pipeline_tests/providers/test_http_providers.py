"""Each HTTP provider against its loopback server: what it sends, what it makes of the answer."""

import numpy as np
import pytest
from PIL import Image

from pipeline.defs.text.models import Outline
from pipeline.defs.text.prompts import OUTLINE, SYSTEM
from pipeline.providers.errors import ContentPolicyError, PermanentProviderError
from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.providers.speech import wav_duration
from pipeline.providers.stability import StabilityImages
from pipeline.providers.structured import ask_structured
from pipeline.providers.text import TextRequest
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY


def _outline_request(chapters: int) -> TextRequest:
    return TextRequest(task="outline", system=SYSTEM.format(language="en", style="warm"),
                       prompt=OUTLINE.format(kind="novel", prompt="A clock runs backwards.", chapters=chapters,
                                             chapter_words=300))


def test_structured_outline_uses_json_mode_and_the_schema(openai_api, settings):
    outline, responses = ask_structured(OpenAIText(**settings), _outline_request(3), Outline)
    assert len(outline.chapters) == 3 and outline.bible is not None
    sent = openai_api.seen[-1].json()
    assert sent["model"] == "gpt-4o-mini" and sent["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "JSON Schema" in sent["messages"][0]["content"] and '"logline"' in sent["messages"][0]["content"]
    assert openai_api.seen[-1].headers["authorization"] == f"Bearer {KEY}"
    assert responses[0].model == "gpt-4o-mini-2024" and responses[0].prompt_tokens > 0


def test_prose_is_asked_without_json_mode(openai_api, settings):
    request = TextRequest(task="chapter", system="s", prompt='Write chapter 2 of 3, "Dawn", of the novel.')
    answer = OpenAIText(**{**settings, "model": "deepseek-chat", "temperature": 0.3}).generate(request)
    sent = openai_api.seen[-1].json()
    assert "response_format" not in sent and sent["temperature"] == 0.3 and sent["model"] == "deepseek-chat"
    assert "\n\n" in answer.text and not answer.text.lstrip().startswith("{")


def test_local_server_needs_no_key(tmp_path):
    server = fakes.openai_server(key=None).start()
    try:
        provider = OpenAIText(base_url=f"{server.url}/v1", data_dir=str(tmp_path), **FAST)
        provider.generate(TextRequest(task="chapter", system="s", prompt="Write chapter 1 of 1, \"A\"."))
        assert "authorization" not in server.seen[0].headers
    finally:
        server.stop()


def test_speech_writes_a_wav_timed_from_its_samples(openai_api, settings, tmp_path):
    provider = OpenAISpeech(**settings)
    text = "The old clock turned back an hour while the town slept."  # 11 words
    result = provider.synthesize(text, "en", None, tmp_path / "cue.wav")
    sent = openai_api.seen[-1].json()
    assert sent == {"model": "gpt-4o-mini-tts", "input": text, "voice": "alloy", "response_format": "wav"}
    seconds, rate = wav_duration(tmp_path / "cue.wav")
    assert rate == 24000 and seconds == pytest.approx(11 / 2.6, abs=0.01)  # the streamed header was repaired
    assert (result.duration, result.sample_rate) == (seconds, rate)
    assert provider.voice_id("en", None) == "openai:gpt-4o-mini-tts:alloy"
    assert provider.voice_id("en", "nova") == "openai:gpt-4o-mini-tts:nova"
    assert (provider.rate("en"), provider.rate("zh")) == (2.6, 3.5)


def _pixels(path, width=1920, height=1080) -> np.ndarray:
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (width, height))
        return np.asarray(image.convert("RGB"))


def test_openai_image_is_cropped_to_the_exact_size(openai_api, settings, tmp_path):
    description = "A clock tower at night"
    OpenAIImages(**settings).generate(description, 7, 1920, 1080, tmp_path / "a.png")
    pixels = _pixels(tmp_path / "a.png")
    assert (np.abs(pixels.astype(int) - fakes.color_of(description)).max(axis=2) <= 2).all()
    assert openai_api.seen[-1].json() == {"model": "dall-e-3", "prompt": description, "n": 1, "size": "1792x1024",
                                          "response_format": "b64_json"}


def test_gpt_image_models_are_not_sent_response_format(openai_api, settings, tmp_path):
    OpenAIImages(**{**settings, "model": "gpt-image-1", "size": "1536x1024"}).generate("x", 1, 640, 360,
                                                                                    tmp_path / "b.png")
    assert "response_format" not in openai_api.seen[-1].json()
    _pixels(tmp_path / "b.png", 640, 360)


def test_openai_image_refused_by_policy(openai_api, settings, tmp_path):
    openai_api.push(fakes.refused())
    with pytest.raises(ContentPolicyError, match="content policy"):
        OpenAIImages(**settings).generate("x", 1, 1920, 1080, tmp_path / "c.png")
    assert openai_api.count() == 1 and not (tmp_path / "c.png").exists()


@pytest.fixture
def stability(stability_api, tmp_path) -> StabilityImages:
    return StabilityImages(base_url=stability_api.url, api_key=KEY, data_dir=str(tmp_path / "data"), **FAST)


def test_stability_sends_a_multipart_form_and_gets_an_image(stability_api, stability, tmp_path):
    stability.generate("Lanterns over a river", 2**32 + 5, 1920, 1080, tmp_path / "s.png")
    seen = stability_api.seen[-1]
    assert seen.path == "/v2beta/stable-image/generate/core"
    assert seen.headers["accept"] == "image/*" and seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.headers["content-type"].startswith("multipart/form-data")
    assert seen.form() == {"prompt": "Lanterns over a river", "aspect_ratio": "16:9", "output_format": "png",
                           "seed": "6"}  # within Stability's seed range
    pixels = _pixels(tmp_path / "s.png")
    assert (np.abs(pixels.astype(int) - fakes.color_of("Lanterns over a river")).max(axis=2) <= 2).all()


@pytest.mark.parametrize("fault", [
    fakes.moderated(),
    fakes.Fault(200, "", {"Content-Type": "image/png", "finish-reason": "CONTENT_FILTERED"}),
])
def test_stability_moderation_is_a_content_policy_error(stability_api, stability, tmp_path, fault):
    stability_api.push(fault)
    with pytest.raises(ContentPolicyError, match="stability images: .*content"):
        stability.generate("x", 1, 1920, 1080, tmp_path / "m.png")
    assert stability_api.count() == 1


def test_stability_rejected_key_names_its_variable(stability_api, stability, tmp_path):
    with pytest.raises(PermanentProviderError, match=r"401 Unauthorized.*check PIPELINE_IMAGES_API_KEY or STABILITY_API_KEY"):
        stability.model_copy(update={"api_key": "sk-other-key"}).generate("x", 1, 64, 36, tmp_path / "k.png")
