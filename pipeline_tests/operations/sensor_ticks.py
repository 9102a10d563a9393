"""Sensor ticks as the daemon makes them: an evaluation with a deadline, then the runs it requested."""

import threading

import dagster as dg
import pytest
from dagster._core.storage.tags import RUN_KEY_TAG, SENSOR_NAME_TAG


@dg.op
def _nothing() -> None:
    pass


@dg.job
def stand_in():
    """Carries the tags of a requested run; the sensors only look at the runs' tags."""
    _nothing()


def sensor_context(instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorEvaluationContext:
    """The context the daemon gives the project's sensors: their repository and resources (the
    environment's data folder and Redis)."""
    from pipeline.definitions import defs
    from pipeline.defs.redis_resource import RedisResource
    from pipeline.defs.resources import DataFolder

    return dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                   resources={"files": DataFolder(), "redis_target": RedisResource()})


def tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None = None,
         timeout: float = 30):
    """One evaluation of `sensor`, failing the test (not hanging it) if it blocks, e.g. on a FIFO."""
    outcome: dict = {}

    def evaluate() -> None:
        try:
            outcome["result"] = sensor(sensor_context(instance, cursor))
        except BaseException as e:  # re-raised in the test's thread
            outcome["error"] = e

    worker = threading.Thread(target=evaluate, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        pytest.fail(f"{sensor.name} did not return within {timeout} s: it blocked on a file")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def create_runs(instance: dg.DagsterInstance, result, sensor_name: str) -> None:
    """Create the runs of a tick's run requests, with the tags the daemon gives them."""
    for request in result.run_requests:
        instance.create_run_for_job(stand_in, tags={
            **request.tags, RUN_KEY_TAG: request.run_key, SENSOR_NAME_TAG: sensor_name})
