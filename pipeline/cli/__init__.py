"""The `pipeline` command line: this module parses and reports; each command lives beside it
(demo.py, projects.py, delete.py, events.py, estimate.py, worker.py, cache.py)."""

import argparse
import sys

from pipeline.brief import BriefError, load_brief
from pipeline.cli.cache import add_command as add_cache_command
from pipeline.cli.demo import add_command as add_demo_command
from pipeline.cli.errors import REPORTED, error_code, exit_status
from pipeline.cli.estimate import add_command as add_estimate_command
from pipeline.cli.events import add_commands as add_event_commands
from pipeline.cli.projects import add_commands as add_project_commands
from pipeline.cli.worker import add_command as add_worker_command
from pipeline.store import default_data_dir


def _cmd_validate(args: argparse.Namespace) -> int:
    brief = load_brief(args.brief, default_data_dir())
    print(f"{args.brief}: valid brief for project {brief.project_id!r} ({brief.kind}, {brief.language})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description="The content pipeline: briefs, projects, runs.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo_command(commands)
    validate = commands.add_parser("validate", help="check a brief and print every problem")
    validate.add_argument("brief")
    validate.set_defaults(run=_cmd_validate)
    add_event_commands(commands)
    add_project_commands(commands)
    add_estimate_command(commands)
    add_worker_command(commands)
    add_cache_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except REPORTED as e:
        code = error_code(e)
        # a brief's error names its file and every broken rule; the others are one line
        lead = "refused " if code == "PROJECT_BUSY" else "" if isinstance(e, BriefError) else "error "
        print(f"{lead}[{code}] {e}", file=sys.stderr)
        return exit_status(code)
