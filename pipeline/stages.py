"""The assets of `produce_project`, upstream first: `stop_at`, the CLI and the projection name them."""

STAGES = (
    "brief",
    "outline",
    "chapters",
    "manuscript",
    "script",
    "narration",
    "images",
    "presenter",
    "video",
    "thumbnail",
    "publication",
)
