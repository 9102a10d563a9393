"""Resources: the data folder, the IO manager for typed artifacts, and the providers per role.

With the S3 store (PIPELINE_STORE=s3, pipeline/objects/) the IO manager is also where a step meets
the bucket: loading its first input fetches the step's own files and those of every asset it reads
into the data folder (this host's scratch mirror), and storing its output uploads what the step wrote,
then the output itself; metadata and stored values name `s3://` URIs, never the scratch path.
"""

import threading
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel

from pipeline.defs.common import failure, failures
from pipeline.defs.redis_resource import RedisResource
from pipeline.failure import Problem
from pipeline.objects.mirror import Mirror, mirror_at
from pipeline.objects.settings import check_store_settings
from pipeline.providers.catalog import build_providers
from pipeline.store import ProjectFiles, default_data_dir
from pipeline.workers.settings import node_name


class DataFolder(dg.ConfigurableResource):
    """The folder under which every project's artifacts live (empty: PIPELINE_DATA_DIR or ./data)."""

    data_dir: str = ""

    @property
    def folder(self) -> Path:
        return Path(self.data_dir).resolve() if self.data_dir else default_data_dir()

    @property
    def root(self) -> Path:
        """The data folder; with the S3 store, its shared inputs (sources, logos, fonts) fetched first."""
        folder = self.folder
        mirror = mirror_at(folder)
        if mirror is not None:
            with failures("fetching the shared inputs"):
                mirror.pull_inputs()
        return folder

    def mirror(self) -> Mirror | None:
        """The S3 store's mirror of this data folder (None with the local store)."""
        return mirror_at(self.folder)

    def project(self, project: str) -> ProjectFiles:
        return ProjectFiles(self.folder, project)


_begun: set[tuple[str, str, int]] = set()  # (run id, step key, attempt) whose files were fetched here
_begun_lock = threading.Lock()


def _step_id(context: dg.InputContext | dg.OutputContext) -> tuple[str, str, int]:
    step = context.step_context
    return step.run_id, step.step.key, step.previous_attempt_count


def _to_uris(value: Any, mirror: Mirror) -> Any:
    """Every absolute path (or file:// URL) into the mirror, in a JSON-like value, as its s3:// URI."""
    if isinstance(value, str):
        text = value[len("file://"):] if value.startswith("file:///") else value
        if text.startswith("/"):
            path = Path(text)
            if path == mirror.root or mirror.root in path.parents:
                rel = path.relative_to(mirror.root).as_posix() if path != mirror.root else ""
                return mirror.store.uri(rel)
        return value
    if isinstance(value, dict):
        return {k: _to_uris(v, mirror) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_uris(v, mirror) for v in value]
    return value


def _metadata_uris(metadata: dict[str, Any], mirror: Mirror) -> dict[str, Any]:
    """The entries of a step's metadata that name a scratch path, naming its s3:// URI instead."""
    changed: dict[str, Any] = {}
    for key, entry in metadata.items():
        raw = getattr(entry, "value", entry)
        if not isinstance(raw, str):
            continue
        uri = _to_uris(raw, mirror)
        if uri != raw:
            changed[key] = dg.MetadataValue.path(uri) if isinstance(entry, dg.PathMetadataValue) else uri
    return changed


class ProjectIOManager(dg.ConfigurableIOManager):
    """Stores each asset's typed result as `<data>/projects/<project>/<asset>.json`."""

    data_dir: str = ""

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        key = context.asset_key.path[-1]
        return DataFolder(data_dir=self.data_dir).project(context.asset_partition_key).path(f"{key}.json")

    def handle_output(self, context: dg.OutputContext, obj: BaseModel) -> None:
        from pipeline.store import atomic_write

        folder = DataFolder(data_dir=self.data_dir)
        mirror = folder.mirror()
        where = f"saving {context.asset_key.to_user_string()}"
        # a full disk (or a cancel) while saving is not retried, as in the asset bodies
        with failures(where, folder.folder):
            text = obj.model_dump_json(indent=2)
            if mirror is not None:  # a stored value never names this host's scratch
                text = type(obj).model_validate(_to_uris(obj.model_dump(mode="json"), mirror)).model_dump_json(indent=2)
                with _begun_lock:
                    begun = _step_id(context) in _begun
                # the step's files first
                mirror.end_step(context.asset_partition_key, context.asset_key.path[-1], watched=begun)
            path = atomic_write(self._path(context), text)  # uploaded last: its presence means the rest is there
        with _begun_lock:
            _begun.discard(_step_id(context))
        # which machine (Celery node) made it, and where it is (job_result's outputs read this)
        metadata: dict[str, Any] = {"worker": node_name(), "stored": dg.MetadataValue.path(
            mirror.uri(path) or str(path) if mirror is not None else str(path))}
        if mirror is not None:
            metadata.update(_metadata_uris(dict(context.output_metadata or {}), mirror))
        context.add_output_metadata(metadata)

    def _fetch(self, context: dg.InputContext) -> None:
        """With the S3 store: the step's own files once per step attempt, then the files of this input's asset."""
        mirror = DataFolder(data_dir=self.data_dir).mirror()
        if mirror is None:
            return
        project, upstream = context.asset_partition_key, context.asset_key.path[-1]
        step = _step_id(context)
        with failures(f"fetching {upstream} from the object store"):
            with _begun_lock:
                first = step not in _begun
                _begun.add(step)
            if first:
                mirror.begin_step(project, context.op_def.name)
            mirror.fetch_asset(project, upstream)

    def load_input(self, context: dg.InputContext) -> BaseModel:
        self._fetch(context)
        path = self._path(context)
        model = context.dagster_type.typing_type
        if not path.exists():
            asset = context.asset_key.to_user_string()
            raise failure(Problem(f"{path} is missing", where=f"loading {asset}", code="UPSTREAM_MISSING",
                                  hint=f"materialise {asset} for project {context.asset_partition_key} first",
                                  details={"path": str(path)}))
        value = model.model_validate_json(path.read_text(encoding="utf-8"))
        if hasattr(value, "with_edits"):  # artifacts a user may edit by hand, e.g. chapters/NN.md
            value = value.with_edits(path.parent)
        return value


def build_resources(data_dir: str | Path | None = None) -> dict[str, object]:
    """The resources of this environment, providers chosen by `PIPELINE_*` variables (see providers/catalog.py).

    Without `data_dir`, the data folder is resolved when a step runs (PIPELINE_DATA_DIR or ./data).
    """
    from pipeline.defs.video.ahead import ahead_setting

    check_store_settings()  # SETTINGS_INVALID at load time: the code location names the variable
    ahead_setting()
    folder = str(data_dir or "")
    return {"files": DataFolder(data_dir=folder), "io_manager": ProjectIOManager(data_dir=folder),
            "redis_target": RedisResource(), **build_providers(folder)}
