"""Footage credits in the manuscript's references and the publication's description: added once, replaced
on a re-run, removed when the video has no stock footage any more, in the brief's language."""

from pipeline.defs.video.credits import END, START, description_with_credits, with_credits
from pipeline.defs.video.models import FootageCredit, Images, SegmentImage

ANA = FootageCredit(provider="Pexels", id="1", author="Ana", author_url="https://www.pexels.com/@ana",
                    url="https://www.pexels.com/video/1/", licence="Pexels License",
                    licence_url="https://www.pexels.com/license/")
BO = FootageCredit(provider="Pixabay", id="2", author="Bo", url="https://pixabay.com/videos/2/",
                   licence="Pixabay Content License")
BOOK = "# Title\n\nText.\n\n## References\n\n[1] A source (notes.md)\n"


def test_the_references_end_with_the_footage_once_and_follow_changes():
    once = with_credits(BOOK, [ANA, BO], "en")
    assert once.startswith(BOOK.rstrip("\n"))
    assert once.count("## References") == 1 and once.count(START) == 1 and once.count(END) == 1
    assert ("### Footage\n\n- Ana (https://www.pexels.com/@ana), https://www.pexels.com/video/1/: Pexels License "
            "(https://www.pexels.com/license/)\n- Bo, https://pixabay.com/videos/2/: Pixabay Content License") in once
    assert with_credits(once, [ANA, BO], "en") == once  # a re-run changes nothing
    fewer = with_credits(once, [BO], "en")
    assert "Ana" not in fewer and "Bo," in fewer and fewer.count(START) == 1
    assert with_credits(fewer, [], "en") == BOOK  # no stock footage: no block
    plain = with_credits("# 标题\n\n正文。\n", [ANA], "zh")
    assert "## 参考资料\n\n### 视频素材\n\n- Ana" in plain


def test_the_description_ends_with_the_credits():
    assert description_with_credits("About tides.", []) == "About tides."
    assert description_with_credits("About tides.", [ANA]).splitlines()[-2:] == [
        "Footage:", "- Ana (https://www.pexels.com/@ana), https://www.pexels.com/video/1/: Pexels License "
        "(https://www.pexels.com/license/)"]


def test_images_list_each_clip_credit_once():
    images = Images(status="success", images=[
        SegmentImage(segment=n, path=f"{n}.png", status="ok", kind="clip", source="footage", credit=credit)
        for n, credit in enumerate([ANA, BO, ANA])])
    assert images.credits == [ANA, BO]
