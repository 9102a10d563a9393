"""Stock footage against a loopback Pexels/Pixabay API: search, choice, streamed download and its faults
(429 with Retry-After, 5xx, a download cut in the middle, a size over the cap, a refused key), settings
from the environment, error codes."""

import time
import traceback

import dagster as dg
import pytest

from pipeline.defs.common import provider_problem
from pipeline.providers.catalog import ROLES
from pipeline.providers.errors import PermanentProviderError, ProviderError, RateLimited, TransientProviderError
from pipeline.providers.footage import Candidate, Credit, PexelsFootage, PixabayFootage, choose, orientation
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.providers.fake_footage import CLIP_SECONDS, FakeFootage, clip_bytes
from pipeline_tests.render.media import ffprobe


@pytest.fixture
def footage_api():
    server = FakeFootage(KEY).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def pexels(server: FakeFootage, tmp_path, key: str = KEY, **changes) -> PexelsFootage:
    return PexelsFootage(base_url=server.url, api_key=key, data_dir=str(tmp_path / "data"),
                         **{"response_cache": False, **FAST, **changes})


def _fails(call, expected: type[ProviderError]) -> ProviderError:
    with pytest.raises(expected) as caught:
        call()
    assert KEY not in "".join(traceback.format_exception(caught.value))
    return caught.value


def test_search_chooses_by_orientation_resolution_and_duration_then_downloads(footage_api, tmp_path):
    provider = pexels(footage_api, tmp_path)
    found = provider.search("A harbour at dawn, boats leaving.", 1920, 1080, 1.5)
    (search,) = footage_api.requests("GET", "/videos/search")
    assert search.headers["authorization"] == KEY  # Pexels takes the bare key
    assert "orientation=landscape" in search.path and "query=A+harbour+at+dawn+boats+leaving" in search.path
    # landscape, long enough (4103 is too short), and no file covers 1920x1080: the largest one
    assert (found.video_id, found.file_id, found.width, found.height) == ("4101", "41011", 1280, 720)
    assert found.credit == Credit(provider="Pexels", id="4101", author="Ana Lens",
                                  author_url="https://www.pexels.com/@ana", url="https://www.pexels.com/video/clip-4101/",
                                  licence="Pexels License", licence_url="https://www.pexels.com/license/")
    path = provider.fetch(found, tmp_path / "data")
    assert path == tmp_path / "data" / "cache" / "footage" / "pexels" / "4101-41011.mp4"
    assert path.read_bytes() == clip_bytes(1280, 720)
    (download,) = footage_api.downloads()
    assert "authorization" not in download.headers  # the key stays with the API, not the file host
    assert provider.fetch(found, tmp_path / "data") == path and len(footage_api.downloads()) == 1  # cached by id
    portrait = provider.search("A harbour at dawn.", 1080, 1920, 1.5)
    assert (portrait.video_id, portrait.width, portrait.height) == ("4102", 360, 640)


def test_choose_rules():
    def c(vid, w, h, s):
        return Candidate(video_id=vid, file_id="f", link="http://x/f.mp4", width=w, height=h, seconds=s,
                         credit=Credit(provider="p", id=vid, author="a", licence="l"))

    small, big, huge, short, tall = c("s", 960, 540, 9), c("b", 1920, 1080, 9), c("h", 3840, 2160, 9), \
        c("short", 1920, 1080, 2), c("t", 1080, 1920, 9)
    assert choose([huge, small, big, tall], 1920, 1080, 5).video_id == "b"  # the fewest pixels that cover
    assert choose([small, tall], 1920, 1080, 5).video_id == "s"  # no cover: the right orientation first
    assert choose([short, small], 1920, 1080, 5).video_id == "s"  # long enough before sharp enough
    assert choose([short], 1920, 1080, 5).video_id == "short"  # looped when nothing is long enough
    assert choose([tall, big], 1080, 1920, 5).video_id == "t"
    assert choose([], 1920, 1080, 5) is None
    assert (orientation(1920, 1080), orientation(1080, 1920), orientation(1080, 1080)) == \
        ("landscape", "portrait", "square")


def test_rate_limit_with_retry_after_is_waited_then_retried(footage_api, tmp_path):
    footage_api.fail("GET", "/videos/search", fakes.rate_limited("0.4"))
    started = time.monotonic()
    found = pexels(footage_api, tmp_path).search("gulls over the quay", 1920, 1080, 1)
    assert time.monotonic() - started >= 0.4 and found is not None
    assert len(footage_api.requests("GET", "/videos/search")) == 2


def test_server_errors_are_retried_in_search_and_download(footage_api, tmp_path):
    provider = pexels(footage_api, tmp_path)
    footage_api.fail("GET", "/videos/search", fakes.unavailable())
    found = provider.search("fish market shutters", 1920, 1080, 1)
    footage_api.fail("GET", "/files/", fakes.unavailable(), fakes.reset())
    path = provider.fetch(found, tmp_path / "data")
    assert path.read_bytes() == clip_bytes(1280, 720) and len(footage_api.downloads()) == 3


def test_a_download_cut_in_the_middle_resumes_from_where_it_stopped(footage_api, tmp_path):
    provider = pexels(footage_api, tmp_path)
    found = provider.search("sunrise over the breakwater", 1920, 1080, 1)
    footage_api.cut(2)  # cut twice: each resumed request gets further, so no retry is spent in vain
    path = provider.fetch(found, tmp_path / "data")
    assert path.read_bytes() == clip_bytes(1280, 720)
    first, second, third = footage_api.downloads()
    total = len(clip_bytes(1280, 720))
    assert "range" not in first.headers
    assert second.headers["range"] == f"bytes={total // 2}-"
    assert int(third.headers["range"].removeprefix("bytes=").rstrip("-")) > total // 2
    info = ffprobe(path)
    assert abs(float(info["format"]["duration"]) - CLIP_SECONDS) < 0.1
    assert not list(path.parent.glob("*.part"))


def test_a_server_that_ignores_the_range_sends_the_file_again(footage_api, tmp_path):
    provider = pexels(footage_api, tmp_path)
    found = provider.search("boats", 1920, 1080, 1)
    footage_api.cut(1)
    footage_api.ignore_range = True
    assert provider.fetch(found, tmp_path / "data").read_bytes() == clip_bytes(1280, 720)
    assert footage_api.downloads()[1].headers["range"]  # asked to resume, answered 200 with the whole file


def test_a_clip_over_the_size_cap_is_refused_and_nothing_is_kept(footage_api, tmp_path):
    from pipeline.providers.download import download_to

    provider = pexels(footage_api, tmp_path)
    found = provider.search("boats", 1920, 1080, 1)
    cap = len(clip_bytes(1280, 720)) // 2
    error = _fails(lambda: download_to(provider.download_client(), found.link, tmp_path / "x.mp4", cap),
                   PermanentProviderError)
    assert f"over the {cap} bytes a clip may have" in str(error) and error.role == "footage"
    assert "PIPELINE_FOOTAGE_MAX_MB" in str(error)
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.mp4.part").exists()
    assert len(footage_api.downloads()) == 1  # refused from its Content-Length: not tried again


def test_a_refused_key_is_permanent_coded_and_never_shown(footage_api, tmp_path):
    error = _fails(lambda: pexels(footage_api, tmp_path, key="wrong-key-1234").search("x", 1920, 1080, 1),
                   PermanentProviderError)
    assert error.kind == "auth" and error.role == "footage" and error.status == 401
    assert "PEXELS_API_KEY" in str(error) and "wrong-key-1234" not in str(error)
    assert provider_problem(error, "images").code == "FOOTAGE_AUTH"
    footage_api.fail("GET", "/videos/search", *[fakes.rate_limited("0.01")] * 4)
    limited = _fails(lambda: pexels(footage_api, tmp_path).search("x", 1920, 1080, 1), RateLimited)
    assert provider_problem(limited, "images").code == "FOOTAGE_RATE_LIMITED"
    footage_api.fail("GET", "/videos/search", *[fakes.unavailable()] * 4)
    down = _fails(lambda: pexels(footage_api, tmp_path).search("x", 1920, 1080, 1), TransientProviderError)
    assert provider_problem(down, "images").code == "FOOTAGE_SERVER_ERROR"


def test_an_empty_search_finds_nothing(footage_api, tmp_path):
    footage_api.empty.add("Nothing like this")
    assert pexels(footage_api, tmp_path).search("Nothing like this!", 1920, 1080, 1) is None


def test_pixabay_search_and_download(footage_api, tmp_path):
    provider = PixabayFootage(base_url=footage_api.url, api_key=KEY, data_dir=str(tmp_path / "data"),
                              response_cache=False, **FAST)
    found = provider.search("tides on a rocky coast", 1920, 1080, 1.5)
    (search,) = footage_api.requests("GET", "/api/videos/")
    assert "authorization" not in search.headers and f"key={KEY}" in search.path and "q=tides" in search.path
    assert (found.video_id, found.width, found.height) == ("4101", 1280, 720)
    assert found.credit.provider == "Pixabay" and found.credit.licence == "Pixabay Content License"
    assert found.credit.author_url == "https://pixabay.com/users/Ana-41010/"
    assert provider.fetch(found, tmp_path / "data").read_bytes() == clip_bytes(1280, 720)
    wrong = PixabayFootage(**{**provider.model_dump(), "api_key": "wrong-key-5678"})
    error = _fails(lambda: wrong.search("x", 1920, 1080, 1), PermanentProviderError)
    assert "wrong-key-5678" not in "".join(traceback.format_exception(error)) and error.role == "footage"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("PIPELINE_FOOTAGE_PROVIDER", "PIPELINE_FOOTAGE_API_KEY", "PIPELINE_FOOTAGE_BASE_URL",
                 "PEXELS_API_KEY", "PIXABAY_API_KEY", "PIPELINE_FOOTAGE_MAX_MB"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_from_the_environment_never_fall_back_to_openai(clean_env, tmp_path):
    role = ROLES["footage"]
    assert role.build(str(tmp_path)).name == "none" and not role.build(str(tmp_path)).enabled
    clean_env.setenv("PIPELINE_FOOTAGE_PROVIDER", "pexels")
    clean_env.setenv("OPENAI_API_KEY", "sk-openai-never-used")
    clean_env.setenv("OPENAI_BASE_URL", "https://openai.example/v1")
    with pytest.raises(dg.DagsterInvalidConfigError, match="PEXELS_API_KEY"):
        role.build(str(tmp_path))
    clean_env.setenv("PEXELS_API_KEY", "pexels-key")
    built = role.build(str(tmp_path))
    assert built.base_url == "https://api.pexels.com" and isinstance(built.api_key, dg.EnvVar)
    assert built.api_key.env_var_name == "PEXELS_API_KEY"
    clean_env.setenv("PIPELINE_FOOTAGE_API_KEY", "footage-key")
    clean_env.setenv("PIPELINE_FOOTAGE_BASE_URL", "http://127.0.0.1:9/")
    clean_env.setenv("PIPELINE_FOOTAGE_MAX_MB", "50")
    built = role.build(str(tmp_path))
    assert built.api_key.env_var_name == "PIPELINE_FOOTAGE_API_KEY" and built.base_url == "http://127.0.0.1:9/"
    assert built.max_mb == 50
    clean_env.setenv("PIPELINE_FOOTAGE_PROVIDER", "pixabay")
    clean_env.delenv("PIPELINE_FOOTAGE_API_KEY")
    clean_env.delenv("PIPELINE_FOOTAGE_BASE_URL")
    with pytest.raises(dg.DagsterInvalidConfigError, match="PIXABAY_API_KEY"):
        role.build(str(tmp_path))
    clean_env.setenv("PIPELINE_FOOTAGE_PROVIDER", "vimeo")
    with pytest.raises(dg.DagsterInvalidConfigError, match="none, pexels, pixabay"):
        role.build(str(tmp_path))
