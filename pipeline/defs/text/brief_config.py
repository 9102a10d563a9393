"""The `brief` asset's config schema: the Brief model (pipeline/brief.py) as Dagster config.

The Launchpad scaffolds it with types, defaults and descriptions, and Dagster refuses a wrong type,
an unknown field or a value outside an enum at launch, before a run exists. What a schema cannot say
(lengths, ranges, ranges that depend on each other, the project-id slug, voices, paths under the data
folder) the `brief` step checks with `parse_brief`. pipeline_tests/defs/test_brief_config.py compares
these classes with the model field by field.
"""

import enum
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, Field

from pipeline.brief import (
    Brief,
    Budget,
    ContextItem,
    PresenterSettings,
    PublishSettings,
    ThumbnailSettings,
    VideoSettings,
)
from pipeline.brief_style import SubtitleSettings
from pipeline.defs.text.models import Character, ChapterPlan, Outline, StoryBible
from pipeline.media import MediaItem, MediaSettings
from pipeline.stages import STAGES

Stage = enum.Enum("Stage", {s: s for s in STAGES})  # optional, so an Enum: Dagster config takes no optional Literal

# Where the schema differs from the model, and why; the README's brief section lists the same.
DIFFERENCES = {
    "project_id": "optional: the brief step fills in the partition key, and refuses any other id",
    "language": "an enum of pipeline.brief.LANGUAGES, which the model checks a string against",
    "stop_at": "an enum of the stages, which the model checks a string against",
    "video.ken_burns": "Any: Dagster config has no type for `true`, `false` or a list of integers",
    "publish.publish_at": "a string: Dagster config has no date-time type",
}


class SubtitleConfig(dg.Config):
    mode: Literal["line", "words", "off"] = Field(
        default="line", description="line: the cue's line; words: the word being spoken in highlight_color too; "
                                    "off: no burned-in subtitles (the SRT and WebVTT files are still made)")
    font: str | None = Field(default=None, description="a font family installed on the machine (fc-list), or a "
                                                       ".ttf, .otf or .ttc file under the data folder; default: a "
                                                       "bold sans")
    size: float = Field(default=1.0, description="text size against the format's own, 0.5-2.5")
    color: str = Field(default="#FFFFFF", description="the text's colour, #RRGGBB")
    highlight_color: str = Field(default="#FFD400", description="the spoken word's colour in words mode, #RRGGBB")
    outline_color: str = Field(default="#000000", description="the outline around the letters, #RRGGBB")
    outline_width: int | None = Field(default=None, description="the outline's width in pixels, 0-20 (0: none); "
                                                                "default: an 18th of the text size, at least 2")
    box: bool = Field(default=True, description="a box behind the lines")
    box_color: str = Field(default="#000000", description="the box's colour, #RRGGBB")
    box_opacity: float = Field(default=0.59, description="the box's opacity, 0.05-1")
    position: str = Field(default="bottom", description="top, middle, bottom (inside the safe area), or the "
                                                         "lines' centre as a percentage from the top, e.g. 70%")
    max_lines: int | None = Field(default=None, description="most lines before the text shrinks, 1-8; default: "
                                                            "the format's (3 for 16:9, 5 for 9:16, 4 for 1:1)")


class VideoConfig(dg.Config):
    target_seconds: int = Field(default=240, description="length the script aims at, 20-3600 s")
    segment_min_seconds: float = Field(default=5, description="shortest segment, 1-60 s")
    segment_max_seconds: float = Field(default=20, description="longest segment, 2-120 s, above the shortest")
    total_min_seconds: int = Field(default=180, description="shortest video, 10-3600 s")
    total_max_seconds: int = Field(default=600, description="longest video, 10-7200 s, above the shortest")
    voice: str | None = Field(default=None, description="a voice name of the speech engine")
    logo: str | None = Field(default=None, description="a PNG, JPEG or WebP image under the data folder")
    ken_burns: Any = Field(default=False, description="a gentle zoom on every segment (true) or on the listed "
                                                      "segment indexes, e.g. [0, 2]")
    format: Literal["16:9", "9:16", "1:1"] = Field(
        default="16:9", description="the frame: 16:9 (1920x1080), 9:16 (1080x1920, vertical) or 1:1 (1080x1080)")
    logo_position: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = Field(
        default="top-right", description="the logo's corner, inside the format's safe area")
    logo_size: float = Field(default=0.15, description="the logo's longer side as a share of the frame's shorter side")
    logo_opacity: float = Field(default=1.0, description="the logo's opacity, 0.05-1")
    title_card: bool = Field(default=False, description="the video's title over its first seconds, in the "
                                                        "subtitle font")
    title_card_seconds: float = Field(default=3.0, description="how long the title card shows, 1-10 s")
    subtitles: SubtitleConfig = Field(default_factory=SubtitleConfig,
                                      description="how the burned-in subtitles look, and the word highlight")
    music: str | None = Field(default=None, description="background music: an audio file under the data folder, "
                                                        "or generated (made offline by the project, licence-free); "
                                                        "none by default")
    music_mood: Literal["calm", "bright", "tense"] = Field(default="calm", description="the generated music's mood")
    music_volume: float = Field(default=-20.0, description="the music's loudness against the voice's, in dB, -40 "
                                                           "to 0 (in the pauses; ducked 14 dB more under speech)")
    music_credit: str | None = Field(default=None, description="the music file's licence or credit line, for the "
                                                               "publication's metadata")
    loudness: float = Field(default=-16.0, description="the final mix's integrated loudness in LUFS (EBU R128), "
                                                       "-30 to -10; true peak at most -1 dBTP")


class ThumbnailConfig(dg.Config):
    font: str | None = Field(default=None, description="a font family installed on the machine (fc-list), or a "
                                                       ".ttf, .otf or .ttc file under the data folder; default: "
                                                       "the subtitles' bold sans")
    color: str = Field(default="#FFFFFF", description="the title's colour, #RRGGBB")
    outline_color: str = Field(default="#000000", description="the outline around the title's letters, #RRGGBB")
    shade_color: str = Field(default="#000000", description="the shade behind the title, #RRGGBB")
    position: Literal["top", "center", "bottom"] = Field(default="bottom", description="where the title goes")
    logo: bool = Field(default=True, description="the video's logo (video.logo) in its corner, when there is one")


class PresenterConfig(dg.Config):
    enabled: bool = Field(default=True, description="make presenter clips when an avatar provider is configured")
    intro: str | None = Field(default=None, description="default: the script's intro")
    outro: str | None = Field(default=None, description="default: the script's outro")


class PublishConfig(dg.Config):
    privacy: Literal["public", "unlisted", "private"] = Field(default="private", description="who may watch")
    publish_at: str | None = Field(default=None, description="ISO 8601 date and time with a timezone, in the "
                                                                "future, e.g. 2030-01-31T09:00:00+00:00; needs "
                                                                "privacy private")
    require_approval: bool = Field(default=False, description="stop before the publication until `pipeline approve`")


class BudgetConfig(dg.Config):
    tokens: int | None = Field(default=None, description="text tokens, input and output")
    images: int | None = Field(default=None, description="images generated")
    speech_seconds: float | None = Field(default=None, description="seconds of speech synthesised")


class ContextItemConfig(dg.Config):
    title: str | None = Field(default=None, description="how documents cite it")
    text: str | None = Field(default=None, description="the material itself (or give file)")
    file: str | None = Field(default=None, description="a UTF-8 file under the data folder (or give text)")


class MediaItemConfig(dg.Config):
    file: str = Field(description="an image or a video clip under the data folder")
    segment: int | None = Field(default=None, description="the segment it fills (from 0); default: the next "
                                                          "segment no file names, in order")
    fit: Literal["cover", "contain"] = Field(default="cover", description="cover (fill the frame, crop the "
                                                                          "overflow) or contain (all of it, black bars)")
    audio: float = Field(default=0.0, description="a clip's own sound under the narration, 0 (dropped) to 1 (as "
                                                  "loud as the narration)")


class MediaConfig(dg.Config):
    files: list[MediaItemConfig] = Field(default=[], description="images and clips, each for a segment (by index "
                                                                 "or in order)")
    stock: bool = Field(default=True, description="stock footage for the segments no file fills, when a footage "
                                                  "provider is configured (PIPELINE_FOOTAGE_PROVIDER)")


class ChapterPlanConfig(dg.Config):
    index: int = Field(description="1, 2, ... in order")
    title: str = Field(description="the chapter's title")
    summary: str = Field(description="what the chapter covers")
    key_points: list[str] = Field(default=[], description="points it must make")


class CharacterConfig(dg.Config):
    name: str = Field(description="the character's name")
    role: str = Field(default="", description="their part in the story")
    description: str = Field(default="", description="who they are")


class StoryBibleConfig(dg.Config):
    characters: list[CharacterConfig] = Field(default=[], description="the cast")
    world: str = Field(default="", description="the setting")
    timeline: list[str] = Field(default=[], description="events in order")
    foreshadowing: list[str] = Field(default=[], description="hints planted for later")


class OutlineConfig(dg.Config):
    title: str = Field(description="the work's title")
    logline: str = Field(description="one or two sentences on what it is")
    chapters: list[ChapterPlanConfig] = Field(description="the chapter plan, as many as the work has")
    bible: StoryBibleConfig | None = Field(default=None, description="for novels: what every chapter is "
                                                                        "written against")


class BriefConfig(dg.Config):
    """The brief of one project: run config of `brief` (see the README's brief section)."""

    project_id: str | None = Field(default=None, description="leave it out: the partition key")
    title: str | None = Field(default=None, description="derived from the prompt when absent")
    kind: Literal["novel", "document", "video"] = Field(default="document", description="a video is made from "
                                                                                        "source_text")
    language: Literal["en", "zh"] = Field(default="en", description="language of the text and the narration")
    prompt: str = Field(description="what to write about, 1-4000 characters")
    chapters: int = Field(default=3, description="chapter count, 1-50 (an outline's own count wins)")
    chapter_words: int = Field(default=400, description="words per chapter (characters for zh), 50-20000")
    style: str = Field(default="clear and vivid", description="tone and style")
    source_text: str | None = Field(default=None, description="for kind video: the text the video is made from")
    video: VideoConfig = Field(default_factory=VideoConfig, description="the narrated video")
    thumbnail: ThumbnailConfig = Field(default_factory=ThumbnailConfig, description="how the thumbnail sets the "
                                                                                    "title")
    outline: OutlineConfig | None = Field(default=None, description="your own outline, used as is (not for "
                                                                       "kind video)")
    context: list[ContextItemConfig] = Field(default=[], description="material documents cite, at most 50 items")
    stop_at: Stage | None = Field(default=None, description="stop after this asset (e.g. manuscript)")
    presenter: PresenterConfig = Field(default_factory=PresenterConfig, description="presenter clips")
    publish: PublishConfig = Field(default_factory=PublishConfig, description="how the video is published")
    budget: BudgetConfig = Field(default_factory=BudgetConfig, description="limits a run may not pass")
    media: MediaConfig = Field(default_factory=MediaConfig, description="your own images and clips for the video")
    seed: int = Field(default=0, description="varies the offline text and images")
    verbose: bool = Field(default=False, description="log one line per provider call (role, model, latency, "
                                                     "usage, cache, attempt, request and answer in brief)")
    owner: str | None = Field(default=None, description="who the project's runs belong to (pipeline/owner), "
                                                         "when the launch names none")


# Each model of the brief and the config class that mirrors it.
MIRRORS: dict[type[BaseModel], type[dg.Config]] = {
    Brief: BriefConfig, VideoSettings: VideoConfig, ThumbnailSettings: ThumbnailConfig,
    SubtitleSettings: SubtitleConfig,
    PresenterSettings: PresenterConfig,
    PublishSettings: PublishConfig, Budget: BudgetConfig, ContextItem: ContextItemConfig, Outline: OutlineConfig,
    ChapterPlan: ChapterPlanConfig, StoryBible: StoryBibleConfig, Character: CharacterConfig,
    MediaSettings: MediaConfig, MediaItem: MediaItemConfig,
}
