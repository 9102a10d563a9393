"""Loopback provider servers, started and stopped per test, and providers pointed at them."""

import uuid

import pytest

from pipeline_tests.providers.fakes import FakeServer, openai_server, stability_server

# A key shaped like a real one and unique per session, so a leak anywhere is found by plain search.
KEY = f"sk-test-{uuid.uuid4().hex}"
# Short waits for tests: the real defaults (1 s backoff, 60-120 s timeouts) stay in the resources.
FAST = {"backoff_base": 0.05, "timeout": 2.0, "connect_timeout": 1.0, "retry_after_cap": 5.0}


def _serve(server: FakeServer):
    server.start()
    yield server
    server.stop()
    assert not server.errors, f"the fake server failed: {server.errors!r}"


@pytest.fixture
def openai_api():
    """An OpenAI-compatible API on loopback that accepts KEY only."""
    yield from _serve(openai_server(key=KEY))


@pytest.fixture
def stability_api():
    """A Stability AI API on loopback that accepts KEY only."""
    yield from _serve(stability_server(key=KEY))


@pytest.fixture
def settings(openai_api, tmp_path) -> dict:
    """Settings of a provider pointed at `openai_api`, fast retries, response cache off."""
    return {"base_url": f"{openai_api.url}/v1", "api_key": KEY, "data_dir": str(tmp_path / "data"),
            "response_cache": False, **FAST}
