"""Choosing providers by environment: PIPELINE_<ROLE>_* variables with the vendors' own names as fallbacks."""

import dagster as dg
import pytest

from pipeline.defs.resources import build_resources
from pipeline.providers.images import ProceduralImages
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.providers.speech import OfflineSpeech
from pipeline.providers.stability import StabilityImages
from pipeline_tests.providers.conftest import KEY

VARIABLES = [f"PIPELINE_{role}_{name}" for role in ("TEXT", "SPEECH", "IMAGES")
             for name in ("PROVIDER", "MODEL", "BASE_URL", "API_KEY", "TIMEOUT", "MAX_IN_FLIGHT")]


@pytest.fixture
def env(monkeypatch):
    for name in [*VARIABLES, "OPENAI_API_KEY", "OPENAI_BASE_URL", "STABILITY_API_KEY", "PIPELINE_SPEECH_VOICE"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _invalid(message: str):
    return pytest.raises(dg.DagsterInvalidConfigError, match=message)


def test_offline_without_variables(env):
    resources = build_resources()
    assert type(resources["text_provider"]) is OfflineText
    assert type(resources["speech_provider"]) is OfflineSpeech
    assert type(resources["image_provider"]) is ProceduralImages


def test_openai_everywhere_with_the_openai_variables(env, tmp_path):
    for role in ("TEXT", "SPEECH", "IMAGES"):
        env.setenv(f"PIPELINE_{role}_PROVIDER", "openai")
    env.setenv("OPENAI_API_KEY", KEY)
    env.setenv("OPENAI_BASE_URL", "https://gateway.example/v1")
    resources = build_resources(tmp_path)
    text, speech, images = (resources[k] for k in ("text_provider", "speech_provider", "image_provider"))
    assert (type(text), type(speech), type(images)) == (OpenAIText, OpenAISpeech, OpenAIImages)
    assert (text.model, speech.model, speech.voice, images.model) == ("gpt-4o-mini", "gpt-4o-mini-tts", "alloy",
                                                                      "dall-e-3")
    for provider in (text, speech, images):
        assert isinstance(provider.api_key, dg.EnvVar) and provider.api_key.env_var_name == "OPENAI_API_KEY"
        assert provider.base_url == "https://gateway.example/v1" and provider.data_dir == str(tmp_path)
        assert KEY not in repr(provider)


def test_role_variables_win_over_the_vendor_ones(env):
    env.setenv("PIPELINE_TEXT_PROVIDER", "OpenAI")
    env.setenv("OPENAI_API_KEY", "sk-general")
    env.setenv("PIPELINE_TEXT_API_KEY", KEY)
    env.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    env.setenv("PIPELINE_TEXT_BASE_URL", "https://api.deepseek.com/v1")
    env.setenv("PIPELINE_TEXT_MODEL", "deepseek-chat")
    env.setenv("PIPELINE_TEXT_TIMEOUT", "300")
    env.setenv("PIPELINE_TEXT_MAX_IN_FLIGHT", "2")
    text = build_resources()["text_provider"]
    assert text.api_key.env_var_name == "PIPELINE_TEXT_API_KEY"
    assert (text.base_url, text.model, text.timeout, text.max_in_flight) == (
        "https://api.deepseek.com/v1", "deepseek-chat", 300.0, 2)


def test_a_local_server_needs_no_key(env):
    env.setenv("PIPELINE_TEXT_PROVIDER", "openai")
    env.setenv("PIPELINE_TEXT_BASE_URL", "http://127.0.0.1:11434/v1")
    env.setenv("PIPELINE_TEXT_MODEL", "qwen2.5:0.5b")
    text = build_resources()["text_provider"]
    assert text.api_key is None and text.name == "openai:qwen2.5:0.5b"


def test_stability_takes_its_own_key_and_never_the_openai_one(env):
    env.setenv("PIPELINE_IMAGES_PROVIDER", "stability")
    env.setenv("OPENAI_API_KEY", KEY)
    with _invalid("PIPELINE_IMAGES_PROVIDER=stability calls https://api.stability.ai, which needs an API key: "
                  "set PIPELINE_IMAGES_API_KEY or STABILITY_API_KEY") as caught:
        build_resources()
    assert KEY not in str(caught.value)
    env.setenv("STABILITY_API_KEY", KEY)
    images = build_resources()["image_provider"]
    assert type(images) is StabilityImages and images.api_key.env_var_name == "STABILITY_API_KEY"


def test_missing_openai_key_names_both_variables(env):
    env.setenv("PIPELINE_SPEECH_PROVIDER", "openai")
    with _invalid("set PIPELINE_SPEECH_API_KEY or OPENAI_API_KEY"):
        build_resources()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PIPELINE_IMAGES_PROVIDER", "dalle", "PIPELINE_IMAGES_PROVIDER='dalle' is not a known images provider; "
     "choose one of: offline, openai, stability"),
    ("PIPELINE_TEXT_PROVIDER", "anthropic", "choose one of: offline, openai$"),
    ("PIPELINE_TEXT_TIMEOUT", "soon", "PIPELINE_TEXT_TIMEOUT='soon' is not a number"),
    ("PIPELINE_TEXT_MAX_IN_FLIGHT", "0", "PIPELINE_TEXT_MAX_IN_FLIGHT='0' must be at least 1"),
])
def test_bad_values_name_the_variable(env, name, value, message):
    env.setenv("PIPELINE_TEXT_PROVIDER", "openai")
    env.setenv("OPENAI_API_KEY", KEY)
    env.setenv(name, value)
    with _invalid(message):
        build_resources()
