"""Long renders are never silent: ffmpeg's -progress is read, waits report, a full disk says so."""

import time

import pytest

from pipeline.events.progress import Progress
from pipeline.render import ffmpeg
from pipeline.render.slideshow import RenderRequest, Shot, render_slideshow
from pipeline_tests.render.disk import fill, tmpfs
from pipeline_tests.render.media import ffprobe, tone_wav

MAX_SILENCE = 5.0  # seconds: the longest a user may wait for news of a running step


@pytest.mark.parametrize(("lines", "expected"), [
    (["frame=24", "out_time_us=333333", "progress=continue"], ffmpeg.Tick(frames=24, seconds=0.333333)),
    (["frame=0", "out_time_us=N/A", "progress=continue"], ffmpeg.Tick(frames=0, seconds=0.0)),
    (["size=N/A", "out_time_us=2500000", "speed=40x", "progress=end"], ffmpeg.Tick(frames=0, seconds=2.5)),
    (["frame=3", "out_time_us=-23220", "progress=continue"], ffmpeg.Tick(frames=3, seconds=0.0)),
])
def test_progress_blocks_are_read(lines, expected):
    fields: dict[str, str] = {}
    ticks = [ffmpeg.progress_fields(line + "\n", fields) for line in lines]
    assert ticks[:-1] == [None] * (len(lines) - 1) and ticks[-1] == expected


class _Recorder:
    """What Progress hands to the asset context, recorded."""

    def __init__(self):
        import dagster as dg

        self.asset_key, self.has_partition_key, self.events = dg.AssetKey("video"), False, []
        self.log = self

    def log_event(self, event) -> None:
        self.events.append(event.metadata)

    def info(self, message: str) -> None:
        pass


def test_progress_rate_limit_keeps_heartbeats_with_the_same_count():
    now = [0.0]
    recorder = _Recorder()
    progress = Progress(recorder, 100, "frames", interval=0.5, clock=lambda: now[0])  # type: ignore[arg-type]
    for step in range(41):  # a wait reporting every 0.25 s for 10 s, stuck at 10 frames
        now[0] = step * 0.25
        progress.report(10, f"muxing the MP4 ({now[0]:.2f} s)")
    assert len(recorder.events) == 21, "one in two reports is dropped: at most one every 0.5 s"
    assert [e["done"].value for e in recorder.events] == [10] * 21
    progress.report(100, "done")  # the last report is never dropped
    assert recorder.events[-1]["step_percent"].value == 100


def test_a_running_tool_is_heard_from_every_second_of_its_work():
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
            "testsrc=size=64x64:rate=30:duration=2", "-f", "null", "-"]
    seen: list[tuple[float, ffmpeg.Tick]] = []
    started = time.monotonic()
    running = ffmpeg.Running(args, "a two-second test", progress=True)
    running.wait(lambda t: seen.append((time.monotonic(), t)), every=0.25)
    ended = time.monotonic()
    moments = [started, *(m for m, _ in seen), ended]
    assert max(b - a for a, b in zip(moments, moments[1:])) < 0.6
    frames = [t.frames for _, t in seen]
    assert frames == sorted(frames) and frames[-1] > 20, "the ticks carry ffmpeg's own frame count"


def test_ken_burns_render_reports_at_least_every_five_seconds(tmp_path):
    """A moving segment of 8 s is hundreds of frames rendered one by one: it must report while it runs."""
    from pipeline.providers.images import draw_procedural

    image = tmp_path / "scene.png"
    draw_procedural("scene", 1, 1920, 1080).save(image)
    total = 8.0
    shots = [Shot(image, "The town clock runs backwards.", 0.0, segment=0, motion=True),
             Shot(image, "Only at night.", 4.0, segment=0, motion=True)]
    request = RenderRequest(shots=shots, audio=tone_wav(tmp_path / "a.wav", total), total=total,
                            out=tmp_path / "out.mp4", work_dir=tmp_path / "work", chunk_cache=tmp_path / "chunks")
    reports: list[tuple[float, int, int, str]] = []
    started = time.monotonic()
    result = render_slideshow(request, lambda done, of, message: reports.append((time.monotonic(), done, of, message)))
    ended = time.monotonic()

    assert result.motion_segments == 1 and result.frames == round(total * 30)
    assert int(ffprobe(result.path)["streams"][0]["nb_read_frames"]) == round(total * 30)
    moments = [started, *(m for m, *_ in reports), ended]
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert max(gaps) <= MAX_SILENCE, f"{max(gaps):.1f} s without a report in a {ended - started:.1f} s render"
    moving = [done for _, done, _, message in reports if message.startswith("moving segment 0: frame")]
    assert len(moving) >= 3 and moving == sorted(moving) and moving[-1] > moving[0], "frames counted as they go"
    assert [done for _, done, _, _ in reports] == sorted(done for _, done, _, _ in reports), "never goes back"
    assert reports[-1][1] == reports[-1][2] and reports[-1][3] == f"rendered {result.frames} frames"


def test_ffmpeg_on_a_full_disk_is_a_disk_full_error_naming_its_file(tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        fill(disk)
        out = disk / "tone.wav"
        with pytest.raises(ffmpeg.DiskFull) as caught:
            ffmpeg.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        "sine=duration=5", str(out)], "writing a tone")
        assert caught.value.path == out and caught.value.what == "writing a tone"
        assert str(caught.value) == f"writing a tone failed: disk full (No space left on device) writing {out}"
        with pytest.raises(ffmpeg.DiskFull):  # watched the same way
            ffmpeg.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        "sine=duration=5", str(out)], "writing a tone", progress=lambda t: None)
