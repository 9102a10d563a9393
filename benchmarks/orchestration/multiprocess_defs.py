"""`produce_project` with Dagster's multiprocess executor, for comparison only (benchmarks/orchestration).

The same assets and resources as `pipeline.definitions`; only the job's executor differs. Loaded by
this folder's workspace.yaml under the location name `pipeline`, so PipelineClient works unchanged.
"""

import dagster as dg

from pipeline.definitions import assets
from pipeline.defs.resources import build_resources
from pipeline.stages import STAGES

produce_project = dg.define_asset_job(
    name="produce_project",
    selection=dg.AssetSelection.assets(*STAGES),
    description="produce_project on dagster.multiprocess_executor (benchmark copy).",
    executor_def=dg.multiprocess_executor,
)

defs = dg.Definitions(assets=assets, jobs=[produce_project], resources=build_resources())
