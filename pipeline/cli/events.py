"""`pipeline events follow | resync PROJECT`, `pipeline logs PROJECT`: the project's projection in Redis."""

import argparse

from pipeline.cli.projects import project_arg


def _cmd_follow(args: argparse.Namespace) -> int:
    from pipeline.events.entries import FINAL_TYPES
    from pipeline.events.follow import describe, follow
    from pipeline.events.redis_sink import connect, redis_prefix

    outcome = 0
    for entry in follow(connect(timeout=10), redis_prefix(), args.project):
        print(describe(entry), flush=True)
        outcome = 1 if entry.get("type") in FINAL_TYPES and entry["type"] != "task_completed" else 0
    return outcome


def _cmd_logs(args: argparse.Namespace) -> int:
    from pipeline.events.follow import log_page
    from pipeline.events.redis_sink import connect, redis_prefix

    lines, pages = log_page(connect(), redis_prefix(), args.project, args.page, args.size)
    for line in lines:
        print(f"{line['ts']} {line['level']:<7} {line['step'] or '-':<11} {line['message']}")
    print(f"-- page {args.page} of {pages} (1 is the newest) --")
    return 0


def _cmd_resync(args: argparse.Namespace) -> int:
    import dagster as dg

    from pipeline.events.projector import Projector, state_for
    from pipeline.events.redis_sink import RedisSink, connect, redis_prefix

    with dg.DagsterInstance.get() as instance:
        projector = Projector(instance, state_for(instance), RedisSink(connect(), redis_prefix()))
        projector.check_epoch()
        written = projector.resync(args.project)
    print(f"{args.project}: projection rebuilt from the event log, {written} events written to Redis")
    return 0


def _positive(value: str) -> int:
    """argparse type of a page number or size: an integer from 1 to 10000."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= number <= 10000:
        raise argparse.ArgumentTypeError(f"{number} is out of range: give 1 to 10000")
    return number


def add_commands(commands) -> None:
    """Register the event and log commands on the CLI's subparsers."""
    events = commands.add_parser("events", help="the project's events in Redis").add_subparsers(
        dest="events_command", required=True)
    follow = events.add_parser("follow", help="print the live stream of the project's run until it ends")
    follow.add_argument("project", type=project_arg)
    follow.set_defaults(run=_cmd_follow)
    resync = events.add_parser("resync", help="rebuild the project's Redis projection from Dagster's event log")
    resync.add_argument("project", type=project_arg)
    resync.set_defaults(run=_cmd_resync)
    logs = commands.add_parser("logs", help="the project's logs, page by page (page 1 is the newest)")
    logs.add_argument("project", type=project_arg)
    logs.add_argument("--page", type=_positive, default=1)
    logs.add_argument("--size", type=_positive, default=50)
    logs.set_defaults(run=_cmd_logs)
