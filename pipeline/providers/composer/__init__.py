"""The offline composer: deterministic, no-network text for outlines, chapters, memories and scripts."""

from pipeline.providers.composer.chapter import compose_chapter, compose_memory
from pipeline.providers.composer.outline import compose_outline
from pipeline.providers.composer.script import compose_script
from pipeline.rules.units import estimate_seconds

__all__ = ["compose_chapter", "compose_memory", "compose_outline", "compose_script", "estimate_seconds"]
