"""Code run in spawned processes by the slot limiter test (importable, so `spawn` can find it)."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.providers.http_client import HttpClient


def call_in_threads(base_url: str, data_dir: str, slots: int, threads: int, go, tag: str, ready=None) -> int:
    """Say `ready`, wait for `go`, then make `threads` concurrent calls through one provider's slots; how many succeeded."""
    client = HttpClient(provider="openai text", base_url=base_url, max_in_flight=slots, data_dir=Path(data_dir),
                        cache=False, backoff_base=0.05)
    if ready is not None:
        ready.put(tag)
    go.wait(30)
    body = {"model": "m", "messages": [{"role": "user", "content": 'Write chapter 1 of 1, "A".'}]}
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda n: client.request_json("POST", "/chat/completions", cache=True,
                                                              json_body={**body, "n": f"{tag}{n}"}),
                                range(threads)))
    return sum(1 for a in answers if a["choices"])


def main(base_url: str, data_dir: str, slots: int, threads: int, go, ready, results, tag: str) -> None:
    """A process's entry point: report the number of successful calls on `results`."""
    results.put(call_in_threads(base_url, data_dir, slots, threads, go, tag, ready))
