"""The inbox under generated files: whatever lands beside a valid brief, the valid brief is requested,
every other file ends in rejected/ with its reasons or in a request, and the sensor never raises."""

import os

import dagster as dg
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.defs.ops.sensors import inbox_sensor, recurring_sensor
from pipeline_tests.hostile.harness import tree
from pipeline_tests.operations.sensor_ticks import tick

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_documents = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.sampled_from(["project_id", "prompt", "projects", "batch", "video",
                                                             "chapters", "x"]), inner, max_size=4), max_leaves=10)
_files = st.one_of(st.binary(max_size=200), _documents.map(lambda d: yaml.safe_dump(d).encode("utf-8")))


def _tick_on(sensor: dg.SensorDefinition, data_dir):
    """One tick of `sensor` on `data_dir` (hypothesis examples cannot use monkeypatch)."""
    saved = os.environ.get("PIPELINE_DATA_DIR")
    os.environ["PIPELINE_DATA_DIR"] = str(data_dir)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            return tick(sensor, instance, timeout=20)
    finally:
        if saved is None:
            del os.environ["PIPELINE_DATA_DIR"]
        else:
            os.environ["PIPELINE_DATA_DIR"] = saved


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(_files, min_size=1, max_size=4))
def test_generated_files_never_stop_a_valid_brief(tmp_path_factory, blobs):
    data_dir = tmp_path_factory.mktemp("data")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "keep.txt").write_text("keep", encoding="utf-8")
    inbox = data_dir / "inbox"
    inbox.mkdir()
    for n, blob in enumerate(blobs):
        (inbox / f"{n}-generated.yaml").write_bytes(blob)
    (inbox / "z-valid.yaml").write_text(yaml.safe_dump({"project_id": "gen-valid", "prompt": "Tides.",
                                                        "chapters": 1, "stop_at": "outline"}), encoding="utf-8")
    before_outside = tree(outside)
    result = _tick_on(inbox_sensor, data_dir)
    requested = {r.partition_key for r in result.run_requests}
    assert "gen-valid" in requested
    left = {p.name for p in inbox.iterdir() if p.is_file()}
    rejected = {p.name for p in (inbox / "rejected").iterdir()} if (inbox / "rejected").exists() else set()
    for n in range(len(blobs)):
        name = f"{n}-generated.yaml"
        assert name in left or name in rejected, name
        if name in rejected:
            assert f"{name}.reasons.txt" in rejected and (inbox / "rejected" / f"{name}.reasons.txt").read_text().strip()
    assert tree(outside) == before_outside


_crons = st.one_of(st.text(max_size=20), st.sampled_from(["* * * * *", "0 0 31 2 *", "61 * * * *", "@daily",
                                                          "*/0 * * * *", "0 9 * * 1-5", "* * * * * *"]))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.one_of(st.fixed_dictionaries({"cron": _crons | _scalars, "brief": _documents}), _documents),
                min_size=1, max_size=3))
def test_generated_templates_never_stop_a_valid_one(tmp_path_factory, templates):
    data_dir = tmp_path_factory.mktemp("data")
    folder = data_dir / "recurring"
    folder.mkdir()
    for n, template in enumerate(templates):
        (folder / f"{n}-generated.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    (folder / "z-valid.yaml").write_text(yaml.safe_dump({"cron": "* * * * *", "brief": {
        "project_id": "gen-weekly", "prompt": "This week in tides."}}), encoding="utf-8")
    result = _tick_on(recurring_sensor, data_dir)
    assert any(r.partition_key.startswith("gen-weekly-") for r in result.run_requests)
