"""The distributed mode over RabbitMQ, the broker the older system's studios may already run."""

import pytest

from pipeline.cli.projects import launch_brief
from pipeline.launch.client import PipelineClient
from pipeline_tests.distributed.test_workers import _brief, _workers

pytestmark = pytest.mark.distributed


def test_a_project_runs_over_rabbitmq(rabbit_cluster):
    client = PipelineClient()
    brief = _brief("dist-rabbit", stop_at="script")
    run_id = launch_brief(client, brief, brief.stop_at)
    assert client.wait(run_id, timeout=300)["status"] == "SUCCESS"
    assert set(_workers(rabbit_cluster, run_id).values()) == {"w1@host-r"}
    assert (rabbit_cluster.shared / "projects" / brief.project_id / "script.json").exists()
