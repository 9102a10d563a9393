"""Every provider role and its implementations, the default first: the one place a provider is chosen.

`PIPELINE_<ROLE>_PROVIDER` names the implementation (unset: the default); the implementation then
builds itself from its own variables (`from_env`). The resources, the quota sync and the estimate
all read this table, so adding a vendor touches its own module and one line here.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg

from pipeline.providers import env
from pipeline.providers.avatar import NoAvatar
from pipeline.providers.did import DidAvatar
from pipeline.providers.footage import NoFootage, PexelsFootage, PixabayFootage
from pipeline.providers.images import ProceduralImages
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.openai_compat import OpenAIImages, OpenAISpeech, OpenAIText
from pipeline.providers.publisher import LocalPublisher
from pipeline.providers.speech import OfflineSpeech
from pipeline.providers.stability import StabilityImages
from pipeline.providers.youtube import YouTubePublisher


@dataclass(frozen=True)
class Quota:
    """How a role's usage is limited: the usage field, its unit, and the variable holding the monthly limit."""

    field: str
    unit: str
    variable: str


@dataclass(frozen=True)
class Role:
    """One role: its resource key, how messages name it, and its implementations by name (default first)."""

    name: str
    resource_key: str
    label: str
    implementations: dict[str, Any]  # name -> class with from_env(data_dir)
    quota: Quota | None = None

    @property
    def variable(self) -> str:
        return f"PIPELINE_{self.name.upper()}_PROVIDER"

    @property
    def default(self) -> str:
        return next(iter(self.implementations))

    def chosen(self) -> str:
        """The name the environment gives, normalised (lower case, no blanks; unset: the default), unchecked."""
        return env.name(self.variable, self.default)

    def selected(self) -> str:
        """`chosen()`, refused with a DagsterInvalidConfigError naming the variable when it is not known."""
        name = self.chosen()
        if name not in self.implementations:
            raise env.invalid(f"{self.variable}={name!r} is not a known {self.label}; "
                              f"choose one of: {', '.join(self.implementations)}")
        return name

    def build(self, data_dir: str) -> dg.ConfigurableResource:
        """The selected implementation, set up from the environment (secrets as dg.EnvVar)."""
        return self.implementations[self.selected()].from_env(data_dir)


ROLES: dict[str, Role] = {role.name: role for role in (
    Role("text", "text_provider", "text provider", {"offline": OfflineText, "openai": OpenAIText},
         Quota("tokens", "tokens", "PIPELINE_QUOTA_TEXT")),
    Role("speech", "speech_provider", "speech provider", {"offline": OfflineSpeech, "openai": OpenAISpeech},
         Quota("speech_seconds", "seconds", "PIPELINE_QUOTA_SPEECH")),
    Role("images", "image_provider", "images provider",
         {"offline": ProceduralImages, "openai": OpenAIImages, "stability": StabilityImages},
         Quota("images", "images", "PIPELINE_QUOTA_IMAGES")),
    Role("avatar", "avatar_provider", "avatar provider", {"none": NoAvatar, "did": DidAvatar},
         Quota("avatar_seconds", "seconds", "PIPELINE_QUOTA_AVATAR")),
    Role("publisher", "publisher", "publisher", {"local": LocalPublisher, "youtube": YouTubePublisher}),
    Role("footage", "footage_provider", "footage provider",
         {"none": NoFootage, "pexels": PexelsFootage, "pixabay": PixabayFootage}),
)}


def build_providers(data_dir: str) -> dict[str, dg.ConfigurableResource]:
    """Every role's selected provider by resource key; the first bad variable raises DagsterInvalidConfigError."""
    return {role.resource_key: role.build(data_dir) for role in ROLES.values()}
