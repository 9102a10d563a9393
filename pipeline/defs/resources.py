"""Resources: the data folder, the IO manager for typed artifacts, and the providers per role."""

from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from pipeline.defs.common import failure, failures
from pipeline.defs.redis_resource import RedisResource
from pipeline.failure import Problem
from pipeline.providers.catalog import build_providers
from pipeline.store import ProjectFiles, default_data_dir
from pipeline.workers.settings import node_name


class DataFolder(dg.ConfigurableResource):
    """The folder under which every project's artifacts live (empty: PIPELINE_DATA_DIR or ./data)."""

    data_dir: str = ""

    @property
    def root(self) -> Path:
        return Path(self.data_dir).resolve() if self.data_dir else default_data_dir()

    def project(self, project: str) -> ProjectFiles:
        return ProjectFiles(self.root, project)


class ProjectIOManager(dg.ConfigurableIOManager):
    """Stores each asset's typed result as `<data>/projects/<project>/<asset>.json`."""

    data_dir: str = ""

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        key = context.asset_key.path[-1]
        return DataFolder(data_dir=self.data_dir).project(context.asset_partition_key).path(f"{key}.json")

    def handle_output(self, context: dg.OutputContext, obj: BaseModel) -> None:
        from pipeline.store import atomic_write

        # a full disk (or a cancel) while saving is not retried, as in the asset bodies
        with failures(f"saving {context.asset_key.to_user_string()}", DataFolder(data_dir=self.data_dir).root):
            path = atomic_write(self._path(context), obj.model_dump_json(indent=2))
        # which machine (Celery node) made it, and where it is (job_result's outputs read this)
        context.add_output_metadata({"worker": node_name(), "stored": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> BaseModel:
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
    folder = str(data_dir or "")
    return {"files": DataFolder(data_dir=folder), "io_manager": ProjectIOManager(data_dir=folder),
            "redis_target": RedisResource(), **build_providers(folder)}
