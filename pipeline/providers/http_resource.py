"""What every HTTP provider resource shares: endpoint, key, timeouts, retries, cap and cache."""

from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import Field

from pipeline.providers.http import HttpClient
from pipeline.providers.http_errors import Hints

OPENAI_BASE_URL = "https://api.openai.com/v1"


class HttpSettings(dg.ConfigurableResource):
    """Connection settings of an HTTP provider. Give `api_key` as dg.EnvVar: the UI then shows its name only."""

    base_url: str = Field(default=OPENAI_BASE_URL, description="API root, e.g. https://api.openai.com/v1")
    api_key: str | None = Field(default=None, repr=False, description="API key (a dg.EnvVar); none for local servers")
    timeout: float = Field(default=60.0, gt=0, description="seconds to wait for an answer")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds to wait for a connection")
    max_retries: int = Field(default=3, ge=0, description="transport retries of a transient error")
    backoff_base: float = Field(default=1.0, ge=0, description="first retry waits about this many seconds")
    retry_after_cap: float = Field(default=60.0, ge=0, description="longest Retry-After honoured in the step")
    max_in_flight: int = Field(default=4, ge=1, description="requests in flight, across processes")
    response_cache: bool = Field(default=True, description="reuse answers to identical requests")
    data_dir: str = Field(default="", description="data folder holding the caches (empty: PIPELINE_DATA_DIR)")

    role: ClassVar[str] = "text"  # names the PIPELINE_<ROLE>_* variables in messages
    vendor: ClassVar[str] = "openai"
    key_variable: ClassVar[str] = "OPENAI_API_KEY"
    url_variable: ClassVar[str] = "OPENAI_BASE_URL"

    def client(self, model: str) -> HttpClient:
        """A client for this provider's settings (cheap: it holds no connection)."""
        role = self.role.upper()
        url_hint = f"PIPELINE_{role}_BASE_URL" + (f" or {self.url_variable}" if self.url_variable else "")
        hints = Hints(key=f"PIPELINE_{role}_API_KEY or {self.key_variable}", model=f"PIPELINE_{role}_MODEL",
                      base_url=url_hint, timeout=f"PIPELINE_{role}_TIMEOUT")
        return HttpClient(
            provider=f"{self.vendor} {self.role}", base_url=self.base_url, api_key=self.api_key or None,
            model=model, timeout=self.timeout, connect_timeout=self.connect_timeout, max_retries=self.max_retries,
            backoff_base=self.backoff_base, retry_after_cap=self.retry_after_cap, max_in_flight=self.max_in_flight,
            data_dir=Path(self.data_dir).resolve() if self.data_dir else None, cache=self.response_cache,
            hints=hints,
        )
