"""Reading provider settings from `PIPELINE_*` variables: one rule each for a value, a number, a name.

A bad value raises DagsterInvalidConfigError naming the variable, so the code location refuses to
load with the fix in its message rather than failing a step later.
"""

import os

import dagster as dg


def invalid(message: str) -> dg.DagsterInvalidConfigError:
    """The error for a variable that cannot configure a provider."""
    return dg.DagsterInvalidConfigError(message, [], None)


def text(variable: str) -> str | None:
    """The variable's value without surrounding blanks; None when unset or blank."""
    return os.environ.get(variable, "").strip() or None


def first_set(*names: str) -> str | None:
    """The first of `names` that is set to something other than blanks."""
    return next((n for n in names if n and text(n)), None)


def number(variable: str, kind: type, minimum: float) -> float | None:
    """The variable as an int or float of at least `minimum`; None when unset."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise invalid(f"{variable}={raw!r} is not a{'n integer' if kind is int else ' number'}") from None
    if value < minimum:
        raise invalid(f"{variable}={raw!r} must be at least {minimum:g}")
    return value


def name(variable: str, default: str) -> str:
    """A provider's name: the variable lower-cased without blanks, `default` when unset or blank."""
    return os.environ.get(variable, "").strip().lower() or default
