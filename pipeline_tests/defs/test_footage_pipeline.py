"""examples/footage-en.yaml through the pipeline against a loopback Pexels API with faults (429 with
Retry-After, 503, a download cut in the middle, an empty search): the clip segments decode to the stock clip's
frames for exactly their narration, the empty search's segment gets a still and says so, the credits reach the
publication and the manuscript, a re-run searches and downloads nothing; a refused key over 20 % fails the step."""

import json
from pathlib import Path

import pytest

from pipeline.brief import load_brief
from pipeline.providers.footage import PexelsFootage, _query
from pipeline.store import ProjectFiles
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.defs.test_media import _failure, _segment_frames, match_clip
from pipeline_tests.providers import fakes
from pipeline_tests.providers.conftest import FAST, KEY
from pipeline_tests.providers.fake_footage import FakeFootage, clip_bytes
from pipeline_tests.render.media import ffprobe

ROOT = Path(__file__).resolve().parents[2]
TEXT = ["brief", "outline", "chapters", "script"]


@pytest.fixture
def footage_api():
    server = FakeFootage(KEY).start()
    yield server
    server.stop()
    assert not server.errors, server.errors


def _pexels(server: FakeFootage, data_dir: Path, key: str = KEY) -> PexelsFootage:
    return PexelsFootage(base_url=server.url, api_key=key, data_dir=str(data_dir), response_cache=False, **FAST)


def test_the_footage_example_against_a_loopback_pexels(footage_api, data_dir, tmp_path):
    brief = load_brief(ROOT / "examples" / "footage-en.yaml", data_dir)
    provider = _pexels(footage_api, data_dir)
    assert materialize(brief, data_dir, TEXT, footage_provider=provider).success
    project = ProjectFiles(data_dir, brief.project_id)
    segments = json.loads(project.path("script.json").read_text())["segments"]
    assert len(segments) >= 3
    footage_api.empty.add(_query(segments[1]["image_description"]))  # segment 1's search finds nothing
    footage_api.fail("GET", "/videos/search", fakes.rate_limited("0.2"), fakes.unavailable())
    footage_api.cut(1)  # the first download stops halfway

    CALLS.clear()
    result = materialize(brief, data_dir, footage_provider=provider)
    assert result.success
    images = json.loads(project.path("images.json").read_text())["images"]
    kinds = [(i["source"], i["kind"]) for i in images]
    assert kinds[1] == ("images", "still") and "found no clip" in images[1]["note"]
    assert all(k == ("footage", "clip") for n, k in enumerate(kinds) if n != 1)
    assert CALLS["images"] == 1  # the still of segment 1, drawn by the images provider
    metadata = result.asset_materializations_for_node("images")[0].metadata
    assert list(metadata["footage_fallbacks"].value) == ["1"] and metadata["footage_provider"].value == "pexels"
    assert metadata["footage_clips"].value == len(segments) - 1
    # every clip is the same stock file (the fake answers one catalogue), downloaded once and resumed once
    downloads = footage_api.downloads()
    assert len(downloads) == 2 and downloads[1].headers["range"].startswith("bytes=")
    cached = data_dir / images[0]["clip"]
    assert cached.read_bytes() == clip_bytes(1280, 720)

    video = project.path("video.mp4")
    narration = json.loads(project.path("narration.json").read_text())
    stream = next(s for s in ffprobe(video)["streams"] if s["codec_type"] == "video")
    assert int(stream["nb_read_frames"]) == round(narration["duration"] * 30)
    spans = _segment_frames(project)
    for segment in (0, 2):  # 60 frames of 30 fps testsrc2, looped and cut at the segment's last frame
        first, end = spans[segment]
        start = first + (90 if segment == 0 else 0)  # after the title card
        assert match_clip(video, cached, start, end) == [k % 60 for k in range(start - first, end - first)]

    # credits: the publication's description, metadata and export, the manuscript's references
    credit = "Ana Lens (https://www.pexels.com/@ana), https://www.pexels.com/video/clip-4101/: Pexels License"
    published = result.asset_materializations_for_node("publication")[0].metadata
    assert [c["author"] for c in published["credits"].value] == ["Ana Lens"]
    exported = json.loads((data_dir / "exports" / brief.project_id / "metadata.json").read_text())
    assert credit in exported["description"] and exported["credits"][0]["licence"] == "Pexels License"
    manuscript = project.path("manuscript.md").read_text()
    assert "### Footage" in manuscript and credit in manuscript and manuscript.count("<!-- footage credits -->") == 1

    # a re-run searches, downloads and draws nothing already done
    seen = len(footage_api.seen)
    CALLS.clear()
    again = materialize(brief, data_dir, ["images", "video", "manuscript", "publication"], footage_provider=provider)
    assert again.success and len(footage_api.seen) == seen and CALLS["images"] == 0
    assert again.asset_materializations_for_node("images")[0].metadata["generated"].value == 0
    assert project.path("manuscript.md").read_text().count("### Footage") == 1


def test_footage_failures_over_20_percent_fail_the_step_with_its_code(footage_api, data_dir):
    brief = load_brief(ROOT / "examples" / "footage-en.yaml", data_dir)
    result = materialize(brief, data_dir, [*TEXT, "images"], footage_provider=_pexels(footage_api, data_dir,
                                                                                      "wrong-key-0000"))
    assert not result.success
    message, metadata = _failure(result, "images")
    assert metadata["error_code"] == "FOOTAGE_AUTH" and metadata["retryable"] is False
    assert "PEXELS_API_KEY" in message and "wrong-key-0000" not in message
