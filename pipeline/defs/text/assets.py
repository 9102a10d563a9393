"""Text assets: brief -> outline -> chapters -> manuscript."""

import json

import dagster as dg

from pipeline.brief import NOT_TEXT_FIELDS, Brief, BriefError, VideoSettings, parse_brief
from pipeline.defs.checks import chapters_missing
from pipeline.defs.common import ASSET_DEFAULTS, failure, failures, step_boundary
from pipeline.defs.resources import DataFolder
from pipeline.defs.text import prompts
from pipeline.defs.text.brief_config import BriefConfig
from pipeline.defs.text.models import Chapter, ChapterMemory, Chapters, Manuscript, MemoryNote, Outline
from pipeline.defs.text.sources import collect_sources, outline_from_text, split_source_text
from pipeline.defs.video.credits import load_credits, with_credits
from pipeline.events.progress import Progress
from pipeline.failure import Problem
from pipeline.providers.speech import SpeechProvider
from pipeline.providers.structured import ask_structured
from pipeline.providers.text import TextProvider, TextRequest
from pipeline.rules.units import length_units
from pipeline.store import atomic_write, item_key
from pipeline.usage import meter


@dg.asset(config_schema=BriefConfig.to_config_schema(), group_name="text", **ASSET_DEFAULTS)
@step_boundary
def brief(context: dg.AssetExecutionContext, files: DataFolder, speech_provider: SpeechProvider) -> Brief:
    """The project's brief, from run config, validated."""
    project = context.partition_key
    # The config as sent, not as Dagster resolved it: parsed as the CLI parses a brief file, with no
    # default of Dagster's and no `{env: VAR}` string read from the run worker's environment.
    sent = context.run.run_config.get("ops", {}).get("brief", {}).get("config")
    data = dict(sent) if isinstance(sent, dict) else {}
    if data.get("project_id") is None:
        data["project_id"] = project
    try:
        value = parse_brief(data, files.root, source=f"brief of project {project}")
    except BriefError as e:
        raise failure(Problem(message=str(e), where="brief", code="BRIEF_INVALID",
                              hint="correct the brief and launch it again")) from None
    if value.project_id != project:
        raise failure(Problem(
            message=f"brief.project_id is {value.project_id!r} but the run is for partition {project!r}",
            where="brief", code="PROJECT_ID_INVALID", hint=f"launch it with tag dagster/partition={value.project_id}",
        ))
    with failures("brief"):
        speech_provider.check_voice(value.language, value.video.voice)  # before anything is generated
    context.add_output_metadata({
        "kind": value.kind, "language": value.language, "chapters": value.chapter_count,
        "prompt": dg.MetadataValue.md(value.prompt[:500]),
    })
    return value


def _text_fields(b: Brief) -> dict:
    """The brief as far as it shapes the text: without its look (format, overlays, thumbnail), presenter,
    publication or budget, so changing those reuses every chapter."""
    return b.model_dump(exclude={**dict.fromkeys(NOT_TEXT_FIELDS, True), "thumbnail": True,
                                 "video": set(VideoSettings.LOOK)})


def _system(b: Brief) -> str:
    return prompts.SYSTEM.format(language=b.language, style=b.style)


@dg.asset(group_name="text", **ASSET_DEFAULTS)
@step_boundary
def outline(context: dg.AssetExecutionContext, brief: Brief, text_provider: TextProvider,
            files: DataFolder) -> Outline:
    """Title, logline and chapter plan (and a story bible for novels)."""
    usage = meter(context, brief, files.project(brief.project_id))
    text_provider = usage.text(text_provider)
    if brief.outline is not None:
        value, source = brief.outline, "user"
    elif brief.kind == "video":
        value, source = outline_from_text(brief), "source_text"
    else:
        request = TextRequest(
            task="outline", system=_system(brief),
            prompt=prompts.OUTLINE.format(**brief.model_dump(include={"kind", "prompt", "chapters", "chapter_words"})),
            inputs={"brief": brief.model_dump()},
        )

        def rules(o: Outline) -> list[str]:
            n = len(o.chapters)
            return [] if n == brief.chapters else [f"chapters: {n} planned, the brief asks for {brief.chapters}"]

        with failures("outline"), Progress(context, 1, "outlines").waiting(f"{text_provider.name} plans the outline"):
            value, _ = ask_structured(text_provider, request, Outline, rules)
        source = text_provider.name
    context.add_output_metadata({
        "title": value.title, "chapters": len(value.chapters), "source": source,
        "preview": dg.MetadataValue.md("\n".join(f"{c.index}. **{c.title}**: {c.summary}" for c in value.chapters)),
        **usage.finish(),
    })
    return value


@dg.asset(group_name="text", check_specs=[dg.AssetCheckSpec("every_outline_chapter_written", asset="chapters")],
          **ASSET_DEFAULTS)
@step_boundary
def chapters(context: dg.AssetExecutionContext, brief: Brief, outline: Outline, text_provider: TextProvider,
             files: DataFolder):
    """One text per outline chapter, written with a memory of the earlier ones; checkpointed."""
    folder = files.project(brief.project_id)
    usage = meter(context, brief, folder)
    text_provider = usage.text(text_provider)
    sources = collect_sources(brief, files.root)
    given = split_source_text(brief.source_text, len(outline.chapters)) if brief.kind == "video" else None
    memory = ChapterMemory()
    written, generated = [], 0
    progress = Progress(context, len(outline.chapters), "chapters")
    for plan in outline.chapters:
        inputs = {"brief": _text_fields(brief), "outline": outline.model_dump(),
                  "chapter": plan.model_dump(), "memory": memory.model_dump(),
                  "sources": [s.model_dump() for s in sources]}
        own_text = given[plan.index - 1] if given else None
        item = folder.item("chapters", item_key(text_provider.name, own_text, inputs), "json")
        if item.exists():
            saved = json.loads(item.read_text(encoding="utf-8"))
        else:
            with failures(f"chapter {plan.index}"), progress.waiting(
                    f"{text_provider.name} writes chapter {plan.index} of {len(outline.chapters)}"):
                saved = _write_chapter(brief, outline, plan, memory, sources, inputs, text_provider, given)
            atomic_write(item, json.dumps(saved, ensure_ascii=False))
            generated += 1
        memory = ChapterMemory(summaries=[*memory.summaries, saved["summary"]],
                               character_state=saved["character_state"])
        path = folder.path("chapters", f"{plan.index:02d}.md")
        atomic_write(path, f"# {plan.title}\n\n{saved['text'].strip()}\n")
        cited = sorted({s.number for s in sources if f"[{s.number}]" in saved["text"]})
        written.append(Chapter(index=plan.index, title=plan.title, text=saved["text"], summary=saved["summary"],
                               words=length_units(saved["text"], brief.language), path=folder.rel(path), cited=cited))
        progress.report(plan.index, f"chapter {plan.index} of {len(outline.chapters)} written",
                        chapter=plan.index, force=True)
    value = Chapters(chapters=written, sources=sources, language=brief.language)
    missing = chapters_missing(outline, value)
    yield dg.Output(value, metadata={
        "chapters": len(written), "generated": generated, "reused": len(written) - generated,
        "words": sum(c.words for c in written), "folder": str(folder.path("chapters")),
        "preview": dg.MetadataValue.md(written[0].text[:600]), **usage.finish(),
    })
    yield dg.AssetCheckResult(check_name="every_outline_chapter_written", passed=not missing,
                              metadata={"problems": "\n".join(missing) or "none"})


def _write_chapter(brief, outline, plan, memory, sources, inputs, text_provider: TextProvider, given) -> dict:
    """Ask for one chapter's text (unless the user gave it), then for its memory entry."""
    if given is not None:
        body = given[plan.index - 1]
    else:
        source_list = "".join(f"[{s.number}] {s.title}: {s.text[:1500]}\n" for s in sources)
        bible = f"Story bible: {outline.bible.model_dump_json()}\n" if outline.bible else ""
        request = TextRequest(task="chapter", system=_system(brief), inputs=inputs, prompt=prompts.CHAPTER.format(
            index=plan.index, count=len(outline.chapters), title=plan.title, kind=brief.kind, book=outline.title,
            words=brief.chapter_words, summary=plan.summary, key_points="; ".join(plan.key_points),
            memory=" ".join(memory.summaries) or "this is the first chapter", bible=bible,
            sources=prompts.CHAPTER_SOURCES.format(sources=source_list) if sources else ""))
        body = text_provider.generate(request).text.strip()
    request = TextRequest(task="memory", system=_system(brief), prompt=prompts.MEMORY.format(
        index=plan.index, title=plan.title, text=body),
        inputs={**inputs, "text": body})
    note, _ = ask_structured(text_provider, request, MemoryNote)
    return {"text": body, "summary": note.summary, "character_state": note.character_state}


@dg.asset(group_name="text", **ASSET_DEFAULTS)
@step_boundary
def manuscript(context: dg.AssetExecutionContext, brief: Brief, outline: Outline, chapters: Chapters,
               files: DataFolder) -> Manuscript:
    """The chapters merged into one Markdown book with a table of contents and references."""
    folder = files.project(brief.project_id)
    toc_title, refs_title = ("目录", "参考资料") if brief.language == "zh" else ("Contents", "References")
    parts = [f"# {outline.title}\n", f"*{outline.logline}*\n", f"## {toc_title}\n"]
    parts += [f"{c.index}. [{c.title}](#chapter-{c.index})" for c in chapters.chapters]
    for c in chapters.chapters:
        parts.append(f'\n<a id="chapter-{c.index}"></a>\n\n## {c.index}. {c.title}\n\n{c.text.strip()}\n')
    if chapters.sources:
        parts.append(f"\n## {refs_title}\n")
        parts += [f"[{s.number}] {s.title} ({s.origin})" for s in chapters.sources]
    text = with_credits("\n".join(parts) + "\n", load_credits(folder), brief.language)  # stock footage's, if any
    path = atomic_write(folder.path("manuscript.md"), text)
    value = Manuscript(title=outline.title, path=folder.rel(path), chapters=len(chapters.chapters),
                       words=sum(c.words for c in chapters.chapters), references=len(chapters.sources))
    context.add_output_metadata({"path": str(path), "words": value.words, "references": value.references})
    return value
