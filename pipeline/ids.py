"""The project-id rule: one check for every place a project id enters (briefs, CLI, launches, sensors,
the projector, delete). A project id names a folder and a Redis key, so it must be a safe slug.
Also the rule of an owner's name (the `pipeline/owner` run tag), which a brief, a flag or the
environment may give.
"""

import re

MAX_LENGTH = 64
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Names Windows refuses as a file name (whatever the extension); a project folder may be copied there.
RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})
RULE = ("a slug of lowercase letters, digits, '-' or '_', starting and ending with a letter or digit, "
        f"at most {MAX_LENGTH} characters, not a reserved device name ({', '.join(sorted(RESERVED)[:4])}, ...)")


class InvalidProjectId(ValueError):
    """A value offered as a project id breaks the rule; the message says how."""


def project_id_problem(value: object) -> str | None:
    """Why `value` is not a valid project id, or None when it is."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value:
        return "must not be empty"
    if _CONTROL.search(value):
        return "must not contain control characters"
    if "/" in value or "\\" in value or ".." in value:
        return "must not contain path separators or '..'"
    if len(value) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters (got {len(value)})"
    if not _SLUG.fullmatch(value):
        return f"must be {RULE}"
    if value in RESERVED:
        return f"{value!r} is a reserved device name on Windows; choose another id"
    return None


def is_project_id(value: object) -> bool:
    return project_id_problem(value) is None


def check_project_id(value: object, where: str = "project id") -> str:
    """`value` when it is a valid project id; otherwise InvalidProjectId naming `where` and the rule."""
    problem = project_id_problem(value)
    if problem is not None:
        raise InvalidProjectId(f"{where} {value!r}: {problem}" if isinstance(value, str) else f"{where}: {problem}")
    return value  # type: ignore[return-value]


OWNER_MAX_LENGTH = 64
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:+-]*")
OWNER_RULE = (f"a name of at most {OWNER_MAX_LENGTH} letters, digits, '_', '.', '@', ':', '+' or '-', starting "
              "with a letter or digit (e.g. alice, alice@example.com)")


def owner_problem(value: object) -> str | None:
    """Why `value` is not an owner's name (a run tag's value, shown in the UI and matched by
    `pipeline list --owner`), or None when it is."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if not value or len(value) > OWNER_MAX_LENGTH or not _OWNER.fullmatch(value):
        return f"{value!r} is not {OWNER_RULE}"
    return None
