"""The loopback HTTP server every protocol fake in these tests is built on: a ThreadingHTTPServer on
127.0.0.1 (ephemeral port) that records each request and answers with a fault or a route's answer."""

import email.parser
import email.policy
import json
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Fault:
    """What the server does instead of answering: a status, a delay before answering, or a reset."""

    status: int | None = None
    body: dict | str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The fields of a multipart/form-data body."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        return {part.get_param("name", header="content-disposition"): part.get_content()
                for part in message.iter_parts()}


class LoopbackServer:
    """Start, stop, the URL and the recorded requests; subclasses say how to `answer(seen)`."""

    def __init__(self):
        self.seen: list[Seen] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler(self))
        self._server.daemon_threads = True
        self._server.handle_error = self._record_error  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):  # type: ignore[no-untyped-def]
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _record_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):  # clients that timed out hang up
            self.errors.append(error)

    def answer(self, seen: Seen) -> tuple[Fault | None, Answer | None]:
        raise NotImplementedError


def handler(server) -> type[BaseHTTPRequestHandler]:
    """The request handler of a loopback server: `server.answer(seen)` gives the fault or the answer."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:  # keep test output quiet
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            fault, answer = server.answer(seen)
            if fault is not None and fault.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None:
                payload = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
                answer = (fault.status or 500, {"Content-Type": "application/json", **fault.headers}, payload.encode())
            status, headers, content = answer
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(content))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        do_POST = do_GET = do_PUT = _serve

    return Handler
