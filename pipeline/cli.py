"""The `pipeline` command line."""

import argparse
import sys
from pathlib import Path

from pipeline.brief import STAGES, BriefError, load_brief
from pipeline.commands.projects import add_commands as add_project_commands
from pipeline.commands.projects import project_arg
from pipeline.estimate import add_command as add_estimate_command
from pipeline.ids import InvalidProjectId
from pipeline.launch.client import ClientError, ProjectBusyError
from pipeline.launch.guard import ProjectBusy
from pipeline.store import ProjectFiles, default_data_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "novel-en.yaml"


def _cmd_validate(args: argparse.Namespace) -> int:
    brief = load_brief(args.brief, default_data_dir())
    print(f"{args.brief}: valid brief for project {brief.project_id!r} ({brief.kind}, {brief.language})")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.run import run_locally

    brief = load_brief(args.brief, default_data_dir())
    print(f"Producing project {brief.project_id!r} from {args.brief} (data folder {default_data_dir()})")
    outcome = run_locally(brief, stop_at=args.stop_at or brief.stop_at)
    files = ProjectFiles(default_data_dir(), brief.project_id)
    print(f"\nRun {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILURE'}")
    for name, path in outcome.artifacts.items():
        print(f"  {name:<11} {files.path(path)}")
    return 0 if outcome.success else 1


def _cmd_follow(args: argparse.Namespace) -> int:
    from pipeline.events.follow import describe, follow
    from pipeline.events.redis_sink import connect, redis_prefix

    outcome = 0
    for entry in follow(connect(timeout=10), redis_prefix(), args.project):
        print(describe(entry), flush=True)
        outcome = 1 if entry.get("type") in ("task_failed", "task_canceled") else 0
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="produce one project through every asset, on this machine")
    demo.add_argument("brief", nargs="?", default=str(EXAMPLE), help="brief YAML (default: %(default)s)")
    demo.add_argument("--stop-at", choices=STAGES, help="stop after this asset (wins over the brief's stop_at)")
    demo.set_defaults(run=_cmd_demo)
    validate = commands.add_parser("validate", help="check a brief and print every problem")
    validate.add_argument("brief")
    validate.set_defaults(run=_cmd_validate)
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
    add_project_commands(commands)
    add_estimate_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BriefError as e:
        print(e, file=sys.stderr)
        return 2
    except (ProjectBusy, ProjectBusyError) as e:
        print(f"refused: {e}", file=sys.stderr)
        return 3
    except InvalidProjectId as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
