"""Resources: the data folder, the IO manager for typed artifacts, and the providers per role."""

import os
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from pipeline.defs.common import failures
from pipeline.providers.images import ImageProvider, ProceduralImages
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.roles import choose_avatar, choose_publisher
from pipeline.providers.selection import HTTP_PROVIDERS, http_provider
from pipeline.providers.speech import OfflineSpeech, SpeechProvider
from pipeline.providers.text import TextProvider
from pipeline.store import ProjectFiles, default_data_dir


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
            atomic_write(self._path(context), obj.model_dump_json(indent=2))

    def load_input(self, context: dg.InputContext) -> BaseModel:
        path = self._path(context)
        model = context.dagster_type.typing_type
        if not path.exists():
            raise dg.Failure(
                description=f"{path} is missing: materialise {context.asset_key.to_user_string()} "
                f"for project {context.asset_partition_key} first",
                allow_retries=False,
            )
        value = model.model_validate_json(path.read_text(encoding="utf-8"))
        if hasattr(value, "with_edits"):  # artifacts a user may edit by hand, e.g. chapters/NN.md
            value = value.with_edits(path.parent)
        return value


_OFFLINE = {"text": OfflineText, "speech": OfflineSpeech, "images": ProceduralImages}


def _choose(role: str, data_dir: str) -> dg.ConfigurableResource:
    """The provider `PIPELINE_<ROLE>_PROVIDER` names (offline by default), set up from the environment."""
    variable = f"PIPELINE_{role.upper()}_PROVIDER"
    name = os.environ.get(variable, "offline").strip().lower() or "offline"
    known = ["offline", *HTTP_PROVIDERS[role]]
    if name not in known:
        raise dg.DagsterInvalidConfigError(
            f"{variable}={name!r} is not a known {role} provider; choose one of: {', '.join(known)}", [], None
        )
    return _OFFLINE[role]() if name == "offline" else http_provider(role, name, data_dir)


def build_resources(data_dir: str | Path | None = None) -> dict[str, object]:
    """The resources of this environment, chosen by `PIPELINE_*` variables (offline by default).

    Without `data_dir`, the data folder is resolved when a step runs (PIPELINE_DATA_DIR or ./data).
    """
    folder = str(data_dir or "")
    text: TextProvider = _choose("text", folder)  # type: ignore[assignment]
    speech: SpeechProvider = _choose("speech", folder)  # type: ignore[assignment]
    images: ImageProvider = _choose("images", folder)  # type: ignore[assignment]
    return {
        "files": DataFolder(data_dir=folder),
        "io_manager": ProjectIOManager(data_dir=folder),
        "text_provider": text,
        "speech_provider": speech,
        "image_provider": images,
        "avatar_provider": choose_avatar(folder),
        "publisher": choose_publisher(folder),
    }
