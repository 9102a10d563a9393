"""Who launched a run: the `pipeline/owner` tag, given on every route.

The CLI and `pipeline demo` name the launching user: `--owner`, else `PIPELINE_USER`, else the
brief's `owner`, else the OS user. The run coordinator gives a run that arrives without the tag (the
UI, a GraphQL client, a sensor or a schedule) the brief's `owner` from its run config, else a name
for its route: `sensor:<name>`, `schedule:<name>`, or `ui`. Re-executions keep their parent's tags,
owner included, unless they are given another.
"""

import getpass
import os
import re
from collections.abc import Mapping
from typing import Any

from pipeline.ids import OWNER_MAX_LENGTH, owner_problem

USER_ENV = "PIPELINE_USER"
UI = "ui"  # a launch that names no owner: the UI's Launchpad, or a GraphQL client that sent no tag
SENSOR_TAG = "dagster/sensor_name"  # Dagster's tags on the runs its sensor and schedule daemons launch
SCHEDULE_TAG = "dagster/schedule_name"
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.@:+-]")


class OwnerError(ValueError):
    """An owner's name given by a flag or PIPELINE_USER breaks the rule; the message names which."""


def checked(value: str, where: str) -> str:
    """`value` when it is an owner's name; OwnerError naming `where` otherwise."""
    if (problem := owner_problem(value)) is not None:
        raise OwnerError(f"{where}: {problem}")
    return value


def os_user() -> str:
    """The OS user's name, made an owner's name (characters outside the rule become '_')."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a bare container)
        name = ""
    name = _NOT_NAME.sub("_", name).lstrip("_.@:+-")[:OWNER_MAX_LENGTH]
    return name or "unknown"


def launching_user(flag: str | None = None, brief_owner: str | None = None) -> str:
    """The owner of a run the CLI or `pipeline demo` launches."""
    if flag:
        return checked(flag, "--owner")
    if env := os.environ.get(USER_ENV, "").strip():
        return checked(env, USER_ENV)
    return brief_owner or os_user()


def route_owner(tags: Mapping[str, str], run_config: Mapping[str, Any]) -> str:
    """The owner of a run that arrived without the tag: its brief's `owner`, else its route's name."""
    ops = run_config.get("ops") if isinstance(run_config, Mapping) else None
    brief = ops.get("brief") if isinstance(ops, Mapping) else None
    config = brief.get("config") if isinstance(brief, Mapping) else None
    named = config.get("owner") if isinstance(config, Mapping) else None
    if named is not None and owner_problem(named) is None:
        return named
    for tag, route in ((SENSOR_TAG, "sensor"), (SCHEDULE_TAG, "schedule")):
        if tags.get(tag):
            return f"{route}:{tags[tag]}"[:OWNER_MAX_LENGTH]
    return UI
