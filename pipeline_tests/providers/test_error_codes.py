"""Every provider role x failure kind, provoked against the loopback fakes: the step's Dagster failure carries
its code (<ROLE>_<KIND>), whether it is retryable, where it happened and what to do.

A kind a role's API cannot produce is left out (ABSENT says why) rather than faked.
"""

import json
import shutil
from types import SimpleNamespace

import dagster as dg
import pytest

from pipeline.codes import CODES, KINDS, provider_code
from pipeline.defs.common import RETRY
from pipeline.providers.did import DidAvatar
from pipeline.providers.http_errors import Hints, classify
from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.providers.resumable import CHUNK_UNIT
from pipeline.providers.youtube import YouTubePublisher
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize, run_steps
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import KEY
from pipeline_tests.providers.fake_did import FakeDid, no_credits
from pipeline_tests.providers.fake_youtube import CLIENT_ID, REFRESH, SECRET, SECRETS, FakeYouTube, quota_exceeded
from pipeline_tests.providers.server import Fault
from pipeline_tests.publish.project import made_project
from pipeline_tests.services import ROOT

WRONG = "sk-wrong-key-0000"
# One attempt per call (the client's own retries are tested elsewhere), and a timeout the slow fault outlasts.
QUICK = {"max_retries": 0, "timeout": 0.4, "connect_timeout": 1.0, "backoff_base": 0.01}
STEPS = {"text": "outline", "speech": "narration", "images": "images", "avatar": "presenter",
         "publisher": "publication"}
RESOURCES = {"text": "text_provider", "speech": "speech_provider", "images": "image_provider",
             "avatar": "avatar_provider", "publisher": "publisher"}
ABSENT = {
    "images": {"invalid_output": "an image API answers an image or an error; anything else means a wrong base URL "
                                 "(IMAGES_BAD_REQUEST)"},
    "avatar": {"invalid_output": "D-ID answers a talk or an error; a result that is not an MP4 is retried as a "
                                 "server error"},
    "publisher": {"content_policy": "YouTube's upload API refuses nothing on policy grounds when called: a rejection "
                                    "comes later, in the video's status",
                  "invalid_output": "nothing a model writes is published"},
}
CASES = [(role, kind) for role in STEPS for kind in KINDS if kind not in ABSENT.get(role, {})]
FAULTS = {"rate_limited": lambda: fakes.rate_limited("0"), "quota": fakes.quota_exhausted,
          "content_policy": fakes.refused, "timeout": lambda: fakes.slow(1.0), "server_error": fakes.unavailable,
          "bad_request": fakes.bad_request}
VENDOR_FAULTS = {("avatar", "quota"): no_credits, ("avatar", "content_policy"): fakes.moderated,
                 ("publisher", "quota"): quota_exceeded}
NOT_JSON = {"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure! Here is an outline."},
                         "finish_reason": "stop"}]}


@pytest.fixture(scope="module")
def servers():
    started = SimpleNamespace(openai=fakes.openai_server(key=KEY), did=FakeDid(KEY),
                              youtube=FakeYouTube(CLIENT_ID, SECRET, REFRESH, "ya29.codes-access"))
    for server in vars(started).values():
        server.start()
    yield started
    for server in vars(started).values():
        server.stop()
        assert not server.errors, server.errors


@pytest.fixture(autouse=True)
def no_faults_left(servers):
    routes = dict(servers.openai.routes)
    yield
    servers.openai.faults.clear()
    servers.openai.routes = routes
    servers.did.faults.clear()
    servers.youtube.faults.clear()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project scripted offline (the inputs of narration, images and presenter) and one ready to publish."""
    data_dir = tmp_path_factory.mktemp("codes") / "data"
    shutil.copytree(ROOT / "data" / "sources", data_dir / "sources")
    instance = dg.DagsterInstance.ephemeral()
    scripted = small_brief("codes", seed=0)
    assert materialize(scripted, data_dir, ["brief", "outline", "chapters", "script"], instance=instance).success
    publishing = small_brief("codes-publish")
    made_project(data_dir, publishing)
    return SimpleNamespace(data_dir=data_dir, instance=instance, scripted=scripted, publishing=publishing)


def provider(role: str, servers, data_dir, key: str = KEY) -> dg.ConfigurableResource:
    """The role's HTTP provider on its fake, answering at once or not at all."""
    if role == "publisher":
        return YouTubePublisher(client_id=CLIENT_ID, client_secret=SECRET if key == KEY else WRONG,
                                refresh_token=REFRESH, token_url=f"{servers.youtube.url}/token",
                                upload_base_url=servers.youtube.url, chunk_size=CHUNK_UNIT, data_dir=str(data_dir),
                                **QUICK)
    settings = {"api_key": key, "data_dir": str(data_dir), "response_cache": False, **QUICK}
    if role == "avatar":
        return DidAvatar(base_url=servers.did.url, poll_interval=0.05, **settings)
    cls = {"text": OpenAIText, "speech": OpenAISpeech, "images": OpenAIImages}[role]
    return cls(base_url=f"{servers.openai.url}/v1", **settings)


def _silence(server, seen):
    return 200, {"Content-Type": "audio/wav"}, fakes.wav(0)


def provoke(role: str, kind: str, servers, data_dir) -> dg.ConfigurableResource:
    """Set the role's fake up to fail with `kind`; the provider that will meet it."""
    if kind == "auth":
        return provider(role, servers, data_dir, key=WRONG)
    if kind == "invalid_output" and role == "text":
        servers.openai.push(*[Fault(200, NOT_JSON)] * 3)  # the answer and both repairs
    elif kind == "invalid_output":  # speech: a WAV without a sample
        servers.openai.routes["/v1/audio/speech"] = _silence
    else:
        fault = VENDOR_FAULTS.get((role, kind), FAULTS[kind])()
        if role == "avatar":
            servers.did.fail("POST", "/talks", *[fault] * 8)
        elif role == "publisher":
            servers.youtube.fail("POST", "/upload/youtube/v3/videos", *[fault] * 8)
        else:
            servers.openai.push(*[fault] * 60)
    return provider(role, servers, data_dir)


def failure_of(result, step: str):
    failures = [e for e in result.all_events if e.is_step_failure and e.step_key == step]
    assert len(failures) == 1, [e.event_type for e in result.all_events if e.step_key == step]
    return failures[0].step_failure_data


@pytest.mark.parametrize(("role", "kind"), CASES, ids=[f"{r}-{k}" for r, k in CASES])
def test_a_provider_failure_carries_its_code(role, kind, servers, project):
    step, code = STEPS[role], provider_code(role, kind)
    resource = provoke(role, kind, servers, project.data_dir)
    brief = project.publishing if role == "publisher" else project.scripted
    # A 429 asks for a step retry after the server's wait (0 s here), so every retry runs and the last failure
    # is reported; the RetryPolicy's own waits (2-8 s) are left out for the other retryable kinds.
    waits = kind == "rate_limited" and role != "images"
    result = run_steps(brief, project.data_dir, [step], project.instance,
                       retries=waits or not CODES[code].retryable, **{RESOURCES[role]: resource})

    assert not result.success
    failure = failure_of(result, step)
    metadata = {k: v.value for k, v in failure.user_failure_data.metadata.items()}
    assert metadata["error_code"] == code, failure.user_failure_data.description
    assert metadata["retryable"] is CODES[code].retryable
    assert metadata["where"].startswith(step) and metadata["hint"], metadata
    assert failure.user_failure_data.description.startswith(metadata["where"])
    retried = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retried) == (RETRY.max_retries if waits else 0)
    if waits:
        assert failure.error.message.startswith(f"Exceeded max_retries of {RETRY.max_retries}")
    shown = json.dumps(metadata) + failure.user_failure_data.description
    assert not [s for s in (KEY, WRONG, *SECRETS) if s in shown]


def test_a_dropped_connection_is_a_server_error(servers, project):
    servers.openai.push(fakes.reset())
    result = run_steps(project.scripted, project.data_dir, ["outline"], project.instance, retries=False,
                       text_provider=provider("text", servers, project.data_dir))
    metadata = {k: v.value for k, v in failure_of(result, "outline").user_failure_data.metadata.items()}
    assert (metadata["error_code"], metadata["retryable"]) == ("TEXT_SERVER_ERROR", True)
    assert "connection to 127.0.0.1" in metadata["message"] and "is the server up?" in metadata["hint"]


def _refusal(status: int, body: dict):
    return classify("p", status, {}, json.dumps(body).encode(), Hints(), role="images")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (401, {"error": {"message": "Incorrect API key"}}, "auth"),
    (403, {"error": {"message": "no access to this model"}}, "auth"),
    (402, {"name": "payment_required"}, "quota"),
    (403, {"error": {"errors": [{"reason": "quotaExceeded"}]}}, "quota"),
    (429, {"error": {"code": "insufficient_quota"}}, "quota"),
    (429, {"error": {"message": "Rate limit reached"}}, "rate_limited"),
    (400, {"error": {"code": "content_policy_violation"}}, "content_policy"),
    (408, {}, "timeout"),
    (502, {}, "server_error"),
    (404, {}, "bad_request"),
    (422, {"detail": "bad"}, "bad_request"),
])
def test_every_refusal_says_its_kind_and_role(status, body, kind):
    error = _refusal(status, body)
    assert (error.kind, error.role) == (kind, "images")
    if kind == "quota":
        assert "the quota is exhausted" in str(error) or "no credit left" in str(error)
