"""Ken Burns segments: a slow zoom over the image, so every frame differs and is encoded as such.

Used only for the segments a brief asks to move; the subtitles of the segment's cues are overlaid
at their frames, and the result has exactly the frames the segment's cues span, in chunks with the
same encoder settings as the still chunks, so it drops into the stream between them.
"""

from pathlib import Path

from pipeline.render import ffmpeg

ZOOM = 0.08  # the image grows by 8 % over the segment: gentle


def motion_args(base: Path, layers: list[ffmpeg.Overlay], logo: tuple[Path, int, int] | None, out: Path,
                frames: int, width: int, height: int, fps: int, chunk_frames: int) -> list[str]:
    """ffmpeg arguments: zoom into `base` over `frames` frames, each layer shown on frames [a, b] at its row,
    and `logo` (a picture already scaled and faded, its x and y) held still over the zoom."""
    zoom = (f"[0:v]zoompan=z='1+{ZOOM}*on/{max(frames - 1, 1)}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
            f":d=1:s={width}x{height}:fps={fps}[v0]")
    return ffmpeg.segment_args(["-loop", "1", "-framerate", str(fps), "-i", str(base)], zoom, layers, logo, out,
                               frames, fps, chunk_frames)
