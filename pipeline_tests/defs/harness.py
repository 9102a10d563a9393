"""Materialise slices of the asset graph on an ephemeral instance, with providers that count calls."""

from collections import Counter
from pathlib import Path
from typing import ClassVar

import dagster as dg

from pipeline.brief import Brief
from pipeline.definitions import assets
from pipeline.defs.ops.jobs import run_config
from pipeline.defs.resources import build_resources
from pipeline.providers.images import ProceduralImages
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.speech import OfflineSpeech

CALLS: Counter = Counter()


class CountingText(OfflineText):
    def generate(self, request):
        CALLS[f"text:{request.task}"] += 1
        return super().generate(request)


class CountingSpeech(OfflineSpeech):
    def synthesize(self, text, language, voice, out_path):
        CALLS["speech"] += 1
        return super().synthesize(text, language, voice, out_path)


class CountingImages(ProceduralImages):
    fail_descriptions: ClassVar[set[int]] = set()

    def generate(self, description, seed, width, height, out_path):
        CALLS["images"] += 1
        return super().generate(description, seed, width, height, out_path)


def all_assets() -> list[dg.AssetsDefinition]:
    return list(assets)


def materialize(brief: Brief, data_dir: Path, selection: list[str] | None = None,
                instance: dg.DagsterInstance | None = None, **overrides) -> dg.ExecuteInProcessResult:
    """Run `selection` (default: everything) of the project, counting provider calls in CALLS."""
    instance = instance or dg.DagsterInstance.ephemeral()
    if not instance.has_dynamic_partition("projects", brief.project_id):
        instance.add_dynamic_partitions("projects", [brief.project_id])
    resources = build_resources(data_dir)
    resources.update(text_provider=CountingText(), speech_provider=CountingSpeech(), image_provider=CountingImages())
    resources.update(overrides)
    config = run_config(brief)
    if selection is not None and "brief" not in selection:
        config = {}
    return dg.materialize(all_assets(), selection=selection, instance=instance, partition_key=brief.project_id,
                          run_config=config, resources=resources, raise_on_error=False)


_RUN_RESOURCES: dict[str, object] = {}


def _steps_job() -> dg.JobDefinition:
    """Every asset as one in-process job on the resources `run_steps` was given (reconstructable, for execute_job)."""
    job = dg.define_asset_job("steps", executor_def=dg.in_process_executor)
    return dg.Definitions(assets=all_assets(), jobs=[job], resources=_RUN_RESOURCES).resolve_job_def("steps")


def run_steps(brief: Brief, data_dir: Path, selection: list[str], instance: dg.DagsterInstance, retries: bool = True,
              **overrides) -> dg.JobExecutionResult:
    """Run `selection` of an already briefed project in this process, as `materialize` does; `retries=False` fails
    a step at its first failure, retryable or not (no RetryPolicy waits: `materialize` always retries)."""
    if not instance.has_dynamic_partition("projects", brief.project_id):
        instance.add_dynamic_partitions("projects", [brief.project_id])
    _RUN_RESOURCES.clear()
    _RUN_RESOURCES.update(build_resources(data_dir))
    _RUN_RESOURCES.update(text_provider=CountingText(), speech_provider=CountingSpeech(),
                          image_provider=CountingImages())
    _RUN_RESOURCES.update(overrides)
    mode = "enabled" if retries else "disabled"
    return dg.execute_job(dg.reconstructable(_steps_job), instance=instance,
                          tags={"dagster/partition": brief.project_id},
                          asset_selection=[dg.AssetKey(a) for a in selection],
                          run_config={"execution": {"config": {"retries": {mode: {}}}}})
