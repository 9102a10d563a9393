"""Who launched what, from the CLI: the `--owner` option of every launching command, the owner of a
run it launches (`--owner`, else PIPELINE_USER, else the brief's `owner`, else the OS user:
pipeline/launch/owner.py), and `pipeline list --owner NAME --active`."""

import argparse
from datetime import datetime, timezone

from pipeline import tags
from pipeline.brief import BriefError
from pipeline.ids import owner_problem
from pipeline.launch.client import ACTIVE, PipelineClient
from pipeline.launch.owner import OwnerError, launching_user


def owner_arg(value: str) -> str:
    """argparse type of `--owner`: the owner-name rule."""
    if (problem := owner_problem(value)) is not None:
        raise argparse.ArgumentTypeError(f"[BRIEF_INVALID] {problem}")
    return value


def add_owner_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--owner", type=owner_arg,
                         help="who launches it (default: PIPELINE_USER, else the brief's owner, else the OS user)")


def owner_of(flag: str | None, brief_owner: str | None = None) -> str:
    """The owner of a run this CLI launches; a PIPELINE_USER that is no owner's name is bad input."""
    try:
        return launching_user(flag, brief_owner)
    except OwnerError as e:
        raise BriefError([str(e)], "the owner") from None


def list_runs(client: PipelineClient, owner: str | None, active: bool) -> int:
    """Print the runs of `owner` (everyone's without it), newest first; only the queued and running ones
    with `active`."""
    runs = client.runs(statuses=ACTIVE if active else None, tags={tags.OWNER: owner} if owner else None, limit=200)
    if active:
        runs = [r for r in runs if tags.is_active(r["status"], r["tags"])]
    if not runs:
        print(f"no {'active ' if active else ''}runs" + (f" of {owner}" if owner else ""))
        return 0
    for run in runs:
        created = datetime.fromtimestamp(run["creationTime"], tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        print(f"{run['tags'].get(tags.PROJECT, '-')!s:<40} {run['status'].lower():<9} {run['runId']}  "
              f"{run['tags'].get(tags.OWNER, '-'):<16} {created}")
    return 0
