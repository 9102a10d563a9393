"""The brief's own media through the pipeline: every file checked before anything runs (missing, outside the
data folder, a symlink out of it, undecodable, no video stream), segment indexes checked against the script
at the images step, more or fewer files than segments, and examples/media-en.yaml end to end: its clip
segments decode to the source clips' frames for exactly their narration, and a re-run makes nothing again."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.brief import BriefError, load_brief, parse_brief
from pipeline.render.timing import frame_spans
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.render.footage_media import clip_file
from pipeline_tests.render.media import decoded_frames, ffprobe, tone_wav

ROOT = Path(__file__).resolve().parents[2]
FPS = 30


def _problems(data: dict, data_dir: Path) -> list[str]:
    with pytest.raises(BriefError) as raised:
        parse_brief(data, data_dir)
    return raised.value.problems


def _brief(files: list[dict], **video) -> dict:
    return {"project_id": "media-check", "prompt": "Tides.", "video": {**SHORT_VIDEO, **video},
            "media": {"files": files}}


def test_every_file_is_checked_before_anything_runs(data_dir, tmp_path):
    media = data_dir / "media"
    clip_file(media / "ok.mp4")
    (media / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    (media / "notes.txt").write_text("not a picture")
    tone_wav(media / "speech.wav", 0.5)
    outside = tmp_path / "outside.mp4"
    shutil.copy(media / "ok.mp4", outside)
    (media / "link.mp4").symlink_to(outside)
    (media / "inside-link.mp4").symlink_to(media / "ok.mp4")
    (media / "folder.mp4").mkdir()

    def problem(file: str) -> str:
        (line,) = _problems(_brief([{"file": "media/ok.mp4"}, {"file": file}]), data_dir)
        assert line.startswith("brief: media.files.1.file: "), line
        return line

    assert "no file 'media/missing.mp4' in the data folder" in problem("media/missing.mp4")
    assert "'../outside.mp4' leads outside the data folder" in problem("../outside.mp4")
    assert "'media/link.mp4' leads outside the data folder" in problem("media/link.mp4")  # a symlink out
    assert "must be a relative path inside the data folder" in problem(str(outside))
    assert "is a directory, not a regular file" in problem("media/folder.mp4")
    assert "'media/broken.mp4' is neither an image nor a video that ffmpeg can decode" in problem("media/broken.mp4")
    assert "is neither an image nor a video" in problem("media/notes.txt")
    assert "'media/speech.wav' has no video stream (it has: audio); a clip needs one" in problem("media/speech.wav")
    brief = parse_brief(_brief([{"file": "media/inside-link.mp4"}, {"file": "media/ok.mp4", "fit": "contain",
                                                                    "audio": 0.5}]), data_dir)
    assert [f.file for f in brief.media.files] == ["media/inside-link.mp4", "media/ok.mp4"]
    # shapes and ranges: before any file is looked at
    assert _problems(_brief([{"file": "a.mp4", "fit": "stretch"}]), None)[0].startswith("media.files.0.fit:")
    assert _problems(_brief([{"file": "a.mp4", "audio": 2}]), None)[0].startswith("media.files.0.audio:")
    twice = _problems(_brief([{"file": "a.mp4", "segment": 1}, {"file": "b.mp4", "segment": 1}]), None)
    assert twice == ["media.files: segment 1 is given more than one file: a segment shows one"]
    (far,) = _problems(_brief([{"file": "a.mp4", "segment": 40}]), None)
    assert "media.files.0.segment: segment 40 is out of range: a script of at most 60 s in segments of at least " \
           "4 s has segments 0 to 16" in far


def _run_to_images(brief, data_dir):
    return materialize(brief, data_dir, ["brief", "outline", "chapters", "script", "images"])


def _failure(result, step: str):
    event = next(e for e in result.all_events if e.is_step_failure and e.step_key == step)
    data = event.step_failure_data.user_failure_data
    return data.description, {k: v.value for k, v in data.metadata.items()}


def test_a_segment_the_script_does_not_have_fails_the_images_step(data_dir):
    clip_file(data_dir / "media" / "a.mp4")
    brief = small_brief("media-range", media={"files": [{"file": "media/a.mp4", "segment": 12}]})
    result = _run_to_images(brief, data_dir)
    assert not result.success
    segments = len(json.loads(ProjectFiles(data_dir, brief.project_id).path("script.json").read_text())["segments"])
    assert segments <= 12
    message, metadata = _failure(result, "images")
    assert metadata["error_code"] == "BRIEF_INVALID" and metadata["retryable"] is False
    assert (f"media.files.0.segment: segment 12 does not exist: the script has {segments} segments "
            f"(0 to {segments - 1}); 'media/a.mp4' names it") in message


def test_more_files_than_segments_leaves_the_last_out_and_fewer_leave_stills(data_dir):
    for n in range(3):
        clip_file(data_dir / "media" / f"{n}.mp4", seconds=0.5)
    from PIL import Image

    Image.new("RGB", (300, 200), (10, 200, 30)).save(data_dir / "media" / "green.png")
    many = [{"file": "media/green.png"}, *({"file": f"media/{n % 3}.mp4"} for n in range(30))]
    brief = small_brief("media-many", media={"files": many})
    result = _run_to_images(brief, data_dir)
    assert result.success
    images = json.loads(ProjectFiles(data_dir, brief.project_id).path("images.json").read_text())
    segments = len(images["images"])
    assert [i["media"] for i in images["images"]] == [m["file"] for m in many[:segments]]
    assert images["unused_media"] == [m["file"] for m in many[segments:]]
    assert [i["kind"] for i in images["images"]] == ["still"] + ["clip"] * (segments - 1)
    metadata = result.asset_materializations_for_node("images")[0].metadata
    assert metadata["media_unused"].value == images["unused_media"] and metadata["clips"].value == segments - 1

    few = small_brief("media-few", media={"files": [{"file": "media/1.mp4", "segment": 2}, {"file": "media/0.mp4"}]})
    CALLS.clear()
    assert _run_to_images(few, data_dir).success
    images = json.loads(ProjectFiles(data_dir, few.project_id).path("images.json").read_text())["images"]
    assert [(i["source"], i["media"]) for i in images[:3]] == [("media", "media/0.mp4"), ("images", None),
                                                              ("media", "media/1.mp4")]
    assert all(i["source"] == "images" and i["kind"] == "still" for i in images[3:])
    assert CALLS["images"] == len(images) - 2  # the images provider drew the others


def _segment_frames(project: ProjectFiles) -> dict[int, tuple[int, int]]:
    """Each segment's [first, end) frame in the video, from the narration's cues as the renderer times them."""
    cues = json.loads(project.path("narration.json").read_text())
    spans = frame_spans([c["start"] for c in cues["cues"]], cues["duration"], FPS)
    found: dict[int, list[int]] = {}
    at = 0
    for cue, frames in zip(cues["cues"], spans):
        found.setdefault(cue["segment"], [at, at])[1] = at + frames
        at += frames
    return {s: (a, b) for s, (a, b) in found.items()}


def match_clip(video: Path, source: Path, first: int, end: int, size=(160, 90), cover=None) -> list[int]:
    """For each frame of [first, end) of `video`, the index of the nearest frame of `source` (top 70 %)."""
    out = decoded_frames(video, *size).astype(int)
    frames = decoded_frames(source, *size)
    if cover is not None:
        frames = np.stack([cover(f) for f in frames])
    rows = int(size[1] * 0.7)
    return [int(np.argmin([np.abs(out[k][:rows] - f[:rows].astype(int)).mean() for f in frames]))
            for k in range(first, end)]


def test_the_media_example_end_to_end(data_dir):
    brief = load_brief(ROOT / "examples" / "media-en.yaml", data_dir)
    CALLS.clear()
    result = materialize(brief, data_dir)
    assert result.success
    project = ProjectFiles(data_dir, brief.project_id)
    images = json.loads(project.path("images.json").read_text())["images"]
    assert [(i["source"], i["kind"], i["media"]) for i in images] == [
        ("media", "clip", "sources/media/testcard.mp4"), ("media", "still", "sources/media/mandelbrot.jpg"),
        ("images", "still", None), ("media", "clip", "sources/media/portrait.mp4")]
    video = project.path("video.mp4")
    narration = json.loads(project.path("narration.json").read_text())
    stream = next(s for s in ffprobe(video)["streams"] if s["codec_type"] == "video")
    assert int(stream["nb_read_frames"]) == round(narration["duration"] * FPS)
    spans = _segment_frames(project)
    # segment 0: testcard.mp4, 30 fps, 60 frames, looped; each frame is the source's frame k mod 60
    first, end = spans[0]
    source = data_dir / "sources" / "media" / "testcard.mp4"
    assert match_clip(video, source, first, end) == [k % 60 for k in range(end - first)]
    # segment 3: portrait.mp4, 25 fps, 9:16 covered into 16:9: the centre strip, frame k at time k / 30
    first, end = spans[3]
    tall = data_dir / "sources" / "media" / "portrait.mp4"
    matched = match_clip(video, tall, first, min(end, first + 44), cover=_centre_strip)  # its first pass
    assert all(abs(m - k * 25 / 30) <= 1 for k, m in enumerate(matched)), matched
    # segment 1: the 4:3 picture contained: black bars at the sides, the picture between
    first, end = spans[1]
    frame = decoded_frames(video, 160, 90)[first + 2].astype(int)
    assert frame[:60, :15].mean() < 8 and frame[:60, -15:].mean() < 8 and frame[:60, 40:120].mean() > 30
    metadata = result.asset_materializations_for_node("video")[0].metadata
    assert metadata["clip_segments"].value == 2
    checks = [c for c in result.get_asset_check_evaluations() if c.check_name == "video_duration_matches_narration"]
    assert checks and all(c.passed for c in checks)

    # a re-run draws, fits and encodes nothing already done
    chunks = set(project.cache_dir("chunks").glob("*.h264"))
    CALLS.clear()
    again = materialize(brief, data_dir, ["images", "video"])
    assert again.success and CALLS["images"] == 0
    meta = again.asset_materializations_for_node("images")[0].metadata
    assert (meta["generated"].value, meta["reused"].value) == (0, 4)
    assert again.asset_materializations_for_node("video")[0].metadata["stills_encoded"].value == 0
    assert set(project.cache_dir("chunks").glob("*.h264")) == chunks


def _centre_strip(frame: np.ndarray) -> np.ndarray:
    """A 180x320 source frame (decoded at 160x90, squeezed) covered into 16:9 as the renderer does it."""
    from PIL import Image

    tall = Image.fromarray(frame).resize((160, round(160 * 320 / 180)))
    top = (tall.height - 90) // 2
    return np.asarray(tall.crop((0, top, 160, top + 90)))
