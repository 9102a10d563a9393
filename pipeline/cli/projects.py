"""`pipeline submit | status | cancel | resume | continue | list | delete`: projects over GraphQL.

Every launch carries its owner (`pipeline/owner`, cli/owners.py)."""

import argparse
import getpass
import json
import sys
import time

import dagster as dg

from pipeline import tags
from pipeline.brief import Brief, load_brief
from pipeline.cli.errors import error_code
from pipeline.cli.owners import add_owner_option, list_runs, owner_arg, owner_of
from pipeline.ids import project_id_problem
from pipeline.launch.client import FINAL, ClientError, PipelineClient, ProjectBusyError
from pipeline.stages import STAGES
from pipeline.store import ProjectFiles, default_data_dir
from pipeline.tags import OWNER

EXIT = {"SUCCESS": 0, "FAILURE": 1, "CANCELED": 4}


def _graph():
    from pipeline.definitions import defs

    return defs.resolve_asset_graph()


def selection_names(stop_at: str | None, require_approval: bool = False) -> list[str] | None:
    """Assets a run selects for `stop_at` (None: the whole job)."""
    if stop_at is None and not require_approval:
        return None
    from pipeline.defs.ops.jobs import selection_up_to

    return [k.path[-1] for k in selection_up_to(stop_at, _graph(), require_approval)]


def downstream_of(asset: str) -> list[str]:
    """The assets strictly downstream of `asset`, in graph order."""
    keys = dg.AssetSelection.assets(asset).downstream().resolve(_graph()) - {dg.AssetKey(asset)}
    return [s for s in STAGES if dg.AssetKey(s) in keys]


def _progress(project: str) -> dict:
    """The project's progress record from Redis, or {} when Redis is not reachable."""
    import redis

    from pipeline.events.keys import Keys
    from pipeline.events.redis_sink import connect, redis_prefix

    try:
        raw = connect(timeout=1).get(Keys(redis_prefix()).progress(project))
    except (redis.RedisError, OSError):
        return {}
    return json.loads(raw) if raw else {}


def failure_cause(project: str, run_id: str) -> str | None:
    """The failure of the run, from its `task_failed` (or `task_canceled`) entry in Redis: code, stage,
    message and hint, as lines to print; None when Redis has none."""
    import redis

    from pipeline.events.keys import Keys
    from pipeline.events.redis_sink import connect, redis_prefix

    try:
        for _, fields in connect(timeout=1).xrevrange(Keys(redis_prefix()).stream(project), count=200):
            if fields.get("run_id") == run_id and fields.get("type") in ("task_failed", "task_canceled"):
                code = fields.get("error_code") or "STEP_FAILED"
                text = (fields.get("error") or fields.get("message") or "").strip()[:2000]
                hint = f"\n  hint: {fields['hint']}" if fields.get("hint") and fields["hint"] not in text else ""
                retry = " (retryable)" if fields.get("retryable") == "true" else ""
                return f"[{code}]{retry} {text}{hint}"
    except (redis.RedisError, OSError):
        return None
    return None


def refuse_if_active(client: PipelineClient, project: str) -> None:
    active = client.active_run(project)
    if active is not None:
        raise ProjectBusyError(project, active["runId"], active["status"])


def project_arg(value: str) -> str:
    """argparse type of a PROJECT argument: the project-id rule, before anything is asked or done."""
    problem = project_id_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"[PROJECT_ID_INVALID] {value!r} is not a project id: {problem}")
    return value


def _wait(client: PipelineClient, project: str, run_id: str) -> int:
    last = None
    while True:
        run = client.run(run_id)
        record = _progress(project)
        if record.get("run_id") == run_id:
            line = f"  {record.get('progress_percent', 0):3d}% {record.get('current_step') or ''} {record.get('message', '')}"
            if line != last:
                print(line[:160], flush=True)
                last = line
        if run["status"] in FINAL:
            print(f"{project}: run {run_id} {run['status']}")
            if run["status"] in ("FAILURE", "CANCELED") and (cause := failure_cause(project, run_id)):
                print(f"  {cause}")
            return EXIT[run["status"]]
        time.sleep(0.5)


def launch_brief(client: PipelineClient, brief: Brief, stop_at: str | None, tags: dict[str, str] | None = None,
                 owner: str | None = None) -> str:
    """Add the project's partition and launch its run, owned by `owner` (default: the launching user);
    refused when the project has an active run."""
    from pipeline.defs.ops.jobs import run_config

    run_tags = {OWNER: owner_of(owner, brief.owner), **(tags or {})}
    refuse_if_active(client, brief.project_id)
    return client.add_partition_and_launch(brief.project_id, run_config(brief),
                                           selection_names(stop_at, brief.publish.require_approval), run_tags)


def cmd_submit(args: argparse.Namespace) -> int:
    brief = load_brief(args.brief, default_data_dir())
    if args.verbose:
        brief = brief.model_copy(update={"verbose": True})
    owner = owner_of(args.owner, brief.owner)
    client = PipelineClient()
    run_id = launch_brief(client, brief, args.stop_at or brief.stop_at, owner=owner)
    print(f"{brief.project_id}: run {run_id} launched (owner {owner})")
    return _wait(client, brief.project_id, run_id) if args.wait else 0


def _projection_error(project: str) -> dict | None:
    """Why the project's events stopped reaching Redis (pipeline.events.faults), or None."""
    import redis

    from pipeline.events.faults import projection_error
    from pipeline.events.redis_sink import connect, redis_prefix

    try:
        return projection_error(connect(timeout=1), redis_prefix(), project)
    except (redis.RedisError, OSError):
        return None


def cmd_status(args: argparse.Namespace) -> int:
    if (fault := _projection_error(args.project)) is not None:
        print(f"warning: events of run {fault['run_id']} do not reach Redis since {fault['since']} "
              f"({fault['attempts']} attempts, retried on every pass): {fault['error']}", file=sys.stderr)
    client = PipelineClient()
    active = client.active_run(args.project)
    if active is not None:
        record = _progress(args.project)
        detail = ""
        if record.get("run_id") == active["runId"]:
            detail = f" {record.get('progress_percent', 0)}% {record.get('current_step') or ''}: {record.get('message', '')}"
        print(f"{args.project}: {active['status'].lower()} (run {active['runId']}){detail}")
        return 0
    runs = client.runs(args.project, limit=1)
    last = f"last run {runs[0]['runId']} {runs[0]['status'].lower()}" if runs else "no runs yet"
    print(f"{args.project}: idle ({last})")
    if runs and runs[0]["status"] in ("FAILURE", "CANCELED") and (
            cause := failure_cause(args.project, runs[0]["runId"])):
        print(f"  {cause}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    client = PipelineClient()
    active = client.active_run(args.project)
    if active is None:
        print(f"{args.project}: nothing to cancel (no queued or running run)")
        return 0
    client.terminate(active["runId"])
    print(f"{args.project}: canceling run {active['runId']}")
    return _wait(client, args.project, active["runId"]) if args.wait else 0


def cmd_resume(args: argparse.Namespace) -> int:
    owner = owner_of(args.owner)
    client = PipelineClient()
    refuse_if_active(client, args.project)
    runs = client.runs(args.project, limit=1)
    if not runs or runs[0]["status"] not in ("FAILURE", "CANCELED"):
        state = f"last run {runs[0]['runId']} {runs[0]['status'].lower()}" if runs else "no runs"
        print(f"{args.project}: nothing to resume ({state})")
        return 0
    run_id = client.reexecute(runs[0]["runId"], tags={tags.OWNER: owner})
    print(f"{args.project}: resuming run {runs[0]['runId']} as {run_id} (finished items are reused)")
    return _wait(client, args.project, run_id) if args.wait else 0


def cmd_continue(args: argparse.Namespace) -> int:
    files = ProjectFiles(default_data_dir(), args.project)
    if not files.has("brief.json"):
        raise ClientError(f"project {args.project!r} has no stored brief ({files.path('brief.json')}): submit it first")
    assets = downstream_of(args.from_asset)
    if not assets:
        print(f"{args.project}: nothing is downstream of {args.from_asset}")
        return 0
    owner = owner_of(args.owner)
    client = PipelineClient()
    refuse_if_active(client, args.project)
    run_id = client.launch(args.project, {}, assets, {tags.CONTINUE_FROM: args.from_asset, tags.OWNER: owner})
    print(f"{args.project}: run {run_id} rebuilds {', '.join(assets)}")
    return _wait(client, args.project, run_id) if args.wait else 0


def cmd_approve(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from pipeline.defs.publish.assets import APPROVAL_FILE
    from pipeline.store import atomic_write

    files = ProjectFiles(default_data_dir(), args.project)
    if not files.has("video.mp4") or not files.has("thumbnail.jpg"):
        raise ClientError(f"project {args.project!r} has no video and thumbnail to approve yet: "
                          f"`pipeline status {args.project}`")
    owner = owner_of(args.owner)
    client = PipelineClient()
    refuse_if_active(client, args.project)
    record = {"approved_at": datetime.now(timezone.utc).isoformat(), "by": args.by}
    atomic_write(files.path(APPROVAL_FILE), json.dumps(record))
    run_id = client.launch(args.project, {}, ["publication"], {tags.APPROVED_BY: args.by, tags.OWNER: owner})
    print(f"{args.project}: approved; run {run_id} publishes it")
    return _wait(client, args.project, run_id) if args.wait else 0


def cmd_list(args: argparse.Namespace) -> int:
    client = PipelineClient()
    if args.owner or args.active:
        return list_runs(client, args.owner, args.active)
    for project in client.partitions():
        runs = client.runs(project, limit=1)
        state = (f"{runs[0]['status'].lower():<9} {runs[0]['runId']}  {runs[0]['tags'].get(tags.OWNER, '-')}"
                 if runs else "no runs")
        if (problem := project_id_problem(project)) is not None:  # left by a launch before the rule held
            state += f"  (not a valid project id, {problem}: `pipeline delete --yes '{project}'` removes its runs)"
        print(f"{project!s:<40} {state}")
    return 0


def add_commands(commands) -> None:
    """Register the project commands on the CLI's subparsers."""
    from pipeline.cli.delete import add_command as add_delete_command

    submit = commands.add_parser("submit", help="validate a brief and launch its project on the Dagster webserver")
    submit.add_argument("brief")
    submit.add_argument("--stop-at", choices=STAGES, help="stop after this asset (wins over the brief's stop_at)")
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends")
    submit.add_argument("--verbose", action="store_true", help="log one line per provider call (the brief's verbose)")
    add_owner_option(submit)
    submit.set_defaults(run=cmd_submit)
    for name, handler, text in [("status", cmd_status, "what the project is doing, or idle with its last outcome"),
                                ("cancel", cmd_cancel, "cancel the project's queued or running run"),
                                ("resume", cmd_resume, "re-execute the last failed or canceled run from failure")]:
        command = commands.add_parser(name, help=text)
        command.add_argument("project", type=project_arg)
        if name != "status":
            command.add_argument("--wait", action="store_true")
        if name == "resume":
            add_owner_option(command)
        command.set_defaults(run=handler)
    cont = commands.add_parser("continue", help="rebuild what is strictly downstream of an asset (after an edit)")
    cont.add_argument("project", type=project_arg)
    cont.add_argument("--from", dest="from_asset", required=True, choices=STAGES)
    cont.add_argument("--wait", action="store_true")
    add_owner_option(cont)
    cont.set_defaults(run=cmd_continue)
    approve = commands.add_parser("approve", help="release the publication of a project whose brief requires approval")
    approve.add_argument("project", type=project_arg)
    approve.add_argument("--by", default=getpass.getuser(), help="who approves (recorded)")
    approve.add_argument("--wait", action="store_true")
    add_owner_option(approve)
    approve.set_defaults(run=cmd_approve)
    listing = commands.add_parser("list", help="every project and its last run; with --owner or --active, runs")
    listing.add_argument("--owner", type=owner_arg, help="only the runs of this owner (pipeline/owner)")
    listing.add_argument("--active", action="store_true", help="only queued and running runs")
    listing.set_defaults(run=cmd_list)
    add_delete_command(commands)
    add_batch_command(commands)


def cmd_batch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.launch.batch import read_batch, write_batch_progress

    owner_of(args.owner)  # a bad PIPELINE_USER is refused before anything is launched
    batch = read_batch(Path(args.file), default_data_dir(), args.batch)
    client = PipelineClient()
    launched = []
    for brief in batch.briefs:
        try:
            run_id = launch_brief(client, brief, brief.stop_at, {tags.BATCH: batch.id}, owner=args.owner)
            launched.append({"project": brief.project_id, "run_id": run_id, "status": "queued", "error": None})
        except ClientError as e:  # one project's trouble never stops the others
            batch.rejected.append({"project": brief.project_id, "run_id": None, "status": "rejected",
                                   "error": str(e), "error_code": error_code(e)})
    record = batch.record(launched)
    write_batch_progress(record)
    for result in record["results"]:
        print(f"{result['project'] or '?':<32} {result['status']:<9} {result['run_id'] or result['error']}")
    print(f"batch {batch.id}: {len(launched)} launched, {len(batch.rejected)} rejected")
    return 0 if launched or not batch.rejected else 1


def add_batch_command(commands) -> None:
    batch = commands.add_parser("batch", help="validate and launch every brief of a batch file (projects: [...])")
    batch.add_argument("file")
    batch.add_argument("--batch", help="the batch id (default: the file's name and the time)")
    add_owner_option(batch)
    batch.set_defaults(run=cmd_batch)
