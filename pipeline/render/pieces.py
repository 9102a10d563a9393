"""The slideshow's timeline as pieces: runs of frames that show one still, or one moving segment."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ClipSource:
    """A video clip that fills a segment (render/footage.py): its file, how it fits the frame, its sound's level
    under the narration (0: dropped)."""

    path: Path
    fit: str = "cover"
    audio: float = 0.0


@dataclass(frozen=True)
class Shot:
    """One cue on screen: its image, its subtitle line and when it is spoken.

    Shots with `motion` (a Ken Burns zoom) of the same `segment` are rendered frame by frame together, and so
    are shots with a `clip` (the segment's video, which then shows instead of `image`). In word mode a cue is
    one shot per word, `highlight` the word drawn in the highlight colour (-1: none; render/karaoke.py).
    """

    image: Path
    text: str
    start: float
    segment: int = -1
    motion: bool = False
    clip: ClipSource | None = None
    highlight: int | None = None

    @property
    def moving(self) -> bool:
        """Rendered frame by frame (a zoom or a clip) rather than as a still."""
        return self.motion or self.clip is not None


@dataclass
class Piece:
    """A run of the stream: one still repeated, or a moving segment rendered frame by frame.

    `titled` is how many of its first frames show the title card (a still piece shows it on all or none);
    `key` is filled in by the renderer from everything that draws the piece; `motion` is true for a clip too.
    """

    key: str
    frames: int
    shots: list[Shot]
    spans: list[int]
    motion: bool
    titled: int = 0

    @property
    def clip(self) -> ClipSource | None:
        """The clip the piece shows (None: a still or a zoom)."""
        return self.shots[0].clip if self.motion else None


def cut(shots: list[Shot], spans: list[int], card: int = 0) -> list[Piece]:
    """Pieces of `shots` shown for `spans` frames: moving shots of one segment together, and a still cut in
    two where the title card's `card` first frames end."""
    pieces: list[Piece] = []
    start = 0
    for shot, frames in zip(shots, spans):
        titled = min(frames, max(0, card - start))
        if shot.moving and pieces and pieces[-1].motion and pieces[-1].shots[0].segment == shot.segment:
            pieces[-1].shots.append(shot)
            pieces[-1].spans.append(frames)
            pieces[-1].frames += frames
            pieces[-1].titled += titled
        elif not shot.moving and 0 < titled < frames:
            pieces += [Piece("", titled, [shot], [titled], False, titled),
                       Piece("", frames - titled, [shot], [frames - titled], False, 0)]
        else:
            pieces.append(Piece("", frames, [shot], [frames], shot.moving, titled))
        start += frames
    return pieces
