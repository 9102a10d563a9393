"""The object-store tests' S3 server (module-scoped: one per module) and a store of each test's own."""

import pytest

from pipeline_tests.storage.s3server import S3Server


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_store(s3_server, monkeypatch, data_dir):
    """PIPELINE_STORE=s3 on a new bucket (prefix `team/a`), the data folder as this host's mirror."""
    bucket = s3_server.new_bucket()
    for key, value in s3_server.env(bucket, "team/a").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return bucket
