"""A project through the assets with styled subtitles, word highlight and music, then each changed alone: the
style re-encodes the stills and speaks nothing again; the music re-mixes the audio and encodes no video chunk;
measured on the output (highlighted words against the cue timings, loudness and true peak, the metadata)."""

import json
import subprocess

import numpy as np
import pytest

from pipeline.render.frame import frame_for
from pipeline.render.subtitle_style import SubtitleStyle, block, tokens, word_box
from pipeline.render.words import voiced
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.render.media import loudness_and_peak

FPS = 30


def _metadata(result, asset: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()}


def _frame(path, number: int, size=(1920, 1080)) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(path), "-vf", f"select=eq(n\\,{number})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(int)


def _highlighted_word(frame: np.ndarray, text: str, color) -> int:
    """Which word of the cue's line shows in the highlight colour on a frame (-1: none)."""
    style = SubtitleStyle(mode="words")
    lines = block(text, "en", frame_for("16:9"), style)
    counts = []
    for k in range(len(tokens(text, "en"))):
        x0, y0, x1, y1 = word_box(lines, style, "en", k)
        patch = frame[max(0, y0):y1, max(0, x0):x1]
        counts.append(int((np.abs(patch - np.array(color)).max(axis=2) < 45).sum()))
    best = int(np.argmax(counts))
    return best if counts[best] > 40 else -1


def _video_stream(path) -> bytes:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "h264", "-"],
                          capture_output=True, check=True).stdout


@pytest.mark.e2e
def test_words_then_music_then_volume_each_redoing_only_what_it_must(data_dir):
    CALLS.clear()
    brief = small_brief("styled", video=SHORT_VIDEO)
    assert materialize(brief, data_dir).success
    files = ProjectFiles(data_dir, brief.project_id)
    spoken = CALLS["speech"]
    assert spoken > 0

    # 1. Only the subtitle style: word mode in another highlight colour. Every still is encoded again, no cue
    #    is spoken again, and each word is highlighted from the frame nearest its start in the engine's timing.
    CALLS.clear()
    words = {**SHORT_VIDEO, "subtitles": {"mode": "words", "highlight_color": "#FF3030"}}
    result = materialize(small_brief("styled", video=words), data_dir)
    assert result.success
    assert CALLS["speech"] == 0 and _metadata(result, "narration")["spoken"] == 0
    video = _metadata(result, "video")
    assert video["stills_encoded"] > 0 and video["subtitle_mode"] == "words"
    narration = json.loads(files.path("narration.json").read_text())
    cues = narration["cues"]
    assert video["word_timing_engine"] == sum(1 for c in cues if c["words"]) > len(cues) // 2, video["word_timing"]
    cue = next(c for c in cues if c["words"] and len(c["words"]) >= 4)
    for k in (1, 3):
        first = round((cue["start"] + cue["words"][k]) * FPS)
        assert _highlighted_word(_frame(files.path("video.mp4"), first + 1), cue["text"], (255, 48, 48)) == k
        assert _highlighted_word(_frame(files.path("video.mp4"), first - 1), cue["text"], (255, 48, 48)) == k - 1
    _, last = voiced(files.path(cue["audio"]))
    after = round((cue["start"] + last) * FPS) + 2
    if after < round(cue["end"] * FPS):  # the pause after the cue: its line, no word highlighted
        assert _highlighted_word(_frame(files.path("video.mp4"), after), cue["text"], (255, 48, 48)) == -1
    stream = _video_stream(files.path("video.mp4"))

    # 2. Add music: the audio is mixed and encoded again, not one video chunk; the mix meets the target.
    CALLS.clear()
    music = {**words, "music": "generated", "music_mood": "bright", "music_volume": -18}
    result = materialize(small_brief("styled", video=music), data_dir)
    assert result.success and CALLS["speech"] == 0
    video = _metadata(result, "video")
    assert video["stills_encoded"] == 0 and video["music"] == "generated"
    assert _video_stream(files.path("video.mp4")) == stream
    integrated, peak = loudness_and_peak(files.path("video.mp4"))
    assert abs(integrated - -16.0) <= 0.7 and peak <= -1.0, (integrated, peak)
    exported = json.loads((data_dir / "exports" / brief.project_id / "metadata.json").read_text())
    assert exported["music"]["source"] == "generated" and "CC0" in exported["music"]["licence"]
    assert "CC0" in _metadata(result, "publication")["music"]["licence"]
    louder_before = files.path("video.mp4").read_bytes()

    # 3. Only the music's volume and the loudness target: the same again, at another level.
    CALLS.clear()
    result = materialize(small_brief("styled", video={**music, "music_volume": -10, "loudness": -20}), data_dir)
    assert result.success and CALLS["speech"] == 0
    assert _metadata(result, "video")["stills_encoded"] == 0
    assert _video_stream(files.path("video.mp4")) == stream and files.path("video.mp4").read_bytes() != louder_before
    integrated, peak = loudness_and_peak(files.path("video.mp4"))
    assert abs(integrated - -20.0) <= 0.7 and peak <= -1.0, (integrated, peak)
