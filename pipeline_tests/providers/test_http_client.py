"""Transport retries against a real loopback server: backoff, Retry-After, timeouts, resets, permanent errors."""

import logging
import time
import traceback
from email.utils import formatdate

import pytest

from pipeline.providers.errors import (
    ContentPolicyError,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from pipeline.providers.openai_compat import OpenAIText
from pipeline.providers.text import TextRequest
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import KEY

CHAPTER = TextRequest(task="chapter", system="You write.", prompt='Write chapter 1 of 2, "Dusk", of the novel.')
PATH = "/v1/chat/completions"


@pytest.fixture
def logs(caplog):
    """Every log record at DEBUG, httpx and httpcore included, to search for the key."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _fails(provider: OpenAIText, expected: type[ProviderError]) -> ProviderError:
    with pytest.raises(expected) as caught:
        provider.generate(CHAPTER)
    error = caught.value
    text = "".join(traceback.format_exception(error))
    assert KEY not in text and KEY not in repr(error) and KEY not in repr(provider)
    return error


def _warnings(logs) -> list[str]:
    return [r.getMessage() for r in logs.records if r.name == "pipeline.providers.http_client"]


def test_503_twice_then_success_waits_exponential_backoff(openai_api, settings, logs):
    openai_api.push(fakes.unavailable(), fakes.unavailable())
    started = time.monotonic()
    answer = OpenAIText(**settings).generate(CHAPTER)
    elapsed = time.monotonic() - started
    assert "clock" in answer.text and answer.completion_tokens > 0
    assert openai_api.count(PATH) == 3
    assert elapsed >= 0.5 * 0.05 * (1 + 2)  # backoff 0.05 x 2^n, jitter never below half
    notices = _warnings(logs)
    assert len(notices) == 2 and "503 Service Unavailable" in notices[0] and "retry 1 of 3" in notices[0]
    assert KEY not in logs.text


def test_503_every_time_gives_up_after_four_attempts(openai_api, settings):
    openai_api.push(*[fakes.unavailable()] * 4)
    started = time.monotonic()
    error = _fails(OpenAIText(**settings), TransientProviderError)
    assert time.monotonic() - started >= 0.5 * 0.05 * (1 + 2 + 4)
    assert openai_api.count(PATH) == 4
    assert str(error).startswith("openai text: 503 Service Unavailable: the server could not answer now")
    assert "The server is overloaded" in str(error) and "gave up after 4 attempts" in str(error)


def test_429_retry_after_seconds_is_honoured(openai_api, settings):
    openai_api.push(fakes.rate_limited("0.6"))
    started = time.monotonic()
    OpenAIText(**settings).generate(CHAPTER)
    assert time.monotonic() - started >= 0.6
    assert openai_api.count(PATH) == 2


def test_429_retry_after_http_date_is_honoured(openai_api, settings):
    when = int(time.time()) + 2
    openai_api.push(fakes.rate_limited(formatdate(when, usegmt=True)))
    OpenAIText(**settings).generate(CHAPTER)
    assert time.time() >= when - 0.05  # waited until the date the server named
    assert openai_api.count(PATH) == 2


def test_retry_after_over_the_cap_hands_over_to_the_step_retry(openai_api, settings):
    openai_api.push(fakes.rate_limited("120"))
    error = _fails(OpenAIText(**settings), RateLimited)
    assert error.retry_after == 120 and openai_api.count(PATH) == 1
    assert "wait 120 s" in str(error) and "retry policy" in str(error)


def test_answer_slower_than_the_timeout_is_retried(openai_api, settings, logs):
    openai_api.push(fakes.slow(1.5))
    started = time.monotonic()
    OpenAIText(**{**settings, "timeout": 0.4}).generate(CHAPTER)
    assert time.monotonic() - started >= 0.4
    assert openai_api.count(PATH) == 2
    assert "no answer from 127.0.0.1" in _warnings(logs)[0]


def test_every_answer_too_slow_names_the_timeout_variable(openai_api, settings):
    openai_api.push(*[fakes.slow(0.8)] * 2)
    error = _fails(OpenAIText(**{**settings, "timeout": 0.3, "max_retries": 1}), TransientProviderError)
    assert "within 0.3 s" in str(error) and "PIPELINE_TEXT_TIMEOUT" in str(error)
    assert "gave up after 2 attempts" in str(error)


def test_connection_reset_is_retried(openai_api, settings, logs):
    openai_api.push(fakes.reset())
    OpenAIText(**settings).generate(CHAPTER)
    assert openai_api.count(PATH) == 2
    assert "connection to 127.0.0.1" in _warnings(logs)[0]


def test_no_server_listening_is_transient_and_names_the_url_variable(settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = OpenAIText(**{**settings, "base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 1})
    error = _fails(provider, TransientProviderError)
    assert "ConnectError" in str(error) and "PIPELINE_TEXT_BASE_URL or OPENAI_BASE_URL" in str(error)


@pytest.mark.parametrize(("fault", "expected", "message"), [
    (fakes.bad_request(), PermanentProviderError,
     "openai text: 400 Bad Request: the request was rejected; the server said: Invalid value for 'size' "
     "(check PIPELINE_TEXT_MODEL and the input)"),
    (fakes.quota_exhausted(), PermanentProviderError, "429 Too Many Requests: the quota is exhausted"),
    (fakes.refused(), ContentPolicyError, "400 Bad Request: refused by the provider's content policy"),
    (fakes.Fault(404, {"error": {"message": "model 'gpt-9' not found"}}), PermanentProviderError,
     "404 Not Found: the model or endpoint was not found; the server said: model 'gpt-9' not found "
     "(check PIPELINE_TEXT_MODEL and PIPELINE_TEXT_BASE_URL or OPENAI_BASE_URL)"),
])
def test_permanent_errors_fail_at_once(openai_api, settings, fault, expected, message):
    openai_api.push(fault)
    error = _fails(OpenAIText(**settings), expected)
    assert message in str(error)
    assert openai_api.count(PATH) == 1


def test_rejected_key_is_named_by_variable_and_scrubbed_from_the_echo(openai_api, settings, logs):
    wrong = f"sk-wrong-{KEY[-12:]}"
    openai_api.push(*[fakes.unavailable()] * 1)
    provider = OpenAIText(**{**settings, "api_key": wrong})
    error = _fails(provider, PermanentProviderError)
    assert str(error).startswith("openai text: 401 Unauthorized: the API key was rejected")
    assert "(check PIPELINE_TEXT_API_KEY or OPENAI_API_KEY)" in str(error)
    assert "Incorrect API key provided: [redacted]" in str(error)  # the server echoed it back
    assert wrong not in str(error) and wrong not in logs.text and wrong not in repr(provider)
    assert openai_api.count(PATH) == 2  # the 503, then the 401 once


def test_key_echoed_in_transient_errors_never_reaches_logs_or_messages(openai_api, settings, logs):
    echo = fakes.Fault(502, {"error": {"message": f"upstream refused token {KEY}"}})
    openai_api.push(*[echo] * 4)
    error = _fails(OpenAIText(**settings), TransientProviderError)
    assert "upstream refused token [redacted]" in str(error)
    assert any(r.name.startswith(("httpx", "httpcore")) for r in logs.records)  # their logs were captured too
    assert KEY not in logs.text and all(KEY not in str(r.args) for r in logs.records)
    assert openai_api.seen[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent, and only there
