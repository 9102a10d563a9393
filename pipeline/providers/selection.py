"""An HTTP provider's settings from `PIPELINE_<ROLE>_*` variables, falling back to the vendor's own names."""

import os

import dagster as dg

from pipeline.providers.http import redact_url
from pipeline.providers.http_resource import HttpSettings
from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.providers.stability import StabilityImages

HTTP_PROVIDERS: dict[str, dict[str, type[HttpSettings]]] = {
    "text": {"openai": OpenAIText},
    "speech": {"openai": OpenAISpeech},
    "images": {"openai": OpenAIImages, "stability": StabilityImages},
}


def _invalid(message: str) -> dg.DagsterInvalidConfigError:
    return dg.DagsterInvalidConfigError(message, [], None)


def _first_set(*names: str) -> str | None:
    return next((n for n in names if n and os.environ.get(n, "").strip()), None)


def _number(variable: str, kind: type, minimum: float) -> float | None:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise _invalid(f"{variable}={raw!r} is not a{'n integer' if kind is int else ' number'}") from None
    if value < minimum:
        raise _invalid(f"{variable}={raw!r} must be at least {minimum:g}")
    return value


def http_provider(role: str, name: str, data_dir: str) -> HttpSettings:
    """The `name` provider of `role`, configured from the environment; the key passed as dg.EnvVar.

    Raises DagsterInvalidConfigError naming the variable to set when a hosted API has no key.
    """
    cls = HTTP_PROVIDERS[role][name]
    prefix = f"PIPELINE_{role.upper()}_"
    settings: dict[str, object] = {"data_dir": data_dir}
    if model := os.environ.get(prefix + "MODEL", "").strip():
        settings["model"] = model
    if url_variable := _first_set(prefix + "BASE_URL", cls.url_variable):
        settings["base_url"] = os.environ[url_variable].strip()
    base_url = str(settings.get("base_url") or cls.model_fields["base_url"].default)
    if key_variable := _first_set(prefix + "API_KEY", cls.key_variable):
        settings["api_key"] = dg.EnvVar(key_variable)
    elif not base_url.startswith("http://"):
        raise _invalid(f"{prefix}PROVIDER={name} calls {redact_url(base_url)}, which needs an API key: set "
                       f"{prefix}API_KEY or {cls.key_variable} (only plain-http local servers such as "
                       "Ollama, vLLM or llama.cpp need none)")
    for suffix, field, kind, minimum in (("TIMEOUT", "timeout", float, 0.001), ("MAX_IN_FLIGHT", "max_in_flight", int, 1)):
        if (value := _number(prefix + suffix, kind, minimum)) is not None:
            settings[field] = value
    if role == "speech" and (voice := os.environ.get("PIPELINE_SPEECH_VOICE", "").strip()):
        settings["voice"] = voice
    return cls(**settings)
