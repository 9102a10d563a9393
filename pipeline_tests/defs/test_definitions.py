"""The code location loads, with the job, partitions, retry policies and checks users rely on."""

import dagster as dg

from pipeline.definitions import defs
from pipeline.defs.ops.jobs import selection_up_to
from pipeline.stages import STAGES


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("produce_project")
    assert job.partitions_def is not None and job.partitions_def.name == "projects"


def test_every_stage_is_a_partitioned_asset_with_retries():
    graph = defs.resolve_asset_graph()
    keys = {k.path[-1] for k in graph.get_all_asset_keys()}
    assert set(STAGES) <= keys
    for stage in STAGES:
        node = graph.get(dg.AssetKey(stage))
        assert node.partitions_def is not None and node.partitions_def.name == "projects"
        assets_def = defs.resolve_assets_def(dg.AssetKey(stage))
        policy = assets_def.op.retry_policy
        assert policy.max_retries == 3 and policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter is not None


def test_asset_checks_declared():
    graph = defs.resolve_asset_graph()
    checks = {k.name for k in graph.asset_check_keys}
    assert {"script_timing", "video_duration_matches_narration", "subtitles_cover_narration",
            "every_outline_chapter_written"} <= checks


def test_stop_at_selects_upstream_only():
    graph = defs.resolve_asset_graph()
    assert [k.path[-1] for k in selection_up_to("manuscript", graph)] == ["brief", "outline", "chapters", "manuscript"]
    assert [k.path[-1] for k in selection_up_to("narration", graph)] == ["brief", "outline", "chapters", "script",
                                                                        "narration"]
    assert [k.path[-1] for k in selection_up_to(None, graph)] == list(STAGES)
