"""Ken Burns segments: a slow zoom over the image, so every frame differs and is encoded as such.

Used only for the segments a brief asks to move; the subtitles of the segment's cues are overlaid
at their frames, and the result has exactly the frames the segment's cues span, in chunks with the
same encoder settings as the still chunks, so it drops into the stream between them.
"""

from pathlib import Path

from pipeline.render import ffmpeg

ZOOM = 0.08  # the image grows by 8 % over the segment: gentle


def motion_args(base: Path, layers: list[tuple[Path, int, int]], logo: tuple[Path, int, int] | None, out: Path,
                frames: int, width: int, height: int, fps: int, chunk_frames: int) -> list[str]:
    """ffmpeg arguments: zoom into `base` over `frames` frames, each layer shown on frames [a, b], and
    `logo` (a picture already scaled and faded, its x and y) held still over the zoom."""
    inputs = ["-loop", "1", "-framerate", str(fps), "-i", str(base)]
    graph = [f"[0:v]zoompan=z='1+{ZOOM}*on/{max(frames - 1, 1)}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
             f":d=1:s={width}x{height}:fps={fps}[v0]"]
    last = "v0"
    for n, (layer, first, end) in enumerate(layers, start=1):
        inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(layer)]
        graph.append(f"[{last}][{n}:v]overlay=0:0:enable='between(n,{first},{end})'[v{n}]")
        last = f"v{n}"
    if logo is not None:
        n = len(layers) + 1
        picture, x, y = logo
        inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(picture)]
        graph.append(f"[{last}][{n}:v]overlay={x}:{y}[vl]")
        last = "vl"
    graph.append(f"[{last}]format=yuv420p[out]")
    params = f"keyint={chunk_frames}:min-keyint={chunk_frames}:scenecut=0:repeat-headers=1:aud=1"
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs,
            "-filter_complex", ";".join(graph), "-map", "[out]", "-frames:v", str(frames),
            *ffmpeg.X264_STILL, "-x264-params", params, "-forced-idr", "1", *ffmpeg.BT709, "-f", "h264", str(out)]
