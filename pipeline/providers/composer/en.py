"""English word banks and sentence templates for the offline composer."""

JOIN = " "
STOP = "."
AND = " and "
LIST_SEP = ", "
CHAPTER_REPEAT = "{title}, Part {n}"
FALLBACK_TOPIC = "subject"

STOPWORDS = frozenset(
    """a an the and or but nor so yet of to in on at by for with from into onto over under about
    above below after before between through during without within along across against among
    around behind beyond near is are was were be been being am do does did has have had having
    will would shall should can could may might must this that these those it its it's they them
    their there here what which who whom whose when where why how than then also very just only
    not no yes all any some each every more most other such own same too again once out up down off
    i me my we our you your he him his she her write writes written create compose draft produce
    make tell generate explain explains describe describes please story novel tale document guide
    report essay article video book explainer overview introduction short long brief detailed
    practical simple beginner beginners one two three few many much chapter chapters discover
    discovers discovered find finds found learn learns become becomes get gets go goes take takes
    use uses using show shows help helps like want wants need needs try tries cover covers covering
    summarise summarize summary give gives keep keeps begin begins must while until whether
    remain remains convert converts include includes provide provides produce produces allow
    allows require requires lead leads reduce reduces increase increases depend depends mean
    means seem seems turn turns lose loses win wins meet meets save saves""".split()
)

FIRST_NAMES = (
    "Mara", "Elias", "Nadia", "Theo", "Ines", "Jonah", "Saoirse", "Kofi", "Lena", "Rafael",
    "Yara", "Tobias", "Wren", "Dmitri", "Alba", "Caspian",
)
LAST_NAMES = (
    "Voss", "Hale", "Okafor", "Lindqvist", "Marlowe", "Castell", "Reyes", "Thorne", "Achebe",
    "Brandt", "Quill", "Sorensen", "Ashdown", "Varga", "Pryce", "Kealoha",
)
ROLES = ("protagonist", "ally", "antagonist", "mentor", "wildcard")
TRAITS = (
    "stubborn and quietly brave", "sharp-tongued but loyal", "patient, watchful and hard to read",
    "restless and curious", "warm, funny and secretly afraid", "cold, precise and ambitious",
    "gentle until cornered", "proud of a past that is only half true",
)
TIES = (
    "an old debt", "a promise made years ago", "a family secret", "a stolen letter",
    "a shared mistake", "a rumour nobody can prove",
)
CHARACTER = "{name} is {trait}, bound to {p} by {tie}."
WORLD = (
    "The story unfolds around {p0}, where {setting}. {Rule}.",
    "A world shaped by {p0}: {setting}. {Rule}.",
)
SETTINGS = (
    "old harbours crumble into the sea", "the nights are long and the roads are unsafe",
    "every village keeps its own version of the truth", "machines hum beneath quiet streets",
    "the weather turns without warning",
)
RULES = (
    "Nobody crosses the boundary twice", "Promises made aloud cannot be broken",
    "Those who keep records hold the real power", "Strangers are welcomed, then watched",
)
TIMELINE = "Chapter {i}: {event}."
OBJECTS = (
    "a cracked compass", "an unsigned letter", "a locked door in the cellar",
    "a half-remembered song", "a map with one island missing", "a ring that does not fit",
    "a photograph with a face torn out",
)
FORESHADOW = "{Object}, first noticed by {name} (planted in chapter {a}, paid off in chapter {b})"
FORESHADOW_PATTERN = (
    r"^(?P<object>.+?)(?:, first noticed by [^(]+)? "
    r"\(planted in chapter (?P<a>\d+), paid off in chapter (?P<b>\d+)\)"
)
PAYOFF_POINT = "the truth about {object}"

NOVEL_TITLES = ("{P0}", "Beyond {P0}", "The Last Days of {P0}", "Song of {P0}")
DOC_TITLES = ("{P0}: A Practical Guide", "Understanding {P0}", "{P0} Explained")
NOVEL_LOGLINES = (
    "When {p} upends a quiet life, {hero} must face {rival} before {p0} is lost for good.",
    "{hero} has one chance to uncover the secret of {p0}, and {rival} wants it first.",
)
DOC_LOGLINES = (
    "A {style} guide to {p0}, from first principles to practical next steps.",
    "Everything a curious reader needs to understand {p0}, told in a {style} way.",
)
VIDEO_LOGLINES = ("A {style} walk through {p0}, adapted from the source text.",)

NOVEL_BEATS = (
    {"titles": ("Signs of {P}", "Before {P}"),
     "summary": "{hero} lives quietly near {p0} until the first sign of {p} appears. {ally} notices it too.",
     "points": ("{hero}'s ordinary life", "the first sign of {p}", "a warning from {ally}"),
     "event": "{hero} first notices {p}"},
    {"titles": ("The Call of {P}", "What {P} Wanted"),
     "summary": "{hero} is forced to act when {p} threatens {ally}. One choice sets everything in motion.",
     "points": ("a threat to {ally}", "{hero}'s hard choice", "the pull of {p}"),
     "event": "{hero} answers the call of {p}"},
    {"titles": ("Crossroads at {P}", "Shadows over {P}"),
     "summary": "{rival} moves against {hero}, and {p} proves more dangerous than anyone believed.",
     "points": ("{rival}'s first move", "a broken alliance", "the true danger of {p}"),
     "event": "{rival} moves against {hero}"},
    {"titles": ("The Truth Beneath {P}", "Secrets of {P}"),
     "summary": "A revelation about {p0} changes what {hero} is fighting for. {mentor} finally speaks.",
     "points": ("a hidden truth about {p0}", "{mentor}'s confession", "a new goal"),
     "event": "{hero} learns the truth about {p0}"},
    {"titles": ("{P} Falls Silent", "Ashes of {P}"),
     "summary": "Everything {hero} built collapses, and {ally} is lost for a time.",
     "points": ("a devastating loss", "{hero}'s doubts about the path", "one last clue"),
     "event": "{hero} loses almost everything"},
    {"titles": ("Into the Heart of {P}", "Storm over {P}"),
     "summary": "{hero} and {rival} finally meet at the heart of {p0}. Only one of them can walk away.",
     "points": ("the confrontation with {rival}", "a costly sacrifice", "{p0} answers"),
     "event": "{hero} confronts {rival}"},
    {"titles": ("After {P}", "A New Dawn over {P}"),
     "summary": "The dust settles, and {hero} decides what {p0} will mean from now on.",
     "points": ("what was won and lost", "{hero}'s new life", "a promise kept"),
     "event": "{hero} finds a new beginning"},
)
DOC_BEATS = (
    {"titles": ("Why {P} Matters", "Setting the Scene: {P}"),
     "summary": "This chapter introduces {p0} and explains why it matters today.",
     "points": ("a plain definition of {p0}", "its importance today", "common myths about {p}")},
    {"titles": ("The Building Blocks of {P}", "Key Ideas Behind {P}"),
     "summary": "It breaks {p} into its core ideas and defines the key terms.",
     "points": ("the key terms", "how the parts of {p} fit together", "a simple mental model")},
    {"titles": ("How {P} Works", "Inside {P}"),
     "summary": "The chapter walks through how {p} works, step by step.",
     "points": ("the main mechanism", "a step-by-step walk-through", "what can go wrong")},
    {"titles": ("{P} in Practice", "Lessons from {P}"),
     "summary": "Real examples show {p} at work and what they teach.",
     "points": ("a real-world example", "the lessons of practice", "costs and trade-offs")},
    {"titles": ("Limits of {P}", "Open Questions about {P}"),
     "summary": "It weighs the limits, risks and open questions around {p}.",
     "points": ("the biggest risks", "open questions", "where experts disagree")},
    {"titles": ("Where {P} Goes Next", "Bringing {P} Together"),
     "summary": "The closing chapter draws the threads together and looks ahead.",
     "points": ("the main ideas in brief", "what to watch next", "practical next steps")},
)
VIDEO_POINT = "{p}"

CONTINUITY = ("Picking up from the previous chapter: {prev}.", "Previously: {prev}.", "Where we left off: {prev}.")
STATE = "{name} is still {state}."
NOVEL_POINT = ("Everything now turns on {kp}.", "Then comes {kp}.", "What matters next is {kp}.")
DOC_POINT = ("A key point here is {kp}.", "Next, consider {kp}.", "It helps to look closely at {kp}.")
CITE = (
    'As "{title}" puts it, "{phrase}" [{n}].',
    'One source observes that "{phrase}" [{n}].',
    'In the words of "{title}", "{phrase}" [{n}].',
)
COMPACT_POINTS = "This chapter turns on {kps}."
CITE_SHORT = 'See "{phrase}" [{n}].'
PLANT = ("{name} notices {object} and files the detail away.", "Nobody else sees {object}, but {name} does.")
PAYOFF = (
    "At last the meaning of {object} becomes clear to {name}.",
    "Now {object} finally shows {name} why it mattered.",
)
NOVEL_CLOSING = (
    "By nightfall, nothing about {p0} is quite the same.",
    "{name} knows the next step will cost more.",
)
DOC_CLOSING = ("With that in place, the next step becomes clearer.", "That is the core of {title}.")
NOVEL_FILLER = (
    "{name} looks toward {p} and feels the weight of {detail}.",
    "For a long moment, {name} and {other} say nothing at all.",
    "The air near {p0} smells of {smell}.",
    "{other} asks a question that {name} cannot answer yet.",
    "Somewhere beyond {p}, {sound} breaks the silence.",
    "{name} remembers {memory} and holds on to it.",
    "{weather} settles over {p0} as the hours pass.",
    "{other} laughs, but the sound is thin and brief.",
    "Every step brings {name} closer to {kp}.",
    "{name} counts the risks once more and decides to go on.",
    "{p} seems to watch them, patient and old.",
    "{other} hides a worry behind a careful smile.",
    "No one says it aloud, but everyone is thinking about {detail}.",
    "{name} keeps walking, because stopping now would mean giving up.",
)
DOC_FILLER = (
    "In practice, {p} shows up wherever {cause}.",
    "A useful way to think about {kp} is as {analogy}.",
    "This is why {kp} deserves careful attention.",
    "Newcomers to {p0} often underestimate {kp}.",
    "The evidence points in a consistent direction here.",
    "Small details matter, because {cause}.",
    "Seen from a distance, {p} looks simple, yet the details tell a richer story.",
    "A short example makes the idea concrete.",
    "Consider how {p} changes when conditions shift.",
    "Good decisions about {p0} start with clear questions.",
    "The same pattern appears again and again across {p0}.",
    "It is tempting to skip this step, but {kp} rewards patience.",
    "Experts tend to agree on the basics, even when they argue about the details.",
    "Measured carefully, {kp} turns out to be easier to explain than it first seems.",
)
DETAILS = ("every promise made so far", "the long night ahead", "what was left unsaid",
           "the time slipping away", "choices made under pressure", "an old debt still unpaid")
CAUSES = ("time is short", "people make choices under pressure", "costs add up quietly",
          "small changes compound", "the first mistake is the hardest to see")
ANALOGIES = ("a map rather than a rulebook", "a recipe with room to improvise", "a bridge between two ideas",
             "a lens that sharpens the picture")
SMELLS = ("salt and rain", "smoke and old paper", "wet stone", "pine resin and iron")
SOUNDS = ("a bell", "a distant engine", "the cry of a gull", "a door slamming")
MEMORIES = ("a childhood promise", "the last good summer", "a lesson from an old friend", "a quarrel never settled")
WEATHERS = ("A grey fog", "A thin cold rain", "A heavy stillness", "A bright, hard wind")

MEMORY_POINTS = "It turns on {kp}."
MEMORY_STATE = "{mood} after chapter {i}, facing {kp}"
MOODS = ("shaken but determined", "wary and watchful", "hopeful for the first time", "angry and restless",
         "quietly grieving", "newly resolved")

INTRO = ("Welcome to {title}.", "Here is what to expect in the next few minutes.", "We move from {first} to {last}.")
OUTRO = (
    "That brings us to the end of {title}.", "We travelled from {first} to {last}.",
    "Thank you for watching.", "If this stayed with you, share it with a friend.",
)
SEGMENT_FILLER = (
    "This is the heart of {title}.", "Keep {kp} in mind.", "It is worth pausing here.",
    "Here the details matter more than they seem.", "Remember this.", "Look closer.", "Indeed.",
    "Notice how {kp} shapes what comes next.", "That moment changes everything that follows.",
)
SHOTS = (
    "Wide establishing shot", "Close-up", "Overhead view", "Medium shot", "Low-angle shot", "Silhouette",
    "Detail shot", "Panoramic view",
)
PALETTES = (
    "warm golden light", "cool blue tones", "soft pastel colours", "high-contrast cinematic lighting",
    "muted earthy palette",
)
IMAGE = "{shot} of {motif}, {scene}, {palette}"
SCENES = {
    "novel": ("lantern light on wet stone", "storm clouds over the sea", "an empty street at dawn",
              "a cluttered desk with old letters", "footprints in fresh snow", "a window lit at midnight",
              "a crowded market in the rain", "ruins overgrown with ivy", "a boat drifting in fog",
              "a staircase spiralling into darkness"),
    "document": ("a clean diagram on a whiteboard", "hands at work on a prototype",
                 "a chart rising across a screen", "a busy workshop", "a close view of the key components",
                 "a city skyline at dusk", "a notebook full of sketches", "people discussing around a table",
                 "a map with highlighted routes", "a laboratory bench with instruments"),
}
INTRO_IMAGE = "Title scene for {title}: {motif}, {palette}"
OUTRO_IMAGE = "Closing scene: {motif} fading into the distance, {palette}"
DESCRIPTION = ("Across {count} parts it covers {topics}.", "Narrated and illustrated, {style}.")
TAGS = {
    "novel": ("story", "fiction", "audiobook"),
    "document": ("explainer", "education", "guide"),
    "video": ("explainer", "summary", "video"),
}
