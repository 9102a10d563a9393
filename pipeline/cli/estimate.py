"""`pipeline estimate BRIEF`: what a brief will cost, before anything is spent (pipeline/estimate.py)."""

import argparse
import sys

from pipeline.brief import BriefError, load_brief
from pipeline.estimate import PriceError, estimate, render
from pipeline.store import default_data_dir


def _command(args: argparse.Namespace) -> int:
    """`pipeline estimate BRIEF`: print the estimate; 2 on a bad brief or price."""
    try:
        brief = load_brief(args.brief, default_data_dir())
        print(render(estimate(brief, default_data_dir()), brief))
    except (BriefError, PriceError) as e:
        print(e, file=sys.stderr)
        return 2
    return 0


def add_command(subparsers: "argparse._SubParsersAction") -> None:
    """Register `estimate BRIEF` on the CLI's subcommands."""
    parser = subparsers.add_parser("estimate", help="print the expected calls, tokens, images, seconds and cost of a "
                                   "brief, before anything is spent")
    parser.add_argument("brief", help="brief YAML or JSON")
    parser.set_defaults(run=_command)
