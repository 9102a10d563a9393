"""The video's formats: frame and thumbnail sizes, the safe area each platform leaves clear, text sizes.

A format's safe area is where subtitles, the logo and titles go: inside it, nothing a player or an
app draws over the picture hides them. 16:9 and 1:1 keep the broadcast title-safe margin (5 % of each
side); 9:16 leaves room for what Shorts, TikTok and Reels draw over a vertical video: the top bar,
the buttons down the right edge and the caption, channel and music lines at the bottom.
"""

from dataclasses import dataclass, replace

FORMATS = ("16:9", "9:16", "1:1")
SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}
THUMBNAIL_SIZES = {"16:9": (1280, 720), "9:16": (1080, 1920), "1:1": (1080, 1080)}
# Safe margins (left, top, right, bottom) as shares of the width and height.
MARGINS = {"16:9": (0.05, 0.05, 0.05, 0.05), "9:16": (0.12, 0.12, 0.12, 0.22), "1:1": (0.05, 0.05, 0.05, 0.05)}
# Subtitle text height as a share of the frame's shorter side, and the most lines before the text shrinks.
SUBTITLE_SHARE = {"16:9": 0.05, "9:16": 0.055, "1:1": 0.05}
MAX_LINES = {"16:9": 3, "9:16": 5, "1:1": 4}


@dataclass(frozen=True)
class Frame:
    """One picture size of a format and where text may go on it (pixels, origin top left)."""

    format: str
    width: int
    height: int
    safe: tuple[int, int, int, int]  # left, top, right, bottom edges of the safe area
    subtitle_px: int
    max_lines: int
    subtitle_bottom: int  # the lowest row of the subtitle band: the safe area's bottom, or above a bottom logo

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def shorter(self) -> int:
        return min(self.width, self.height)

    def subtitles_above(self, row: int) -> "Frame":
        """This frame with the subtitle band kept above `row` (e.g. the top of a logo in a bottom corner)."""
        return replace(self, subtitle_bottom=min(self.subtitle_bottom, row))


def frame_for(format: str = "16:9", size: tuple[int, int] | None = None) -> Frame:
    """The frame of `format` at its video size, or at `size` (a thumbnail) with the same safe shares."""
    if format not in SIZES:
        raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")
    width, height = size or SIZES[format]
    left, top, right, bottom = MARGINS[format]
    safe = (round(width * left), round(height * top), width - round(width * right), height - round(height * bottom))
    return Frame(format=format, width=width, height=height, safe=safe,
                 subtitle_px=round(min(width, height) * SUBTITLE_SHARE[format]), max_lines=MAX_LINES[format],
                 subtitle_bottom=safe[3])


def thumbnail_frame(format: str = "16:9") -> Frame:
    """The thumbnail of `format`: 1280x720 for 16:9, a cover of the video's size for 9:16 and 1:1."""
    return frame_for(format, THUMBNAIL_SIZES[format])


def format_of(width: int, height: int) -> str:
    """The format whose aspect is nearest `width` x `height`."""
    return min(FORMATS, key=lambda f: abs(SIZES[f][0] / SIZES[f][1] - width / height))
