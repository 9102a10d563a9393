"""The response cache (no second payment for an identical call) and the cross-process slot limiter."""

import multiprocessing
import threading
from pathlib import Path

import pytest

from pipeline.providers.errors import PermanentProviderError
from pipeline.providers.openai_compat import OpenAIText
from pipeline.providers.text import TextRequest
from pipeline_tests.providers import fakes, workers
from pipeline_tests.providers.conftest import KEY


def _request(n: int) -> TextRequest:
    return TextRequest(task="chapter", system="s", prompt=f'Write chapter {n} of 3, "Night".')


@pytest.fixture
def cached(settings) -> OpenAIText:
    return OpenAIText(**{**settings, "response_cache": True})


def test_identical_call_is_answered_from_the_cache(openai_api, cached, settings):
    first = cached.generate(_request(1))
    again = OpenAIText(**{**settings, "response_cache": True, "timeout": 9.0}).generate(_request(1))
    assert again == first and openai_api.count() == 1
    cached.generate(_request(2))
    cached.model_copy(update={"model": "other"}).generate(_request(1))
    assert openai_api.count() == 3  # another prompt, another model: new calls
    files = list(Path(cached.data_dir).rglob("*.bin"))
    assert len(files) == 3 and all("cache/responses/openai-text/" in str(f) for f in files)
    assert all(KEY.encode() not in f.read_bytes() and KEY not in str(f) for f in files)


def test_cache_switched_off_by_environment(openai_api, cached, monkeypatch):
    monkeypatch.setenv("PIPELINE_RESPONSE_CACHE", "off")
    cached.generate(_request(1))
    cached.generate(_request(1))
    assert openai_api.count() == 2


def test_failures_are_not_cached(openai_api, cached):
    openai_api.push(fakes.bad_request())
    with pytest.raises(PermanentProviderError):
        cached.generate(_request(1))
    cached.generate(_request(1))
    cached.generate(_request(1))
    assert openai_api.count() == 2


def test_threads_share_the_slots(tmp_path):
    server = fakes.openai_server(delay=0.25).start()
    try:
        go = threading.Event()
        go.set()
        assert workers.call_in_threads(f"{server.url}/v1", str(tmp_path), 2, 6, go, "t") == 6
        assert server.peak == 2 and server.count() == 6
    finally:
        server.stop()


def test_processes_share_the_slots(tmp_path):
    """Two processes with four threads each, three slots: the server never sees more than three at once."""
    server = fakes.openai_server(delay=0.4).start()
    context = multiprocessing.get_context("spawn")
    go, ready, results = context.Event(), context.Queue(), context.Queue()
    processes = [context.Process(target=workers.main, args=(f"{server.url}/v1", str(tmp_path), 3, 4, go, ready,
                                                            results, f"p{n}-")) for n in range(2)]
    try:
        for p in processes:
            p.start()
        assert sorted(ready.get(timeout=60) for _ in processes) == ["p0-", "p1-"]
        go.set()  # both processes are up: their eight threads start together
        done = [results.get(timeout=60) for _ in processes]
        for p in processes:
            p.join(30)
        assert done == [4, 4] and all(p.exitcode == 0 for p in processes)
        assert server.count() == 8 and server.peak == 3
    finally:
        for p in processes:
            if p.is_alive():
                p.kill()
        server.stop()
