"""Which runs hold their project: one rule for the instance-side guard and the GraphQL client."""

import pytest

from pipeline.tags import is_active


@pytest.mark.parametrize("status,tags,active", [
    ("QUEUED", {}, True), ("STARTING", {}, True), ("STARTED", {}, True), ("CANCELING", {}, True),
    ("NOT_STARTED", {}, False), ("NOT_STARTED", {"pipeline/launched_by": "local"}, True),
    ("STARTED", {"pipeline/refused": "true"}, False), ("SUCCESS", {}, False), ("FAILURE", {}, False),
    ("CANCELED", {}, False),
])
def test_active_runs(status, tags, active):
    assert is_active(status, tags) is active
