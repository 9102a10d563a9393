"""The script asset: a narrated-video script adapted from the chapters, validated and repaired."""

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.common import ASSET_DEFAULTS, failures, step_boundary
from pipeline.defs.resources import DataFolder
from pipeline.defs.text import prompts
from pipeline.defs.text.models import Chapters, Outline
from pipeline.defs.video.models import Script
from pipeline.events.progress import Progress
from pipeline.providers.speech import SpeechProvider
from pipeline.providers.structured import ask_structured
from pipeline.providers.text import TextProvider, TextRequest
from pipeline.rules.script import bounds_of, violations
from pipeline.usage import meter


@dg.asset(group_name="video", check_specs=[dg.AssetCheckSpec("script_timing", asset="script")], **ASSET_DEFAULTS)
@step_boundary
def script(context: dg.AssetExecutionContext, brief: Brief, outline: Outline, chapters: Chapters,
           text_provider: TextProvider, speech_provider: SpeechProvider, files: DataFolder):
    """Intro, segments and outro with text, duration and an image description each."""
    usage = meter(context, brief, files.project(brief.project_id))
    text_provider = usage.text(text_provider)
    bounds = bounds_of(brief.video)
    rate = speech_provider.rate(brief.language)
    summary = "\n".join(f"{c.index}. {c.title}: {c.summary}" for c in chapters.chapters)
    request = TextRequest(
        task="script",
        system=prompts.SYSTEM.format(language=brief.language, style=brief.style),
        prompt=prompts.SCRIPT.format(kind=brief.kind, language=brief.language, book=outline.title, chapters=summary,
                                     rate=rate, rate_unit="characters" if brief.language == "zh" else "words",
                                     segment_min=bounds.segment_min, segment_max=bounds.segment_max,
                                     total_min=bounds.total_min, total_max=bounds.total_max, target=bounds.target),
        inputs={"brief": brief.model_dump(), "outline": outline.model_dump(), "bounds": bounds.model_dump(),
                "rate": rate, "chapters": [c.model_dump(include={"index", "title", "summary", "text"})
                                           for c in chapters.chapters]},
    )
    with failures("script"), Progress(context, 1, "scripts").waiting(f"{text_provider.name} writes the script"):
        value, responses = ask_structured(text_provider, request, Script, lambda s: violations(s, bounds))
    yield dg.Output(value, metadata={
        **usage.finish(),
        "segments": len(value.segments), "estimated_seconds": round(value.total_seconds, 1),
        "attempts": len(responses), "model": responses[-1].model,
        "preview": dg.MetadataValue.md("\n".join(f"- ({s.duration:g} s) {s.text[:120]}" for s in value.segments[:8])),
    })
    problems = violations(value, bounds)
    yield dg.AssetCheckResult(check_name="script_timing", passed=not problems,
                              metadata={"problems": "\n".join(problems) or "none",
                                        "total_seconds": round(value.total_seconds, 1)})
