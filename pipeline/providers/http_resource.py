"""What every HTTP provider resource shares: transport settings, then endpoint, key and cache.

Each provider also builds itself from `PIPELINE_<ROLE>_*` variables (`from_env`), falling back to the
vendor's own names (e.g. OPENAI_API_KEY), so adding a vendor touches its module and the catalog only.
"""

import os
from pathlib import Path
from typing import Any, ClassVar, Self

import dagster as dg
from pydantic import Field

from pipeline.providers import env
from pipeline.providers.http_client import HttpClient, redact_url
from pipeline.providers.http_errors import Hints

OPENAI_BASE_URL = "https://api.openai.com/v1"


class TransportSettings(dg.ConfigurableResource):
    """How a provider's HTTP calls are made: timeouts, transport retries, cap on calls in flight, caches."""

    timeout: float = Field(default=60.0, gt=0, description="seconds to wait for an answer")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds to wait for a connection")
    max_retries: int = Field(default=3, ge=0, description="transport retries of a transient error")
    backoff_base: float = Field(default=1.0, ge=0, description="first retry waits about this many seconds")
    retry_after_cap: float = Field(default=60.0, ge=0, description="longest Retry-After honoured in the step")
    max_in_flight: int = Field(default=4, ge=1, description="requests in flight, across processes")
    data_dir: str = Field(default="", description="data folder holding the caches (empty: PIPELINE_DATA_DIR)")

    def transport(self) -> dict[str, Any]:
        """These settings as HttpClient arguments."""
        return {"timeout": self.timeout, "connect_timeout": self.connect_timeout, "max_retries": self.max_retries,
                "backoff_base": self.backoff_base, "retry_after_cap": self.retry_after_cap,
                "max_in_flight": self.max_in_flight,
                "data_dir": Path(self.data_dir).resolve() if self.data_dir else None}


class HttpSettings(TransportSettings):
    """Connection settings of an HTTP provider. Give `api_key` as dg.EnvVar: the UI then shows its name only."""

    base_url: str = Field(default=OPENAI_BASE_URL, description="API root, e.g. https://api.openai.com/v1")
    api_key: str | None = Field(default=None, repr=False, description="API key (a dg.EnvVar); none for local servers")
    response_cache: bool = Field(default=True, description="reuse answers to identical requests")

    role: ClassVar[str] = "text"  # names the PIPELINE_<ROLE>_* variables in messages; its errors' role (codes.ROLES)
    vendor: ClassVar[str] = "openai"  # its name in PIPELINE_<ROLE>_PROVIDER and in messages
    key_variable: ClassVar[str] = "OPENAI_API_KEY"
    url_variable: ClassVar[str] = "OPENAI_BASE_URL"
    api: ClassVar[str] = "an OpenAI-compatible API (usually ending in /v1)"  # what the base URL must point at
    # PIPELINE_<ROLE>_<suffix> variables read into fields: text ones, then numbers (kind, minimum)
    env_texts: ClassVar[dict[str, str]] = {"MODEL": "model"}
    env_numbers: ClassVar[dict[str, tuple[str, type, float]]] = {"TIMEOUT": ("timeout", float, 0.001),
                                                                 "MAX_IN_FLIGHT": ("max_in_flight", int, 1)}

    @classmethod
    def from_env(cls, data_dir: str) -> Self:
        """This provider configured from the environment, the key passed as dg.EnvVar.

        Raises DagsterInvalidConfigError naming the variable to set when a hosted API has no key.
        """
        prefix = f"PIPELINE_{cls.role.upper()}_"
        settings: dict[str, object] = {"data_dir": data_dir}
        for suffix, name in cls.env_texts.items():
            if value := env.text(prefix + suffix):
                settings[name] = value
        if url_variable := env.first_set(prefix + "BASE_URL", cls.url_variable):
            settings["base_url"] = os.environ[url_variable].strip()
        base_url = str(settings.get("base_url") or cls.model_fields["base_url"].default)
        if key_variable := env.first_set(prefix + "API_KEY", cls.key_variable):
            settings["api_key"] = dg.EnvVar(key_variable)
        elif not base_url.startswith("http://"):
            raise env.invalid(cls.missing_key(base_url))
        for suffix, (name, kind, minimum) in cls.env_numbers.items():
            if (value := env.number(prefix + suffix, kind, minimum)) is not None:
                settings[name] = value
        return cls(**settings)

    @classmethod
    def missing_key(cls, base_url: str) -> str:
        """What to set when no key is configured for `base_url`."""
        prefix = f"PIPELINE_{cls.role.upper()}_"
        return (f"{prefix}PROVIDER={cls.vendor} calls {redact_url(base_url)}, which needs an API key: set "
                f"{prefix}API_KEY or {cls.key_variable} (only plain-http local servers such as "
                "Ollama, vLLM or llama.cpp need none)")

    def client(self, model: str) -> HttpClient:
        """A client for this provider's settings (cheap: it holds no connection)."""
        role = self.role.upper()
        url_hint = f"PIPELINE_{role}_BASE_URL" + (f" or {self.url_variable}" if self.url_variable else "")
        hints = Hints(key=f"PIPELINE_{role}_API_KEY or {self.key_variable}", model=f"PIPELINE_{role}_MODEL",
                      base_url=url_hint, timeout=f"PIPELINE_{role}_TIMEOUT", api=self.api)
        return HttpClient(provider=f"{self.vendor} {self.role}", base_url=self.base_url, role=self.role,
                          api_key=self.api_key or None, model=model, cache=self.response_cache, hints=hints,
                          **self.transport())
