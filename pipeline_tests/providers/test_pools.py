"""Step limits across runs: the project's dagster.yaml caps the render pool at one step per instance."""

import dagster as dg

from pipeline.definitions import defs


def test_the_render_pool_allows_one_step_at_a_time(instance):
    assert defs.resolve_assets_def(dg.AssetKey("video")).op.pool == "render"
    config = instance.get_concurrency_config().pool_config
    assert (config.default_pool_limit, config.pool_granularity.value) == (1, "op")

    @dg.asset(pool="render")
    def rendered() -> int:
        return 1

    assert dg.materialize([rendered], instance=instance).success
    info = instance.event_log_storage.get_concurrency_info("render")
    assert info.slot_count == 1 and info.active_slot_count == 0  # the limit, and the slot given back
