"""Jobs: `produce_project` materialises every asset of one project partition."""

import dagster as dg

from pipeline.brief import Brief
from pipeline.defs.ops.executor import pipeline_executor
from pipeline.stages import STAGES

produce_project = dg.define_asset_job(
    name="produce_project",
    selection=dg.AssetSelection.assets(*STAGES),
    description="Every artifact of one project, from its brief (run config of `brief`) to the publication.",
    executor_def=pipeline_executor,
)

def run_config(brief: Brief) -> dict:
    """Run config of `produce_project`: the brief as the config of the `brief` asset."""
    return {"ops": {"brief": {"config": brief.model_dump(mode="json", exclude_none=True)}}}


APPROVAL_GATED = "publication"  # with publish.require_approval, launched only by `pipeline approve`


def selection_up_to(stop_at: str | None, asset_graph, require_approval: bool = False) -> list[dg.AssetKey]:
    """The assets a run selects: every one, or `stop_at` and everything upstream of it.

    With `require_approval`, a run without `stop_at` ends before the publication.
    """
    if stop_at is None:
        selection = dg.AssetSelection.assets(*STAGES)
        if require_approval:
            selection = selection - dg.AssetSelection.assets(APPROVAL_GATED)
    else:
        selection = dg.AssetSelection.assets(stop_at).upstream()
    return sorted(selection.resolve(asset_graph), key=lambda k: STAGES.index(k.path[-1]))
