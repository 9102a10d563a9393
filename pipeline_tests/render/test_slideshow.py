"""The renderer, checked on real ffmpeg output: frame counts, cue boundaries by pixels, caching."""

import pytest

from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline_tests.render.media import decoded_frames, ffprobe, nearest_color, solid_png, tone_wav

COLORS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 220, 40)]
STARTS = [0.0, 1.37, 2.05, 3.71]  # boundaries that are not whole seconds nor whole frames
TOTAL = 4.9


@pytest.fixture
def request_for(tmp_path):
    images = [solid_png(tmp_path / f"{n}.png", c) for n, c in enumerate(COLORS)]
    audio = tone_wav(tmp_path / "a.wav", TOTAL)

    def make(texts=("One.", "Two.", "Three.", "Four.")):
        shots = [Shot(image=i, text=t, start=s) for i, t, s in zip(images, texts, STARTS)]
        return RenderRequest(shots=shots, audio=audio, total=TOTAL, out=tmp_path / "out.mp4",
                             work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks")

    return make


def test_output_spec_and_exact_frames(request_for):
    result = render_slideshow(request_for())
    info = ffprobe(result.path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1920, 1080)
    assert video["r_frame_rate"] == video["avg_frame_rate"] == "30/1"
    assert video["pix_fmt"] == "yuv420p"
    assert audio["codec_name"] == "aac"
    assert int(video["nb_read_frames"]) == round(TOTAL * 30) == result.frames
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / 30


def test_each_cue_starts_on_the_nearest_frame(request_for):
    frames = decoded_frames(render_slideshow(request_for()).path)
    shown = [nearest_color(f, COLORS) for f in frames]
    switches = [n for n in range(1, len(shown)) if shown[n] != shown[n - 1]]
    assert switches == [round(s * 30) for s in STARTS[1:]]
    assert shown[0] == 0 and shown[-1] == len(COLORS) - 1


def test_rerender_encodes_only_changed_stills(request_for):
    first = render_slideshow(request_for())
    assert first.stills_encoded == 4
    again = render_slideshow(request_for())
    assert again.stills_encoded == 0
    changed = render_slideshow(request_for(texts=("One.", "Two, edited.", "Three.", "Four.")))
    assert changed.stills_encoded == 1
    assert int(ffprobe(changed.path)["streams"][0]["nb_read_frames"]) == round(TOTAL * 30)


def test_presenter_clips_before_and_after(request_for, tmp_path):
    import subprocess

    clip = tmp_path / "presenter.mp4"  # like a D-ID clip: small, 25 fps, 24 kHz AAC
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=256x256:rate=25:duration=1.2",
                    "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=24000:duration=1.2", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)], check=True)
    request = request_for()
    request.intro, request.outro = clip, clip
    result = render_slideshow(request)
    assert round(result.intro_seconds, 3) == round(result.outro_seconds, 3) == 1.2
    info = ffprobe(result.path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1920, 1080, "30/1")
    assert int(video["nb_read_frames"]) == 36 + round(TOTAL * 30) + 36 == result.frames
    assert abs(float(audio["duration"]) - (TOTAL + 2.4)) <= 1 / 30
    frames = decoded_frames(result.path)
    shown = [nearest_color(f, COLORS) for f in frames[36:-36]]
    switches = [n for n in range(1, len(shown)) if shown[n] != shown[n - 1]]
    assert switches == [round(s * 30) for s in STARTS[1:]], "the slideshow starts right after the intro"
    assert frames[10, :, :32].std() > 20 and frames[-10, :, :32].std() > 20  # test pattern, not a flat still


def test_ken_burns_segment_moves_and_keeps_exact_timing(tmp_path):
    from pipeline.providers.images import draw_procedural

    images = []
    for n in range(2):
        path = tmp_path / f"scene{n}.png"
        draw_procedural(f"scene {n}", n, 1920, 1080).save(path)
        images.append(path)
    shots = [Shot(images[0], "Still one.", 0.0, segment=0), Shot(images[1], "Moving one.", 1.37, segment=1, motion=True),
             Shot(images[1], "Moving two.", 2.05, segment=1, motion=True), Shot(images[0], "Still again.", 3.71, segment=2)]
    request = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", TOTAL), total=TOTAL,
                            out=tmp_path / "out.mp4", work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks")
    result = render_slideshow(request)
    assert result.frames == round(TOTAL * 30) and result.motion_segments == 1
    frames = decoded_frames(result.path, 192, 108).astype(int)
    assert int(ffprobe(result.path)["streams"][0]["nb_read_frames"]) == round(TOTAL * 30)
    top = frames[:, :60]  # above the subtitles
    change = [abs(top[n] - top[n - 1]).mean() for n in range(1, len(top))]
    moving = range(round(1.37 * 30) + 1, round(3.71 * 30) - 1)
    still = [n for n in range(1, len(change)) if n < round(1.37 * 30) - 1 or n > round(3.71 * 30) + 1]
    assert sum(change[n - 1] > 0.05 for n in moving) > 0.8 * len(moving), "the zoom moves every frame"
    assert max(change[n - 1] for n in still) < 0.5, "stills stay still"
    again = render_slideshow(request)
    assert again.stills_encoded == 0  # the moving segment is cached as well
