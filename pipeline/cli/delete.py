"""`pipeline delete PROJECT`: its runs, partition, files and Redis keys, after every check has passed.

Every path is resolved and must be the project's own folder (strictly inside the projects or exports
root, not a link); an id that breaks the project-id rule (a run launched before the rule held) only
loses its runs and partition, never a file. Nothing is deleted when a check fails.

With the S3 store, the project's objects go too: exactly the keys under `<prefix>/projects/<id>/` and
`<prefix>/exports/<id>/` (the trailing slash: `<id>-2/` is another project's), listed and checked key by
key before any is deleted; this host's scratch copy of the project goes with them.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from pipeline import tags
from pipeline.ids import project_id_problem
from pipeline.launch.client import ClientError, PipelineClient
from pipeline.objects.settings import check_store_settings
from pipeline.providers.publisher import LocalPublisher
from pipeline.store import default_data_dir


def project_objects(store, project: str) -> list[str]:
    """The keys (relative to the store's prefix) of the project's own objects; nothing for an invalid id."""
    if project_id_problem(project) is not None:
        return []
    keys = []
    for top in ("projects", "exports"):
        prefix = f"{top}/{project}/"
        for obj in store.objects(prefix):
            # listed by prefix, checked again: only keys strictly inside the project's own folder
            if obj.rel.startswith(prefix) and obj.rel.split("/", 2)[1] == project:
                keys.append(obj.rel)
    return keys


def owned_folder(root: Path, project: str) -> Path | None:
    """`root/project` when it exists and is a real folder strictly inside `root`; None when absent.

    Raises ClientError when the entry exists but is not the project's own folder (a link, a file)."""
    base = root.resolve()
    path = base / project
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_dir():
        raise ClientError(f"{path} is not a folder of project {project!r} (a link or a file): "
                          "nothing was deleted; remove it by hand if it is yours")
    resolved = path.resolve()
    if resolved.parent != base or resolved.name != project:
        raise ClientError(f"{path} resolves to {resolved}, outside {base}: nothing was deleted")
    return resolved


def _confirm(project: str, what: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise ClientError(f"delete of {project!r} needs confirmation: run it in a terminal, or add --yes")
    answer = input(f"Delete project {project!r}: {what}? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ClientError(f"delete of {project!r} canceled: nothing was deleted")


def cmd_delete(args: argparse.Namespace) -> int:
    from pipeline.cli.projects import refuse_if_active

    project = args.project
    if not project or not project.strip():
        raise ClientError("delete needs a project id; `pipeline list` shows them")
    problem = project_id_problem(project)
    store = None
    if check_store_settings() == "s3":
        from pipeline.objects.s3 import ObjectStore

        store = ObjectStore()
    client = PipelineClient()
    refuse_if_active(client, project)
    runs = [r["runId"] for r in client.runs(project, limit=100000, include_refused=True)
            if r["tags"].get(tags.PROJECT) == project]
    has_partition = project in client.partitions()
    folders: list[Path] = []
    if problem is None:
        data = default_data_dir()
        export_root = LocalPublisher.from_env(str(data)).export_root(data)
        folders = [f for f in (owned_folder(data / "projects", project), owned_folder(export_root, project)) if f]
    objects = _listed(store, project) if store is not None and problem is None else []
    if not runs and not has_partition and not folders and not objects:
        raise ClientError(f"no project {project!r}: no partition, no run and no folder; `pipeline list` shows them")
    places = [str(f) for f in folders] + (
        [f"{len(objects)} objects under {store.uri(f'projects/{project}/')}"] if objects else [])
    what = f"{len(runs)} runs, " + ("the partition, " if has_partition else "") + (
        ", ".join(places) + " and Redis keys" if problem is None
        else f"no files (the id is not a valid project id: {problem})")
    _confirm(project, what, args.yes)
    for run_id in runs:
        client.delete_run(run_id)
    if has_partition:
        client.delete_partition(project)
    if objects:
        store.delete(objects)
    for folder in folders:
        shutil.rmtree(folder)
    removed = _forget(project, runs) if problem is None else 0
    print(f"{project}: deleted {what.replace(' and Redis keys', '')} and {removed} Redis keys/entries")
    return 0


def _listed(store, project: str) -> list[str]:
    from pipeline.objects.s3 import StoreUnavailable

    try:
        return project_objects(store, project)
    except StoreUnavailable as e:
        raise ClientError(f"{e}: nothing was deleted", code="STORAGE_UNAVAILABLE") from None


def _forget(project: str, runs: list[str]) -> int:
    import redis

    from pipeline.events.forget import forget_project
    from pipeline.events.redis_sink import connect, redis_prefix

    try:
        return forget_project(connect(), redis_prefix(), project, runs)
    except (redis.RedisError, OSError) as e:
        print(f"warning: Redis not reachable, its keys for {project} stay: {e}", file=sys.stderr)
        return 0


def add_command(commands) -> None:
    delete = commands.add_parser("delete", help="delete a project: runs, partition, files, Redis keys")
    delete.add_argument("project")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    delete.set_defaults(run=cmd_delete)
