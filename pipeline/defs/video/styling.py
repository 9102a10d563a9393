"""The brief's look as the renderer takes it (format, logo, title card, subtitle style, word highlight, music):
the video asset's part, and what the steps before it use to encode ahead for it."""

from dataclasses import replace
from pathlib import Path

from pipeline.brief import Brief
from pipeline.brief_style import GENERATED, check_music
from pipeline.defs.common import failure, unreadable
from pipeline.defs.resources import DataFolder
from pipeline.defs.video.models import Narration, Script
from pipeline.documents import check_logo
from pipeline.render.frame import frame_for
from pipeline.render.overlays import Logo
from pipeline.render.karaoke import word_shots
from pipeline.render.music import AudioMix, origin
from pipeline.render.pieces import Shot
from pipeline.render.subtitle_style import SubtitleStyle, style_from
from pipeline.render.timing import split_cues
from pipeline.render.words import CueWords, cue_words


FPS = 30


def brief_logo(brief: Brief, files: DataFolder, where: str) -> Logo | None:
    """The brief's logo as the renderer draws it, checked again (it may have changed since the brief was)."""
    if not brief.video.logo:
        return None
    try:
        path = check_logo(files.root, brief.video.logo, "video.logo")
    except ValueError as e:
        raise failure(unreadable(e, where)) from e
    return Logo(path, brief.video.logo_position, brief.video.logo_size, brief.video.logo_opacity)


def moves(brief: Brief, segment: int) -> bool:
    """Whether the segment gets the Ken Burns zoom (`video.ken_burns`: true for all, or a list of segments)."""
    moving = brief.video.ken_burns
    return moving is True or (isinstance(moving, list) and segment in moving)


def cue_lines(brief: Brief, script: Script) -> list[tuple[int, str]]:
    """(segment, text) of every subtitle cue, in order: what narration speaks and the video shows."""
    return [(seg.index, text) for seg in script.segments for text in split_cues(seg.text, brief.language)]


def render_look(brief: Brief, script: Script, files: DataFolder) -> dict:
    """The RenderRequest fields that draw the frames (not their timing): language, format, fps, logo, title
    card and subtitle style. The video asset renders with them, and the images and presenter steps encode
    ahead with them, so their chunks have the keys the render looks for."""
    look = brief.video
    return {"language": brief.language, "frame": frame_for(look.format), "fps": FPS,
            "logo": brief_logo(brief, files, "video"), "title": script.title,
            "title_card_seconds": look.title_card_seconds if look.title_card else 0.0,
            "subtitles": subtitle_style(brief, files)}


def subtitle_style(brief: Brief, files: DataFolder) -> SubtitleStyle:
    """The brief's `video.subtitles`, its font checked again (a font file may have changed since the brief was)."""
    settings = brief.video.subtitles
    try:
        face = settings.font_face(files.root)
        settings.check_font(files.root, brief.language)
    except ValueError as e:
        raise failure(unreadable(e, "video")) from e
    return style_from(settings, face)


def timed_words(brief: Brief, narration: Narration, folder) -> list[CueWords]:
    """Every cue's word timing: the engine's where it gave one, else estimated in the cue's voiced stretch."""
    return [cue_words(c.text, brief.language, c.start, folder.path(c.audio), c.words) for c in narration.cues]


def styled_shots(shots: list[Shot], narration: Narration, style: SubtitleStyle,
                 words: list[CueWords] | None) -> list[Shot]:
    """The shots as the style shows them: without text when the subtitles are off; one per word in word mode."""
    if style.off:
        return [replace(s, text="") for s in shots]
    if not style.words or words is None:
        return shots
    out: list[Shot] = []
    for n, (shot, timing) in enumerate(zip(shots, words)):
        until = narration.cues[n + 1].start if n + 1 < len(narration.cues) else narration.duration
        out += word_shots(shot, timing.starts, timing.end, until)
    return out


def audio_mix(brief: Brief, files: DataFolder, narration: Narration, words: list[CueWords] | None) -> AudioMix | None:
    """Music under the voice, ducked while each cue is spoken, and the loudness target; None for the voice as is."""
    look = brief.video
    music: Path | str | None = look.music
    if music not in (None, GENERATED):
        try:
            music = check_music(files.root, look.music)  # type: ignore[arg-type]
        except ValueError as e:  # the file went away or changed since the brief was checked
            raise failure(unreadable(e, "video")) from e
    mix = AudioMix(music=music, mood=look.music_mood, volume=look.music_volume, loudness=look.loudness,
                   speech=tuple((w.starts[0] if w.starts else c.start, w.end)
                                for c, w in zip(narration.cues, words or [])))
    return mix if mix.needed else None


def metadata(brief: Brief, files: DataFolder, words: list[CueWords] | None) -> dict:
    """What the video asset says of its subtitles, word timing and music."""
    look = brief.video
    out: dict = {"subtitle_mode": look.subtitles.mode, "loudness_target_lufs": look.loudness}
    if look.subtitles.mode == "words" and words is not None:
        engine = sum(1 for w in words if w.source == "engine")
        out["word_timing"] = (f"{engine} of {len(words)} cues timed by the speech engine (phoneme alignment), "
                              f"{len(words) - engine} estimated within the cue by "
                              f"{'characters' if brief.language == 'zh' else 'syllables'}")
        out["word_timing_engine"], out["word_timing_estimated"] = engine, len(words) - engine
    music = origin(look.music, look.music_mood, look.music_credit, files.root)
    out["music"] = "none" if music is None else music["source"]
    if music is not None:
        out["music_licence"] = music["licence"]
        out["music_volume_db"] = look.music_volume
    return out
