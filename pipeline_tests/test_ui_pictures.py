"""The Dagster UI shows the results as pictures: the thumbnail, a contact sheet of the images and a strip of the
video's frames on their asset pages, checked in a real browser (headless Chromium) against a real webserver."""

import pytest

from pipeline.run import run_locally
from pipeline_tests.browser import chromium, preview_pictures
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief

pytestmark = pytest.mark.e2e


def test_asset_pages_show_thumbnail_contact_sheet_and_frames(instance, data_dir, monkeypatch, webserver, tmp_path):
    assert chromium() is not None, "needs Debian's chromium: `make test` installs it (scripts/system-packages.sh --test)"
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    brief = small_brief("ui-pictures", video={**SHORT_VIDEO, "format": "9:16"})
    assert run_locally(brief, instance=instance).success
    seen = {}
    for asset in ("thumbnail", "images", "video"):
        seen[asset] = preview_pictures(f"{webserver}/assets/{asset}?partition={brief.project_id}",
                                       tmp_path / f"{asset}.png")
        assert seen[asset]["opened"], f"no [Show Markdown] preview on the {asset} page"
        assert len(seen[asset]["pictures"]) == 1, seen[asset]
        picture = seen[asset]["pictures"][0]
        assert picture["complete"] and picture["width"] > 100 and picture["shown_width"] > 100, (asset, picture)
    assert (seen["thumbnail"]["pictures"][0]["width"], seen["thumbnail"]["pictures"][0]["height"]) == (540, 960)
    strip = seen["video"]["pictures"][0]
    assert strip["width"] > 3 * strip["height"], "frames side by side"
