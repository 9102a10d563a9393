"""A step waiting on one long provider call (a hosted model writing, a clip being made) still reports
progress at least every 5 s, so whoever follows the project sees it is alive."""

import time

import dagster as dg

from pipeline.events.progress import PROGRESS_TAG
from pipeline.providers.offline_text import OfflineText
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize

MAX_SILENCE = 5.0


class SlowModel(OfflineText):
    """Answers like the offline composer, after the wait of a slow hosted model."""

    def generate(self, request):
        time.sleep(9 if request.task == "outline" else 0)
        return super().generate(request)


def test_a_long_model_call_keeps_reporting(data_dir):
    brief = small_brief("heartbeat")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(brief, data_dir, ["brief", "outline"], instance=instance, text_provider=SlowModel())
    assert result.success
    records = instance.get_records_for_run(result.run_id).records
    moments = [r.event_log_entry.timestamp for r in records
               if r.event_log_entry.step_key == "outline" and r.event_log_entry.dagster_event is not None
               and (r.event_log_entry.dagster_event.event_type in (dg.DagsterEventType.STEP_START,
                                                                   dg.DagsterEventType.STEP_SUCCESS)
                    or (r.event_log_entry.dagster_event.event_type == dg.DagsterEventType.ASSET_OBSERVATION
                        and PROGRESS_TAG in r.event_log_entry.dagster_event.event_specific_data
                        .asset_observation.metadata))]
    assert moments[-1] - moments[0] >= 9
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert max(gaps) <= MAX_SILENCE, gaps
    heartbeats = [r.event_log_entry.dagster_event.event_specific_data.asset_observation.metadata["message"].value
                  for r in records if r.event_log_entry.step_key == "outline"
                  and r.event_log_entry.dagster_event is not None
                  and r.event_log_entry.dagster_event.event_type == dg.DagsterEventType.ASSET_OBSERVATION]
    assert heartbeats and all("plans the outline" in m for m in heartbeats), heartbeats
