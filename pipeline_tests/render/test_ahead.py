"""Stills encoded ahead (while the images are still being made): the render that follows finds them cached
and encodes only what depends on the timing (the title card's stills), and its video shows the same frames
as a render that encoded everything itself (the same pictures; x264's rate control makes the bytes differ
with the neighbours a still was encoded with, as for any chunk reused from the cache)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.render import karaoke
from pipeline.render.frame import frame_for
from pipeline.render.overlays import Logo
from pipeline.render.slideshow import RenderRequest, Shot, StillsAhead, render_slideshow
from pipeline.render.subtitle_style import SubtitleStyle
from pipeline_tests.render.media import decoded_frames, solid_png, tone_wav

SMALL = frame_for("16:9", (640, 360))
COLORS = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
CUES = [(0, "One.", 0.0), (0, "One more.", 1.1), (1, "Two.", 2.3), (2, "Three.", 3.2)]
TOTAL = 4.4


@pytest.fixture
def look(tmp_path):
    images = [solid_png(tmp_path / f"{n}.png", c, SMALL.size) for n, c in enumerate(COLORS)]
    logo = Logo(solid_png(tmp_path / "logo.png", (250, 250, 250), (40, 40)), "top-right", 0.1)
    shots = [Shot(image=images[seg], text=text, start=start, segment=seg) for seg, text, start in CUES]

    def request(name: str, **changes) -> RenderRequest:
        base = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", TOTAL), total=TOTAL,
                             out=tmp_path / f"{name}.mp4", work_dir=tmp_path / f"work-{name}",
                             chunk_cache=tmp_path / f"chunks-{name}", frame=SMALL, logo=logo, title="Tides",
                             title_card_seconds=1.0, subtitles=SubtitleStyle(color=(255, 220, 0)))
        return replace(base, **changes)

    return request


def test_a_render_after_stills_ahead_encodes_only_the_title_cards_and_is_the_same_video(look):
    whole = render_slideshow(look("whole"))
    request = look("ahead")
    ahead = StillsAhead(replace(request, audio=Path(), total=0.0))
    for segment in (2, 0, 1):  # as the images come, in any order; shots without their timing
        ahead.add([replace(s, start=0.0) for s in request.shots if s.segment == segment])
    assert ahead.finish() == 4
    result = render_slideshow(request)
    assert whole.stills_encoded == 5  # 4 cues, the first cut where the 1 s title card ends
    assert result.stills_encoded == 1  # the title card's part of the first cue: it depends on the timing
    mine, theirs = decoded_frames(result.path, *SMALL.size), decoded_frames(whole.path, *SMALL.size)
    assert mine.shape == theirs.shape and len(mine) == round(TOTAL * 30) == result.frames
    assert np.abs(mine.astype(int) - theirs.astype(int)).mean(axis=(1, 2, 3)).max() < 1.0


def test_nothing_is_encoded_twice_nor_in_word_mode_and_an_abort_stores_nothing(look):
    request = look("again")
    first = StillsAhead(request)
    first.add(request.shots)
    first.add(request.shots)  # the same stills again: queued once
    assert first.finish() == 4
    second = StillsAhead(request)
    second.add(request.shots)  # all cached already: no encoder is started
    assert second.finish() == 0
    words = StillsAhead(replace(request, subtitles=SubtitleStyle(mode="words")))
    words.add(request.shots)  # word runs depend on the word timings: left to the render
    assert words.finish() == 0
    other = look("aborted")
    aborted = StillsAhead(other)
    aborted.add(other.shots)
    aborted.abort()
    skip = karaoke.skip_path(other.chunk_cache, other.width, other.height, other.fps)  # not a chunk: the repeat
    assert not set(other.chunk_cache.glob("*.h264")) - {skip} and not (other.work_dir / "ahead.h264").exists()
