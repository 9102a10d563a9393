"""A distributed deployment per test module: daemon + webserver on PostgreSQL, two workers as hosts."""

import os

import pytest

from pipeline_tests.distributed.cluster import Cluster, drop_vhost, rabbitmq_vhost
from pipeline_tests.providers.conftest import KEY
from pipeline_tests.providers.fakes import openai_server
from pipeline_tests.services import RedisServer

SPEECH_DELAY = 0.4  # seconds per cue: narration lasts long enough to be interrupted


@pytest.fixture(scope="module")
def environment():
    """os.environ as the module changed it, restored afterwards."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def speech_api():
    server = openai_server(key=KEY, delay=SPEECH_DELAY)
    server.start()
    yield server
    server.stop()


def _deployment(tmp_path_factory, environment, broker: str | None, extra_env: dict[str, str], workers):
    root = tmp_path_factory.mktemp("cluster")
    (root / "redis").mkdir()
    redis_server = RedisServer(root / "redis")
    redis_server.start()
    cluster = Cluster(root, redis_server.url, broker_url=broker, extra_env=extra_env)
    try:
        cluster.start()
        for name, host, queues in workers:
            cluster.add_worker(name, host, queues)
        environment.update({"PIPELINE_DAGSTER_URL": cluster.services.url, "REDIS_URL": redis_server.url,
                            "PIPELINE_DATA_DIR": str(cluster.shared)})
        yield cluster
    finally:
        cluster.stop()
        redis_server.proc.terminate()
        redis_server.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, environment, speech_api):
    """Redis as broker; w1@host-a serves default and render, w2@host-b default only; speech on loopback."""
    speech = {"PIPELINE_SPEECH_PROVIDER": "openai", "PIPELINE_SPEECH_BASE_URL": f"{speech_api.url}/v1",
              "PIPELINE_SPEECH_API_KEY": KEY, "PIPELINE_SPEECH_MAX_IN_FLIGHT": "1"}
    yield from _deployment(tmp_path_factory, environment, None, speech,
                           [("w1", "host-a", "default,render"), ("w2", "host-b", "default")])


@pytest.fixture(scope="module")
def rabbit_cluster(tmp_path_factory, environment):
    """RabbitMQ (a virtual host of the test's own) as broker, one worker serving both queues."""
    vhost = rabbitmq_vhost()
    try:
        yield from _deployment(tmp_path_factory, environment, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", {},
                               [("w1", "host-r", "default,render")])
    finally:
        drop_vhost(vhost)
