"""A loopback HTTP server for protocols beyond the OpenAI shape: GET/POST/PUT, pattern routes, targeted faults."""

import json
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from pipeline_tests.providers.server import Answer, Fault, LoopbackServer, Seen

Handler = Callable[["Seen", re.Match], Answer]


def json_answer(status: int, body: dict, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def query(seen: Seen) -> dict[str, str]:
    """The query parameters of a request, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()}


class Loopback(LoopbackServer):
    """A loopback server for other protocols: routes are (method, path regex, handler), faults target a route."""

    def __init__(self):
        super().__init__()
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.faults: list[tuple[str, str, Fault]] = []  # (method, path prefix, fault), first match is used

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def fail(self, method: str, prefix: str, *faults: Fault) -> None:
        """The next requests of `method` whose path starts with `prefix` get `faults`, one each."""
        self.faults.extend((method, prefix, f) for f in faults)

    def requests(self, method: str, prefix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    def answer(self, seen: Seen) -> tuple[Fault | None, Answer | None]:
        with self._lock:
            self.seen.append(seen)
            found = next((i for i, (m, p, _) in enumerate(self.faults)
                          if m == seen.method and seen.path.startswith(p)), None)
            fault = self.faults.pop(found)[2] if found is not None else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and (fault.reset or fault.status is not None):
            return fault, None
        path = urlsplit(seen.path).path
        for method, pattern, handler in self.routes:
            if method == seen.method and (match := pattern.fullmatch(path)):
                return None, handler(seen, match)
        return Fault(404, {"error": {"message": f"no route {seen.method} {path}"}}), None
