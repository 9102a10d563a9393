"""YouTube publishing against a loopback OAuth + upload API: token grant, chunks, resume after faults, thumbnail."""

import logging
import os
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from pipeline.providers.errors import PermanentProviderError
from pipeline.providers.publisher import PublishPackage
from pipeline.providers.resumable import CHUNK_UNIT, next_offset
from pipeline.providers.youtube import YouTubePublisher
from pipeline_tests.providers import fakes
from pipeline_tests.providers.fake_youtube import ACCESS, CLIENT_ID, REFRESH, SECRET, SECRETS, FakeYouTube

SIZE = 3 * CHUNK_UNIT + 12345  # four chunks of 256 KiB, the last one short
WHEN = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)


@pytest.fixture
def youtube_api():
    server = FakeYouTube(CLIENT_ID, SECRET, REFRESH, ACCESS).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def publisher(server: FakeYouTube, tmp_path: Path, **changes) -> YouTubePublisher:
    settings = {"client_id": CLIENT_ID, "client_secret": SECRET, "refresh_token": REFRESH,
                "token_url": f"{server.url}/token", "upload_base_url": server.url, "chunk_size": CHUNK_UNIT,
                "backoff_base": 0.05, "timeout": 2.0, "connect_timeout": 1.0, "data_dir": str(tmp_path), **changes}
    return YouTubePublisher(**settings)


def package(tmp_path: Path, **changes) -> PublishPackage:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "video.mp4").write_bytes(os.urandom(SIZE))
    Image.new("RGB", (1280, 720), (200, 40, 40)).save(folder / "thumbnail.jpg", "JPEG")
    for name in ("video.srt", "video.vtt"):
        (folder / name).write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    fields = {"project": "yt", "data_dir": tmp_path, "work_dir": folder / "publication", "video": folder / "video.mp4",
              "thumbnail": folder / "thumbnail.jpg", "srt": folder / "video.srt", "vtt": folder / "video.vtt",
              "title": "The <Backward> Clock", "description": "A clockmaker's apprentice.", "tags": ["clock", "story"],
              "privacy": "private", "publish_at": WHEN, **changes}
    return PublishPackage(**fields)


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(("fault", "resumed_at"), [
    ("cut", CHUNK_UNIT + CHUNK_UNIT // 2),  # the server kept half of chunk 2, then answered 503
    ("reset", CHUNK_UNIT),  # the connection dropped during chunk 2: nothing of it arrived
])
def test_upload_resumes_from_the_servers_range(youtube_api, tmp_path, caplog, fault, resumed_at):
    caplog.set_level(logging.DEBUG)
    if fault == "cut":
        youtube_api.cut_put = 2
    else:
        youtube_api.fail("PUT", "/upload/session/", fakes.Fault(), fakes.reset())  # chunk 1 passes, chunk 2 drops
    item = package(tmp_path)
    started = time.monotonic()
    result = publisher(youtube_api, tmp_path).publish(item)
    assert time.monotonic() - started >= 0.5 * 0.05  # waited the backoff before asking for the status

    assert (result.video_id, result.url) == ("vid1", "https://www.youtube.com/watch?v=vid1")
    session = youtube_api.sessions["s1"]
    assert bytes(session["data"]) == item.video.read_bytes()  # every byte, once, in order
    ranges = [s.headers["content-range"] for s in youtube_api.requests("PUT")]
    assert ranges[:3] == [f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}", f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{SIZE}",
                          f"bytes */{SIZE}"]
    assert ranges[3].startswith(f"bytes {resumed_at}-")
    assert ranges[-1].endswith(f"-{SIZE - 1}/{SIZE}")

    (grant,) = youtube_api.requests("POST", "/token")
    assert grant.body.decode().startswith("grant_type=refresh_token&client_id=client-123.apps.example")
    (create,) = youtube_api.requests("POST", "/upload/youtube/v3/videos")
    assert create.headers["authorization"] == f"Bearer {ACCESS}"
    assert (create.headers["x-upload-content-length"], create.headers["x-upload-content-type"]) == (str(SIZE),
                                                                                                 "video/mp4")
    meta = create.json()
    assert meta["snippet"] == {"title": "The Backward Clock", "description": "A clockmaker's apprentice.",
                               "tags": ["clock", "story"], "categoryId": "27", "defaultLanguage": "en",
                               "defaultAudioLanguage": "en"}
    assert meta["status"] == {"privacyStatus": "private", "publishAt": WHEN.isoformat(),
                              "containsSyntheticMedia": True, "selfDeclaredMadeForKids": False}
    assert youtube_api.thumbnails["vid1"] == item.thumbnail.read_bytes()
    (thumb,) = youtube_api.requests("POST", "/upload/youtube/v3/thumbnails/set")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert any("asking the server how much of the upload it has" in r.getMessage() for r in caplog.records)
    _no_secrets(caplog.text)


def test_public_video_without_schedule(youtube_api, tmp_path):
    publisher(youtube_api, tmp_path).publish(package(tmp_path, privacy="public", publish_at=None))
    status = youtube_api.requests("POST", "/upload/youtube/v3/videos")[0].json()["status"]
    assert status["privacyStatus"] == "public" and "publishAt" not in status
    assert status["containsSyntheticMedia"] is True


def test_rejected_client_fails_at_once_without_uploading(youtube_api, tmp_path):
    wrong = publisher(youtube_api, tmp_path, client_secret=f"GOCSPX-wrong-{uuid.uuid4().hex}")
    with pytest.raises(PermanentProviderError) as caught:
        wrong.publish(package(tmp_path))
    text = "".join(traceback.format_exception(caught.value))
    assert str(caught.value).startswith("youtube publisher: the OAuth token grant was refused: 401 Unauthorized")
    assert "invalid_client" in str(caught.value)
    assert "check PIPELINE_YOUTUBE_CLIENT_ID, PIPELINE_YOUTUBE_CLIENT_SECRET and PIPELINE_YOUTUBE_REFRESH_TOKEN" in text
    assert wrong.client_secret not in text and REFRESH not in text and wrong.client_secret not in repr(wrong)
    assert len(youtube_api.requests("POST", "/token")) == 1  # a 401 is not retried
    assert not youtube_api.requests("POST", "/upload/") and not youtube_api.requests("PUT")


def test_publishing_again_never_uploads_twice(youtube_api, tmp_path):
    item = package(tmp_path)
    first = publisher(youtube_api, tmp_path).publish(item)
    again = publisher(youtube_api, tmp_path).publish(item)  # a step retry after the thumbnail failed, say
    assert (first.video_id, again.video_id, again.reused_upload) == ("vid1", "vid1", True)
    assert len(youtube_api.sessions) == 1 and len(youtube_api.requests("POST", "/upload/youtube/v3/thumbnails")) == 2


@pytest.mark.parametrize(("header", "offset"), [(None, 0), ("bytes=0-0", 1), ("bytes=0-524287", 524288),
                                                ("garbage", 0)])
def test_next_offset(header, offset):
    assert next_offset(header) == offset


def test_chunk_size_must_be_whole_units(youtube_api, tmp_path):
    with pytest.raises(Exception, match="multiple of 262144 bytes"):
        publisher(youtube_api, tmp_path, chunk_size=CHUNK_UNIT + 1)
