"""The pure rules behind the client: status classes, Retry-After, backoff, URL and WAV clean-up."""

import io
import json
import wave

import pytest

from pipeline.providers.errors import ContentPolicyError, PermanentProviderError, RateLimited, TransientProviderError
from pipeline.providers.http_client import backoff_delay, redact_url
from pipeline.providers.http_errors import Hints, classify, parse_retry_after, server_message
from pipeline.providers.media import pcm_wav
from pipeline_tests.providers.fakes import wav


@pytest.mark.parametrize(("headers", "seconds"), [
    ({}, None),
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "0.25"}, 0.25),
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # in the past: no wait
    ({"retry-after": "soon"}, None),
])
def test_retry_after(headers, seconds):
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(headers, now=now) == seconds


@pytest.mark.parametrize("attempt", [0, 1, 2])
def test_backoff_is_exponential_with_bounded_jitter(attempt):
    low, high = backoff_delay(attempt, 1.0, rng=lambda: 0.0), backoff_delay(attempt, 1.0, rng=lambda: 0.999)
    assert low == 0.5 * 2**attempt and high == pytest.approx(1.499 * 2**attempt)


def _error(status, body, headers=None):
    return classify("p", status, headers or {}, json.dumps(body).encode(), Hints(key="K_VAR"), secrets=("sk-1234",))


@pytest.mark.parametrize(("status", "body", "headers", "kind"), [
    (200, {}, {}, type(None)),
    (500, {"error": "boom"}, {}, TransientProviderError),
    (503, {}, {}, TransientProviderError),
    (408, {}, {}, TransientProviderError),
    (429, {"error": {"message": "Rate limit reached"}}, {"retry-after": "2"}, RateLimited),
    (429, {"error": {"code": "insufficient_quota", "message": "You exceeded your current quota"}}, {},
     PermanentProviderError),
    # Gemini's per-minute limits speak of quota too, but carry a retry delay: wait, do not give up
    (429, {"error": {"status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded", "details": [
        {"retryDelay": "20s"}]}}, {}, RateLimited),
    (400, {"error": {"code": "content_policy_violation"}}, {}, ContentPolicyError),
    (400, {"error": {"code": "moderation_blocked"}}, {}, ContentPolicyError),
    (403, {"name": "content_moderation", "errors": ["flagged"]}, {}, ContentPolicyError),
    (401, {"error": {"message": "Incorrect API key provided: sk-1234"}}, {}, PermanentProviderError),
    (402, {"name": "payment_required"}, {}, PermanentProviderError),
    (404, {}, {}, PermanentProviderError),
    (422, {"detail": "bad"}, {}, PermanentProviderError),
])
def test_classify(status, body, headers, kind):
    error = _error(status, body, headers)
    assert type(error) is kind
    assert error is None or "sk-1234" not in str(error)


def test_rate_limited_carries_the_wait():
    error = _error(429, {}, {"retry-after": "3"})
    assert error.retry_after == 3 and "wait 3 s" in str(error)


@pytest.mark.parametrize(("body", "message"), [
    (b'{"error": {"message": "m1", "type": "t"}}', "m1"),
    (b'{"error": "m2"}', "m2"),
    (b'{"errors": ["a", "b"], "name": "bad_request"}', "a; b"),
    (b'{"detail": "m3"}', "m3"),
    (b"<html>\n  Bad   gateway</html>", "<html> Bad gateway</html>"),
])
def test_server_message(body, message):
    assert server_message(body) == message


def test_redact_url_drops_credentials():
    assert redact_url("http://user:pw@127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
    assert redact_url("https://api.openai.com/v1") == "https://api.openai.com/v1"


def test_streamed_wav_header_is_rewritten_with_the_true_length():
    fixed = pcm_wav(wav(1.25, rate=24000, streaming=True), "p")
    with wave.open(io.BytesIO(fixed)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        assert w.getnframes() == 30000


@pytest.mark.parametrize("data", [b"ID3\x03 an mp3", b"RIFF\x00\x00\x00\x00WAVEnothing"])
def test_non_wav_answers_are_refused(data):
    with pytest.raises(PermanentProviderError, match="WAV"):
        pcm_wav(data, "p")
