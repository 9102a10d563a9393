"""The Redis keys are the older system's (SPEC §2): pinned here, under any prefix."""

import pytest

from pipeline.events.keys import Keys


@pytest.mark.parametrize("prefix", ["", "studio:"])
def test_every_key_is_the_contracts(prefix):
    k = Keys(prefix)
    assert [k.progress("p"), k.progress_channel("p"), k.stream("p"), k.global_stream(), k.logs("p"),
            k.active("p"), k.job_result("r"), k.batch("b"), k.quota("openai-text")] == [
        f"{prefix}{name}" for name in ("generation_progress:p", "progress:p", "events:p", "events",
                                       "generation_logs:p", "active_task:p", "job_result:r", "batch_progress:b",
                                       "quota:openai-text")]
    assert k.project_keys("p") == [f"{prefix}events:p", f"{prefix}generation_progress:p", f"{prefix}generation_logs:p",
                                   f"{prefix}active_task:p", f"{prefix}projection:seq:p", f"{prefix}projection:error:p"]
    assert k.run_keys("r") == [f"{prefix}job_result:r", f"{prefix}projection:pos:r", f"{prefix}projection:gpos:r"]
