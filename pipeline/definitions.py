"""The `pipeline` code location: assets, job and resources."""

import dagster as dg

from pipeline.defs.ops.jobs import produce_project
from pipeline.defs.ops.quota import quota_sync, quota_sync_schedule
from pipeline.defs.ops.retention import cache_prune, cache_prune_schedule
from pipeline.defs.ops.sensors import inbox_sensor, recurring_sensor
from pipeline.defs.publish import assets as publish_assets
from pipeline.defs.resources import build_resources
from pipeline.defs.text import assets as text_assets
from pipeline.defs.video import images, narration, presenter, render, script

assets = dg.load_assets_from_modules([text_assets, script, narration, images, presenter, render, publish_assets])

defs = dg.Definitions(
    assets=assets,
    jobs=[produce_project, quota_sync, cache_prune],
    sensors=[inbox_sensor, recurring_sensor],
    schedules=[quota_sync_schedule, cache_prune_schedule],
    resources=build_resources(),
)
