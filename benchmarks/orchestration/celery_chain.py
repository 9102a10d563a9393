"""The Celery side of benchmarks/orchestration/run.py: a chain of trivial tasks on this machine's Redis.

The worker (prefork, concurrency 2) loads this module too: `celery -A celery_chain worker`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import redis
from celery import Celery, chain

URL = os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/14")
app = Celery("orchestration_bench", broker=URL, backend=URL)
app.conf.update(result_expires=600, broker_connection_retry_on_startup=True)


@app.task
def step(x: int = 0) -> int:
    time.sleep(0.001)
    return x + 1


def measure_chains(lengths: tuple[int, ...], count: int, db: int, log_path: Path) -> dict:
    """{length: (seconds per chain after 10 warm-up chains, seconds of the same bodies in plain Python)}."""
    url = f"redis://127.0.0.1:6379/{db}"
    if redis.Redis.from_url(url).dbsize():
        raise RuntimeError(f"Redis db {db} is not empty: choose an unused one with --celery-db")
    app.conf.update(broker_url=url, result_backend=url)
    log = open(log_path, "wb")
    worker = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "celery_chain", "worker",
                               "--pool", "prefork", "--concurrency", "2", "--loglevel", "WARNING",
                               "-n", f"orch-bench-{os.getpid()}@%h"], cwd=Path(__file__).parent,
                              env={**os.environ, "BENCH_CELERY_URL": url}, stdout=log, stderr=subprocess.STDOUT)
    try:
        step.delay(0).get(timeout=120)  # the worker is up
        out = {}
        for n in lengths:
            times = []
            for i in range(10 + count):
                t = time.perf_counter()
                assert chain(step.s(0), *[step.s() for _ in range(n - 1)]).apply_async().get(timeout=30) == n
                times += [time.perf_counter() - t] if i >= 10 else []
            t = time.perf_counter()
            for _ in range(n):
                step.run(0)  # the task's body in this process
            out[n] = (times, time.perf_counter() - t)
        return out
    finally:
        worker.terminate()  # warm shutdown
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        client = redis.Redis.from_url(url)
        for pattern in ("celery-task-meta-*", "_kombu*", "celery", "unacked*"):
            for key in client.scan_iter(pattern):
                client.delete(key)
