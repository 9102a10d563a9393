"""Choosing the avatar and publisher by environment; secrets passed as dg.EnvVar, never as values."""

import dagster as dg
import pytest

from pipeline.defs.resources import build_resources
from pipeline.providers.avatar import NoAvatar
from pipeline.providers.did import DID_BASE_URL, DidAvatar
from pipeline.providers.publisher import LocalPublisher
from pipeline.providers.youtube import TOKEN_URL, UPLOAD_BASE_URL, YouTubePublisher
from pipeline_tests.providers.conftest import KEY

VARIABLES = ["PIPELINE_AVATAR_PROVIDER", "PIPELINE_AVATAR_API_KEY", "DID_API_KEY", "PIPELINE_AVATAR_BASE_URL",
             "PIPELINE_AVATAR_IMAGE_URL", "PIPELINE_AVATAR_VOICE", "PIPELINE_AVATAR_TIMEOUT",
             "PIPELINE_AVATAR_MAX_WAIT",
             "PIPELINE_AVATAR_POLL_INTERVAL", "PIPELINE_PUBLISHER_PROVIDER", "PIPELINE_EXPORT_DIR",
             "PIPELINE_YOUTUBE_CLIENT_ID", "PIPELINE_YOUTUBE_CLIENT_SECRET", "PIPELINE_YOUTUBE_REFRESH_TOKEN",
             "PIPELINE_YOUTUBE_TOKEN_URL", "PIPELINE_YOUTUBE_UPLOAD_BASE_URL", "PIPELINE_YOUTUBE_CATEGORY_ID",
             "PIPELINE_PUBLISHER_TIMEOUT"]


@pytest.fixture
def env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_avatar_and_a_local_export_by_default(env):
    resources = build_resources()
    assert type(resources["avatar_provider"]) is NoAvatar and not resources["avatar_provider"].enabled
    assert type(resources["publisher"]) is LocalPublisher and resources["publisher"].folder == ""


def test_did_with_its_key_as_an_env_var(env, tmp_path):
    env.setenv("PIPELINE_AVATAR_PROVIDER", "did")
    env.setenv("DID_API_KEY", KEY)
    env.setenv("PIPELINE_AVATAR_IMAGE_URL", "https://cdn.example/presenter.png")
    env.setenv("PIPELINE_AVATAR_MAX_WAIT", "600")
    avatar = build_resources(tmp_path)["avatar_provider"]
    assert type(avatar) is DidAvatar and avatar.base_url == DID_BASE_URL
    assert isinstance(avatar.api_key, dg.EnvVar) and avatar.api_key.env_var_name == "DID_API_KEY"
    assert (avatar.source_url, avatar.max_wait, avatar.data_dir) == ("https://cdn.example/presenter.png", 600.0,
                                                                     str(tmp_path))
    assert KEY not in repr(avatar)


def test_did_without_a_key_names_the_variable(env):
    env.setenv("PIPELINE_AVATAR_PROVIDER", "did")
    with pytest.raises(dg.DagsterInvalidConfigError,
                       match="PIPELINE_AVATAR_PROVIDER=did needs an API key: set DID_API_KEY"):
        build_resources()


def test_youtube_with_its_secrets_as_env_vars(env):
    env.setenv("PIPELINE_PUBLISHER_PROVIDER", "YouTube")
    for name in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN"):
        env.setenv(f"PIPELINE_YOUTUBE_{name}", f"{KEY}-{name}")
    env.setenv("PIPELINE_YOUTUBE_UPLOAD_BASE_URL", "http://127.0.0.1:9/")
    publisher = build_resources()["publisher"]
    assert type(publisher) is YouTubePublisher
    assert {f: getattr(publisher, f).env_var_name for f in ("client_id", "client_secret", "refresh_token")} == {
        "client_id": "PIPELINE_YOUTUBE_CLIENT_ID", "client_secret": "PIPELINE_YOUTUBE_CLIENT_SECRET",
        "refresh_token": "PIPELINE_YOUTUBE_REFRESH_TOKEN"}
    assert (publisher.token_url, publisher.upload_base_url) == (TOKEN_URL, "http://127.0.0.1:9/")
    assert UPLOAD_BASE_URL.startswith("https://") and KEY not in repr(publisher)


def test_youtube_names_every_missing_variable(env):
    env.setenv("PIPELINE_PUBLISHER_PROVIDER", "youtube")
    env.setenv("PIPELINE_YOUTUBE_CLIENT_ID", "id")
    with pytest.raises(dg.DagsterInvalidConfigError,
                       match="needs PIPELINE_YOUTUBE_CLIENT_SECRET, PIPELINE_YOUTUBE_REFRESH_TOKEN"):
        build_resources()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PIPELINE_AVATAR_PROVIDER", "heygen", "PIPELINE_AVATAR_PROVIDER='heygen' is not a known avatar provider; "
     "choose one of: none, did"),
    ("PIPELINE_PUBLISHER_PROVIDER", "vimeo", "choose one of: local, youtube"),
])
def test_unknown_names_are_refused(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(dg.DagsterInvalidConfigError, match=message):
        build_resources()
