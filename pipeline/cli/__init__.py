"""The `pipeline` command line: this module parses and reports; each command lives beside it
(projects.py, delete.py, events.py, estimate.py)."""

import argparse
import sys
from pathlib import Path

from pipeline.brief import BriefError, load_brief
from pipeline.cli.errors import REPORTED, error_code, exit_status
from pipeline.cli.estimate import add_command as add_estimate_command
from pipeline.cli.events import add_commands as add_event_commands
from pipeline.cli.projects import add_commands as add_project_commands
from pipeline.stages import STAGES
from pipeline.store import ProjectFiles, default_data_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "novel-en.yaml"


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description="The content pipeline: briefs, projects, runs.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="produce one project through every asset, on this machine")
    demo.add_argument("brief", nargs="?", default=str(EXAMPLE), help="brief YAML (default: %(default)s)")
    demo.add_argument("--stop-at", choices=STAGES, help="stop after this asset (wins over the brief's stop_at)")
    demo.set_defaults(run=_cmd_demo)
    validate = commands.add_parser("validate", help="check a brief and print every problem")
    validate.add_argument("brief")
    validate.set_defaults(run=_cmd_validate)
    add_event_commands(commands)
    add_project_commands(commands)
    add_estimate_command(commands)
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
