"""Prompts of the text assets. HTTP models read these; the offline composer reads `inputs`."""

SYSTEM = (
    "You are a professional writer working inside a content studio's production pipeline. "
    "Write in the language requested ({language}); follow the requested style: {style}."
)

OUTLINE = """Plan a {kind} from this brief.
Brief: {prompt}
Chapters: exactly {chapters}, about {chapter_words} words each.
Answer with JSON only, matching the schema: title, logline, chapters (index from 1, title, summary,
key_points). For a novel also give `bible`: characters (name, role, description), world, timeline,
foreshadowing to pay off in later chapters."""

CHAPTER = """Write chapter {index} of {count}, "{title}", of the {kind} "{book}" (about {words} words).
Chapter plan: {summary}
Key points to cover: {key_points}
What happened so far: {memory}
{bible}{sources}Answer with the chapter text only, as Markdown paragraphs without a heading."""

CHAPTER_SOURCES = """Cite these sources inline as [n] where you use them:
{sources}
"""

MEMORY = """Summarise chapter {index} ("{title}") in one or two sentences for the writer of the
next chapter, and give each character's state at its end. Answer with JSON only:
{{"summary": "...", "character_state": {{"name": "state"}}}}.
Chapter text:
{text}"""

SCRIPT = """Adapt this {kind} into a narrated video script in {language}.
Title: {book}
Chapters:
{chapters}
Rules: an intro segment, segments that follow the chapters, an outro. Each segment has `text`
(what the narrator says), `duration` (seconds of narration, at {rate} {rate_unit} per second),
`image_description` (one image shown during it). Every segment lasts {segment_min}-{segment_max} s;
the total is {total_min}-{total_max} s, aiming at {target} s. Also a title, a description and tags.
Answer with JSON only, matching the schema."""
