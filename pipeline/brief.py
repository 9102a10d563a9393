"""The brief: what a user asks for, validated before anything is created or launched."""

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.brief_style import GENERATED, SubtitleSettings, check_music, music_name
from pipeline.defs.text.models import Outline
from pipeline.documents import UnreadableDocument, check_logo, read_context_file, read_document, resolve_data_path
from pipeline.ids import owner_problem, project_id_problem
from pipeline.media import MediaSettings
from pipeline.rules.script import most_segments
from pipeline.stages import STAGES

# Brief fields that change no text: left out of the text checkpoints' keys, so editing them reuses chapters.
NOT_TEXT_FIELDS = frozenset({"presenter", "publish", "budget", "verbose", "owner", "media"})
LANGUAGES = ("en", "zh")
MAX_PROMPT_CHARS = 4000
MAX_CONTEXT_CHARS = 20000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VOICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+.-]{0,63}")

_Strict = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)  # no "yes" for a bool, no true for an int


class BriefError(ValueError):
    """A brief broke one or more rules; `problems` holds one line per broken rule."""

    def __init__(self, problems: list[str], source: str = "brief", code: str = "BRIEF_INVALID"):
        self.problems = problems
        self.source = source
        self.code = code  # BRIEF_INVALID, or INPUT_UNREADABLE for a file that cannot be read at all
        super().__init__(f"{source} is invalid:\n" + "\n".join(f"  - {p}" for p in problems))


class VideoSettings(BaseModel):
    model_config = _Strict
    # Fields that change only how the video looks: left out of the text checkpoints' keys, so changing them
    # re-renders the video (and redraws images for a new format) without writing or speaking anything again.
    LOOK: ClassVar[frozenset[str]] = frozenset({"format", "logo", "logo_position", "logo_size", "logo_opacity",
                                                "title_card", "title_card_seconds", "ken_burns", "subtitles",
                                                "music", "music_mood", "music_volume", "music_credit", "loudness"})
    target_seconds: int = Field(default=240, ge=20, le=3600)
    segment_min_seconds: float = Field(default=5, ge=1, le=60)
    segment_max_seconds: float = Field(default=20, ge=2, le=120)
    total_min_seconds: int = Field(default=180, ge=10, le=3600)
    total_max_seconds: int = Field(default=600, ge=10, le=7200)
    voice: str | None = Field(default=None, max_length=64, description="a voice name of the speech engine")
    logo: str | None = Field(default=None, max_length=500, description="a PNG, JPEG or WebP image under the data folder")
    ken_burns: bool | list[int] = Field(
        default=False,
        description="a gentle zoom on every segment (true) or on the listed segment indexes, e.g. [0, 2]")
    format: Literal["16:9", "9:16", "1:1"] = Field(
        default="16:9", description="the frame: 16:9 (1920x1080), 9:16 (1080x1920, vertical) or 1:1 (1080x1080)")
    logo_position: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = Field(
        default="top-right", description="the logo's corner, inside the format's safe area")
    logo_size: float = Field(default=0.15, ge=0.03, le=0.5,
                             description="the logo's longer side as a share of the frame's shorter side")
    logo_opacity: float = Field(default=1.0, ge=0.05, le=1.0, description="the logo's opacity, 0.05-1")
    title_card: bool = Field(default=False, description="the video's title over its first seconds, in the "
                                                        "subtitle font")
    title_card_seconds: float = Field(default=3.0, ge=1, le=10, description="how long the title card shows, 1-10 s")
    subtitles: SubtitleSettings = Field(default_factory=SubtitleSettings,
                                        description="how the burned-in subtitles look, and the word highlight")
    music: str | None = Field(default=None, max_length=500,
                              description="background music: an audio file under the data folder, or generated "
                                          "(made offline by the project, licence-free); none by default")
    music_mood: Literal["calm", "bright", "tense"] = Field(default="calm", description="the generated music's mood")
    music_volume: float = Field(default=-20.0, ge=-40, le=0,
                                description="the music's loudness against the voice's, in dB, -40 to 0 (in the "
                                            "pauses; ducked 14 dB more under speech)")
    music_credit: str | None = Field(default=None, min_length=1, max_length=300,
                                     description="the music file's licence or credit line, for the publication's "
                                                 "metadata")
    loudness: float = Field(default=-16.0, ge=-30, le=-10,
                            description="the final mix's integrated loudness in LUFS (EBU R128), -30 to -10; true "
                                        "peak at most -1 dBTP")

    @field_validator("music")
    @classmethod
    def _music_name(cls, value: str | None) -> str | None:
        return music_name(value)

    @field_validator("music_credit")
    @classmethod
    def _plain_credit(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _quoted_format(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):  # YAML reads 16:9 unquoted as 969 (base 60)
            raise ValueError(f"write the format in quotes, e.g. format: \"9:16\" (YAML reads it unquoted as the "
                             f"number {value})")
        return value

    @field_validator("voice")
    @classmethod
    def _voice_name(cls, value: str | None) -> str | None:
        # It reaches a command line (espeak-ng -v) and request bodies: a plain name, never an option or a path.
        if value is not None and not _VOICE.fullmatch(value):
            raise ValueError(f"{value!r} is not a voice name: letters, digits, '_', '-', '+' or '.', "
                             "starting with a letter or digit (e.g. joe, en-us, cmn, alloy)")
        return value

    @field_validator("ken_burns", mode="before")
    @classmethod
    def _motion_shape(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise ValueError("must be true, false or a list of segment indexes (0, 1, 2, ...)")
        if len(set(value)) != len(value):
            raise ValueError("lists a segment index twice")
        return value

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "VideoSettings":
        if isinstance(self.ken_burns, list) and self.ken_burns:
            most = most_segments(self.total_max_seconds, self.segment_min_seconds)
            wrong = [i for i in self.ken_burns if not 0 <= i < most]
            if wrong:
                raise ValueError(f"ken_burns: segment indexes {wrong} are out of range: a script of at most "
                                 f"{self.total_max_seconds} s in segments of at least {self.segment_min_seconds} s "
                                 f"has segments 0 to {most - 1}")
        if self.segment_min_seconds >= self.segment_max_seconds:
            raise ValueError("segment_min_seconds must be below segment_max_seconds")
        if self.total_min_seconds >= self.total_max_seconds:
            raise ValueError("total_min_seconds must be below total_max_seconds")
        if not self.total_min_seconds <= self.target_seconds <= self.total_max_seconds:
            raise ValueError(
                f"target_seconds ({self.target_seconds}) must lie between total_min_seconds "
                f"({self.total_min_seconds}) and total_max_seconds ({self.total_max_seconds})"
            )
        return self


COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


class ThumbnailSettings(BaseModel):
    """How the thumbnail sets the video's title, in every format."""

    model_config = _Strict
    font: str | None = Field(default=None, max_length=200,
                             description="a font family installed on the machine (fc-list), or a .ttf, .otf or "
                                         ".ttc file under the data folder; default: the subtitles' bold sans")
    color: str = Field(default="#FFFFFF", description="the title's colour, #RRGGBB")
    outline_color: str = Field(default="#000000", description="the outline around the title's letters, #RRGGBB")
    shade_color: str = Field(default="#000000", description="the shade behind the title, #RRGGBB")
    position: Literal["top", "center", "bottom"] = Field(default="bottom", description="where the title goes")
    logo: bool = Field(default=True, description="the video's logo (video.logo) in its corner, when there is one")

    @field_validator("color", "outline_color", "shade_color")
    @classmethod
    def _hex_color(cls, value: str) -> str:
        if not COLOR.fullmatch(value):
            raise ValueError(f"{value!r} is not a colour: write it as #RRGGBB, e.g. #FFCC00")
        return value.upper()

    @field_validator("font")
    @classmethod
    def _font_name(cls, value: str | None) -> str | None:
        from pipeline.render.fonts import FAMILY, FONT_FILES

        if value is not None and not value.lower().endswith(FONT_FILES) and not FAMILY.fullmatch(value):
            raise ValueError(f"{value!r} is neither a font family name (letters, digits, spaces, '-', '_', '.') "
                             f"nor a {', '.join(FONT_FILES)} file")
        return value

    def font_face(self, data_dir: str | Path) -> str | Path | None:
        """The font as the renderer takes it: a family name, or the font file's path under `data_dir`."""
        from pipeline.render.fonts import FONT_FILES

        if self.font is not None and self.font.lower().endswith(FONT_FILES):
            return resolve_data_path(data_dir, self.font, "thumbnail.font")
        return self.font

    def check_font(self, data_dir: str | Path, language: str) -> None:
        """Refuse a font that is not installed (or not readable) or cannot draw `language`."""
        from pipeline.render.fonts import font_problem

        if self.font is not None:
            problem = font_problem(self.font_face(data_dir), language)  # type: ignore[arg-type]
            if problem is not None:
                raise ValueError(f"thumbnail.font: {problem}")


class PresenterSettings(BaseModel):
    """Presenter clips (made when an avatar provider is configured): what they say."""

    model_config = _Strict
    enabled: bool = True
    intro: str | None = Field(default=None, min_length=1, max_length=1000, description="default: the script's intro")
    outro: str | None = Field(default=None, min_length=1, max_length=1000, description="default: the script's outro")

    @field_validator("intro", "outro")
    @classmethod
    def _no_control(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value.replace("\n", "")):
            raise ValueError("must not contain control characters")
        return value


class PublishSettings(BaseModel):
    """How the publication asset publishes the video."""

    model_config = _Strict
    privacy: Literal["public", "unlisted", "private"] = "private"
    publish_at: datetime | None = Field(default=None, strict=False)  # ISO text; checked by _iso_text
    require_approval: bool = False

    @field_validator("publish_at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError("must be an ISO 8601 date and time with a timezone, e.g. 2030-01-31T09:00:00+00:00")
        return value

    @field_validator("publish_at")
    @classmethod
    def _future_with_zone(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return value
        if value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no timezone; write it like 2030-01-31T09:00:00+00:00")
        # Only a brief being submitted (parse_brief gives a context) must lie ahead: a stored one may have passed.
        if info.context is not None and value <= datetime.now(timezone.utc):
            raise ValueError(f"{value.isoformat()} is not in the future")
        return value

    @model_validator(mode="after")
    def _scheduled_is_private(self) -> "PublishSettings":
        if self.publish_at is not None and self.privacy != "private":
            raise ValueError(f"a scheduled video (publish_at) must have privacy 'private', not {self.privacy!r}: "
                             "it becomes public at publish_at")
        return self


class Budget(BaseModel):
    """Limits on what a project may spend; a step that would pass one fails without retry."""

    model_config = _Strict
    tokens: int | None = Field(default=None, ge=0, description="text tokens, input and output")
    images: int | None = Field(default=None, ge=0, description="images generated")
    speech_seconds: float | None = Field(default=None, ge=0, description="seconds of speech synthesised")


class ContextItem(BaseModel):
    """Material a document cites: inline text or a file under the data folder."""

    model_config = _Strict
    title: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=MAX_CONTEXT_CHARS)
    file: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_of(self) -> "ContextItem":
        if (self.text is None) == (self.file is None):
            raise ValueError("give exactly one of text or file")
        if self.text is not None and not self.text:
            raise ValueError("text must not be empty")
        return self


class Brief(BaseModel):
    model_config = _Strict
    project_id: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, max_length=200)
    kind: Literal["novel", "document", "video"] = "document"
    language: str = "en"
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    chapters: int = Field(default=3, ge=1, le=50)
    chapter_words: int = Field(default=400, ge=50, le=20000)
    style: str = Field(default="clear and vivid", min_length=1, max_length=200)
    source_text: str | None = Field(default=None, max_length=200000)
    video: VideoSettings = Field(default_factory=VideoSettings)
    thumbnail: ThumbnailSettings = Field(default_factory=ThumbnailSettings)
    outline: Outline | None = None
    context: list[ContextItem] = Field(default_factory=list, max_length=50)
    stop_at: str | None = None
    presenter: PresenterSettings = Field(default_factory=PresenterSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    budget: Budget = Field(default_factory=Budget)
    media: MediaSettings = Field(default_factory=MediaSettings)  # the user's images and clips (pipeline/media.py)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    # Who runs see and say: one log line per provider call; the owner when the launch names none.
    verbose: bool = Field(default=False, description="log one line per provider call (role, model, latency, "
                                                     "usage, cache, attempt, request and answer in brief)")
    owner: str | None = Field(default=None, description="who the project's runs belong to (pipeline/owner), "
                                                         "when the launch names none")

    @field_validator("owner")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value is not None and (problem := owner_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("project_id")
    @classmethod
    def _safe_slug(cls, value: str) -> str:
        problem = project_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unsupported language {value!r}; supported: {', '.join(LANGUAGES)}")
        return value

    @field_validator("prompt", "title", "style")
    @classmethod
    def _no_control(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value.replace("\n", "").replace("\t", "")):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("stop_at")
    @classmethod
    def _known_stage(cls, value: str | None) -> str | None:
        if value is not None and value not in STAGES:
            raise ValueError(f"unknown asset {value!r}; one of: {', '.join(STAGES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "Brief":
        if self.kind == "video" and not self.source_text:
            raise ValueError("kind 'video' needs source_text: the text the video is made from")
        if self.kind != "video" and self.source_text:
            raise ValueError("source_text is only for kind 'video'")
        if self.outline is not None and self.kind == "video":
            raise ValueError("an outline cannot be given for kind 'video'")
        self.media.check_range(most_segments(self.video.total_max_seconds, self.video.segment_min_seconds),
                               f"a script of at most {self.video.total_max_seconds} s in segments of at least "
                               f"{self.video.segment_min_seconds:g} s")
        data_dir = (info.context or {}).get("data_dir")
        if data_dir is not None:
            for number, item in enumerate(self.context):
                if item.file is not None:
                    read_context_file(data_dir, item.file, f"context.{number}.file")
            if self.video.logo:
                check_logo(data_dir, self.video.logo, "video.logo")
            self.thumbnail.check_font(data_dir, self.language)
            self.video.subtitles.check_font(data_dir, self.language)
            if self.video.music not in (None, GENERATED):
                check_music(data_dir, self.video.music)
            self.media.check_files(data_dir)
        return self

    @property
    def chapter_count(self) -> int:
        return len(self.outline.chapters) if self.outline else self.chapters


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "brief"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field is missing"
    return f"{where}: {message}"


def parse_brief(data: Any, data_dir: str | Path | None = None, source: str = "brief") -> Brief:
    """Validate `data` (a mapping) as a Brief, or raise BriefError listing every broken rule."""
    if not isinstance(data, dict):
        raise BriefError([f"must be a mapping of fields, got {type(data).__name__}"], source)
    try:
        return Brief.model_validate(data, context={"data_dir": data_dir})
    except ValidationError as e:
        raise BriefError([_describe(err) for err in e.errors()], source) from None


def read_yaml(path: str | Path, follow_links: bool = True) -> Any:
    """A YAML (or JSON) file's content, or a BriefError saying why it cannot be read (pipeline.documents)."""
    try:
        return read_document(path, follow_links=follow_links)
    except UnreadableDocument as e:
        raise BriefError([str(e)], str(path), code="INPUT_UNREADABLE") from None


def load_brief(path: str | Path, data_dir: str | Path | None = None) -> Brief:
    """Read a YAML or JSON brief file and validate it."""
    return parse_brief(read_yaml(path), data_dir, source=str(path))
