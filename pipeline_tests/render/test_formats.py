"""The three formats and the overlays, measured on the output: ffprobe sizes, subtitle bands inside each
format's safe area, logo corner, size and opacity, the title card's frames, clips padded, motion."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.render.fonts import load_font
from pipeline.render.frame import FORMATS, frame_for, thumbnail_frame
from pipeline.render.overlays import Logo, frame_with_logo, place_logo
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline.render.stills import compose_still, subtitle_box
from pipeline.render.thumbnail import ThumbnailStyle, compose_thumbnail
from pipeline_tests.render.media import ffprobe, solid_png, tone_wav

GROUND = (60, 110, 170)
RED = (250, 10, 10)
LONG = {"en": "The keeper climbed the stairs one last time, counting every step in the dark before dawn.",
        "zh": "天色渐暗，城市的灯火一盏盏亮起，她走进了那家旧书店，书架上落满了灰。"}


def changed(picture, ground=GROUND, tolerance=12) -> np.ndarray:
    """Where a picture differs from the flat ground it was drawn on."""
    return (np.abs(np.asarray(picture, dtype=int) - ground).max(axis=2) > tolerance)


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def inside(box, outer) -> bool:
    return box[0] >= outer[0] and box[1] >= outer[1] and box[2] <= outer[2] and box[3] <= outer[3]


def decoded(path, frame_number: int, size: tuple[int, int]) -> np.ndarray:
    """One frame of a video at full size, as RGB."""
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-vf", f"select=eq(n\\,{frame_number})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_subtitle_band_lies_in_the_safe_area_of_each_format(tmp_path, format, language):
    frame = frame_for(format)
    still = compose_still(solid_png(tmp_path / "g.png", GROUND, frame.size), LONG[language], language, frame)
    assert still.size == frame.size
    drawn = bbox(changed(still))
    assert inside(drawn, frame.safe), (drawn, frame.safe)
    assert drawn[3] >= frame.safe[3] - 4, "the band sits on the safe area's bottom"
    assert drawn[1] > frame.height // 2, "subtitles stay in the lower half"
    box = subtitle_box(LONG[language], language, frame)
    assert inside(tuple(round(v) for v in box), frame.safe)


def test_vertical_subtitles_wrap_to_more_lines_in_a_narrower_band(tmp_path):
    wide, tall = frame_for("16:9"), frame_for("9:16")
    boxes = {f.format: subtitle_box(LONG["zh"], "zh", f) for f in (wide, tall)}
    heights = {k: b[3] - b[1] for k, b in boxes.items()}
    widths = {k: b[2] - b[0] for k, b in boxes.items()}
    assert widths["9:16"] < 0.8 * 1080 and widths["16:9"] > widths["9:16"]
    assert heights["9:16"] > 1.4 * heights["16:9"], "more, shorter lines"


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
@pytest.mark.parametrize("format", FORMATS)
def test_logo_sits_in_its_corner_of_the_safe_area(tmp_path, format, corner):
    frame = frame_for(format)
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(200, 100)), corner, size=0.2)
    still = np.asarray(compose_still(solid_png(tmp_path / "g.png", GROUND, frame.size), "A line of text.", "en",
                                     frame, logo))
    red = (np.abs(still.astype(int) - RED).max(axis=2) <= 6)
    box = bbox(red)
    assert (box[2] - box[0], box[3] - box[1]) == (round(0.2 * 1080), round(0.2 * 1080 / 2))
    left, top, right, bottom = frame.safe
    assert box[0] == left if corner.endswith("left") else box[2] == right
    assert box[1] == top if corner.startswith("top") else box[3] == bottom
    subtitle = bbox(changed(still) & ~red)
    assert subtitle[3] <= box[1] or subtitle[1] >= box[3] or subtitle[2] <= box[0] or subtitle[0] >= box[2], \
        "the subtitle band never covers the logo"


def test_logo_opacity_blends_with_the_picture(tmp_path):
    frame = frame_for("16:9")
    mark = solid_png(tmp_path / "logo.png", RED, size=(100, 100))
    ground = solid_png(tmp_path / "g.png", (20, 20, 20), frame.size)
    still = np.asarray(compose_still(ground, "", "en", frame, Logo(mark, "top-left", 0.1, opacity=0.5)))
    x, y = frame.safe[0] + 50, frame.safe[1] + 50
    assert np.abs(still[y, x].astype(int) - (135, 15, 15)).max() <= 3


def test_bottom_logo_lifts_the_subtitles(tmp_path):
    frame = frame_for("9:16")
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(100, 100)), "bottom-right", 0.15)
    lifted = frame_with_logo(frame, logo)
    mark, (_, y) = place_logo(logo, frame)
    assert lifted.subtitle_bottom < y <= frame.subtitle_bottom - mark.height


def test_title_card_is_the_title_in_the_middle_of_the_safe_area(tmp_path):
    frame = frame_for("9:16")
    still = compose_still(solid_png(tmp_path / "g.png", GROUND, frame.size), "", "en", frame,
                          title="The Last Lighthouse Keeper")
    drawn = bbox(changed(still))
    assert inside(drawn, frame.safe)
    middle = (frame.safe[1] + frame.safe[3]) / 2
    assert abs((drawn[1] + drawn[3]) / 2 - middle) < 10
    white = (np.asarray(still).min(axis=2) > 230).sum()
    assert white > 5000, "the title's letters"


def _request(tmp_path, frame, seconds=2.0, **changes):
    images = [solid_png(tmp_path / f"{n}.png", c, frame.size) for n, c in enumerate([GROUND, (170, 110, 60)])]
    shots = [Shot(images[0], "First line.", 0.0, segment=0), Shot(images[1], "Second line.", 1.0, segment=1)]
    return RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", seconds), total=seconds,
                         out=tmp_path / "out.mp4", work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks",
                         frame=frame, **changes)


@pytest.mark.parametrize("format", FORMATS)
def test_each_format_renders_at_its_size_with_logo_and_title_card(tmp_path, format):
    frame = frame_for(format)
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(120, 120)), "top-left", 0.12)
    result = render_slideshow(_request(tmp_path, frame, logo=logo, title="Tides", title_card_seconds=0.5))
    video = next(s for s in ffprobe(result.path)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (*frame.size, "30/1")
    assert int(video["nb_read_frames"]) == 60 == result.frames
    titled, plain = decoded(result.path, 5, frame.size), decoded(result.path, 20, frame.size)
    centre = (frame.safe[1] + frame.safe[3]) // 2
    middle = slice(centre - 20, centre + 20)
    assert (titled[middle].min(axis=2) > 220).sum() > 300, "the title card shows over the first frames"
    assert (plain[middle].min(axis=2) > 220).sum() == 0, "and is gone after its seconds"
    x, y = frame.safe[0] + 20, frame.safe[1] + 20
    assert np.abs(plain[y, x].astype(int) - RED).max() <= 30, "the logo in its corner"
    band = changed(plain[frame.height // 2:], tolerance=40)
    rows = np.nonzero(band.any(axis=1))[0] + frame.height // 2
    assert rows.max() <= frame.safe[3] + 2, "the subtitle band ends inside the safe area"
    assert result.stills_encoded == 3  # the first still with and without the card, the second


def test_presenter_clip_is_scaled_and_padded_to_a_vertical_frame(tmp_path):
    clip = tmp_path / "presenter.mp4"  # square, like D-ID's clips
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x20c040:s=256x256:r=25:d=1",
                    "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=24000:duration=1", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)], check=True)
    frame = frame_for("9:16")
    result = render_slideshow(_request(tmp_path, frame, intro=clip))
    video = next(s for s in ffprobe(result.path)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (1080, 1920) and int(video["nb_read_frames"]) == 30 + 60
    first = decoded(result.path, 10, frame.size).astype(int)
    assert first[100, 540].max() < 20 and first[1820, 540].max() < 20, "black bars above and below"
    assert np.abs(first[960, 540] - (0x20, 0xC0, 0x40)).max() < 30, "the clip fills the width in the middle"
    assert np.abs(first[960, 20] - (0x20, 0xC0, 0x40)).max() < 30


def test_ken_burns_moves_in_a_vertical_frame_under_a_still_logo_and_title_card(tmp_path):
    from pipeline.providers.images import draw_procedural

    frame = frame_for("9:16")
    image = tmp_path / "scene.png"
    draw_procedural("scene", 1, *frame.size).save(image)
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(100, 100)), "top-right", 0.1)
    shots = [Shot(image, "Moving.", 0.0, segment=0, motion=True)]
    request = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", 1.0), total=1.0, out=tmp_path / "o.mp4",
                            work_dir=tmp_path / "w", chunk_cache=tmp_path / "c", frame=frame, logo=logo,
                            title="Tides", title_card_seconds=0.5)
    result = render_slideshow(request)
    assert result.motion_segments == 1 and result.frames == 30
    early, late = decoded(result.path, 2, frame.size).astype(int), decoded(result.path, 27, frame.size).astype(int)
    assert np.abs(early[300:900] - late[300:900]).mean() > 1, "the picture zooms"
    mark, (x, y) = place_logo(logo, frame)
    spot = (y + mark.height // 2, x + mark.width // 2)
    assert np.abs(early[spot] - RED).max() <= 30 and np.abs(late[spot] - RED).max() <= 30, "the logo holds still"
    centre = (frame.safe[1] + frame.safe[3]) // 2
    assert (early[centre - 20:centre + 20].min(axis=2) > 230).sum() > 300, "the title card over the zoom"
    assert (late[centre - 20:centre + 20].min(axis=2) > 230).sum() == 0, "gone after its half second"


@pytest.mark.parametrize("format,size", [("16:9", (1280, 720)), ("9:16", (1080, 1920)), ("1:1", (1080, 1080))])
@pytest.mark.parametrize("position", ["top", "center", "bottom"])
def test_thumbnail_size_and_title_position_in_every_format(tmp_path, format, size, position):
    frame = thumbnail_frame(format)
    assert frame.size == size
    style = ThumbnailStyle(color=(255, 220, 0), outline=(0, 0, 160), position=position)
    thumb = compose_thumbnail(solid_png(tmp_path / "g.png", GROUND, (1920, 1080)), "雨巷茶馆", "zh", frame, style)
    assert thumb.size == size
    pixels = np.asarray(thumb).astype(int)
    yellow = (np.abs(pixels - (255, 220, 0)).max(axis=2) < 40)
    blue = (np.abs(pixels - (0, 0, 160)).max(axis=2) < 40)
    assert yellow.sum() > 1000 and blue.sum() > 300, "title and outline in the style's colours"
    box = bbox(yellow)
    assert inside(box, frame.safe)
    centre = (box[1] + box[3]) / 2
    third = frame.height / 3
    assert {"top": centre < third, "center": third < centre < 2 * third, "bottom": centre > 2 * third}[position]


def test_thumbnail_shade_colour_logo_and_font(tmp_path):
    frame = thumbnail_frame("1:1")
    ground = solid_png(tmp_path / "g.png", (200, 200, 200), (1080, 1080))
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(100, 100)), "top-left", 0.1)
    shaded = np.asarray(compose_thumbnail(ground, "Tides", "en", frame, ThumbnailStyle(shade=(0, 0, 255)), logo))
    assert shaded[1070, 10, 2] > shaded[1070, 10, 0] + 60, "the shade takes its colour near the title"
    assert np.abs(shaded[60, 60].astype(int) - RED).max() <= 6, "the logo in the corner"
    plain = np.asarray(compose_thumbnail(ground, "Tides", "en", frame))
    assert np.abs(plain[60, 60].astype(int) - RED).max() > 100, "no logo when none is given"
    serif = np.asarray(compose_thumbnail(ground, "Tides", "en", frame, ThumbnailStyle(font="DejaVu Serif")))
    assert (np.abs(serif.astype(int) - plain).max(axis=2) > 60).sum() > 500, "another font draws other glyphs"
    file = load_font("en", 10, face="DejaVu Serif").path
    by_file = np.asarray(compose_thumbnail(ground, "Tides", "en", frame,
                                           ThumbnailStyle(font=Path(file))))
    assert np.abs(by_file.astype(int) - serif).max() <= 2, "a font file draws as its family does"


def test_thumbnail_title_keeps_clear_of_a_logo_on_its_side(tmp_path):
    frame = thumbnail_frame("16:9")
    logo = Logo(solid_png(tmp_path / "logo.png", RED, size=(100, 100)), "bottom-right", 0.25)
    thumb = np.asarray(compose_thumbnail(solid_png(tmp_path / "g.png", GROUND), "A title long enough to span",
                                         "en", frame, ThumbnailStyle(color=(255, 255, 255)), logo))
    white = bbox(thumb.min(axis=2) > 240)
    mark, (_, y) = place_logo(logo, frame)
    assert white[3] <= y, "the title ends above the logo"


def test_frame_sizes_and_safe_areas():
    assert {f: frame_for(f).size for f in FORMATS} == {"16:9": (1920, 1080), "9:16": (1080, 1920),
                                                       "1:1": (1080, 1080)}
    tall = frame_for("9:16")
    assert tall.safe[3] <= 1920 * 0.8 and tall.safe[1] >= 1920 * 0.1, "room for the apps' own bars"
    with pytest.raises(ValueError, match="unknown format"):
        frame_for("4:3")
