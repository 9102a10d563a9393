"""`pipeline cache prune --older-than DURATION [--dry-run]`: remove cache entries not used for that long.

The duration is checked before anything else (ARGUMENT_INVALID, exit 2, nothing removed). The runs
come from the webserver, as for every other command: without them the guard for unfinished projects
cannot be computed, so nothing is removed (SERVICE_UNAVAILABLE). See pipeline/objects/retention.py.
"""

import argparse

from pipeline import tags
from pipeline.launch.client import ClientError, PipelineClient
from pipeline.objects.retention import CacheFolderError, DurationError, parse_duration, prune, unfinished_since
from pipeline.objects.settings import check_store_settings
from pipeline.store import default_data_dir


def project_runs(client: PipelineClient) -> dict[str, list[tuple[str, float]]]:
    """project -> [(status, creation time)], newest first, for every project partition."""
    projects = set(client.partitions())
    runs: dict[str, list[tuple[str, float]]] = {p: [] for p in projects}
    for run in client.runs(limit=1_000_000):
        project = run["tags"].get(tags.PROJECT)
        if project in runs:
            runs[project].append((run["status"], float(run.get("creationTime") or 0)))
    return runs


def cmd_prune(args: argparse.Namespace) -> int:
    try:
        older_than = parse_duration(args.older_than)
    except DurationError as e:
        raise ClientError(str(e), code="ARGUMENT_INVALID") from None
    check_store_settings()
    since = unfinished_since(project_runs(PipelineClient()))
    try:
        reports = prune(default_data_dir(), older_than, since, dry_run=args.dry_run)
    except CacheFolderError as e:
        raise ClientError(str(e), code="SETTINGS_INVALID") from None
    for report in reports:
        print(report.line(args.dry_run))
        for example in report.examples if args.dry_run else []:
            print(f"  {example}")
    return 0


def add_command(commands) -> None:
    cache = commands.add_parser("cache", help="the caches: prune entries not used for a while")
    actions = cache.add_subparsers(dest="action", required=True)
    prune_parser = actions.add_parser(
        "prune", help="remove cache entries (responses, video chunks, audio) not used for longer than a duration",
        description="Removes entries under the data folder's cache/ (or the bucket's, with PIPELINE_STORE=s3) last "
                    "used longer ago than --older-than; never a project's files, and never what an unfinished "
                    "project may need to resume.")
    prune_parser.add_argument("--older-than", required=True, metavar="DURATION",
                              help="e.g. 30d, 12h, 90m, 2w")
    prune_parser.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    prune_parser.set_defaults(run=cmd_prune)
