"""A loopback stock footage API: Pexels' video search (`GET /videos/search`, the key bare in Authorization) and
Pixabay's (`GET /api/videos/?key=`), and the files they point at, served with Range support.

Faults beyond the Loopback's (a status or a reset for the next request to a path): `cut(n)` makes the next
n downloads stop halfway through the body they announced, and `empty` holds queries answered with no video.
The clips are real: testsrc2 made by ffmpeg at the size the file's name says, 30 fps.
"""

import functools
import re
import socket
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from pipeline_tests.providers.loopback import Loopback, json_answer, query
from pipeline_tests.providers.server import Seen

CLIP_SECONDS = 2.0
FPS = 30
_NAME = re.compile(r"(?P<video>\d+)-(?P<file>\w+)-(?P<w>\d+)x(?P<h>\d+)\.mp4")
# The catalogue: (video id, author, seconds, [(file id, width, height)]); every search answers it all.
VIDEOS = [
    (4101, "Ana Lens", CLIP_SECONDS, [("sd", 640, 360), ("hd", 1280, 720)]),
    (4102, "Bo Frames", CLIP_SECONDS, [("portrait", 360, 640)]),
    (4103, "Cy Short", 0.5, [("hd", 1280, 720)]),  # too short for most segments
]


_MAKING = threading.Lock()


def clip_bytes(width: int, height: int, seconds: float = CLIP_SECONDS) -> bytes:
    """A testsrc2 H.264 MP4 (no sound) of width x height at 30 fps: every frame different (made once)."""
    with _MAKING:
        return _clip_bytes(width, height, seconds)


@functools.lru_cache(maxsize=8)
def _clip_bytes(width: int, height: int, seconds: float) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "clip.mp4"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={width}x{height}:rate={FPS}:duration={seconds}", "-c:v", "libx264",
                        "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)], check=True)
        return out.read_bytes()


class FakeFootage(Loopback):
    """Accepts `key` only; counts searches and downloads; see the module's doc for its faults."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.empty: set[str] = set()  # queries answered with no video
        self.cuts = 0
        self.ignore_range = False
        self._server.RequestHandlerClass = _handler(self)
        for _, _, seconds, files in VIDEOS:  # made before any request, so no download waits for ffmpeg
            for _, width, height in files:
                clip_bytes(width, height, seconds)
        self.route("GET", r"/videos/search", self._pexels)
        self.route("GET", r"/api/videos/", self._pixabay)
        self.route("GET", r"/files/(?P<name>[\w.-]+)", self._file)

    def cut(self, times: int = 1) -> None:
        """The next `times` downloads stop halfway through the body."""
        self.cuts += times

    def file_url(self, video: int, file: str, width: int, height: int) -> str:
        return f"{self.url}/files/{video}-{file}-{width}x{height}.mp4"

    def searches(self) -> list[str]:
        return [query(s).get("query") or query(s).get("q", "") for s in self.seen
                if s.path.startswith(("/videos/search", "/api/videos/"))]

    def downloads(self) -> list[Seen]:
        return self.requests("GET", "/files/")

    def _pexels(self, seen: Seen, match):
        if seen.headers.get("authorization") != self.key:
            return json_answer(401, {"error": "Unauthorized"})
        asked = query(seen)
        videos = [] if asked.get("query") in self.empty else [
            {"id": vid, "width": files[-1][1], "height": files[-1][2], "duration": seconds,
             "url": f"https://www.pexels.com/video/clip-{vid}/", "image": f"{self.url}/posters/{vid}.jpg",
             "user": {"id": vid * 10, "name": author, "url": f"https://www.pexels.com/@{author.split()[0].lower()}"},
             "video_files": [{"id": f"{vid}{n}", "quality": fid, "file_type": "video/mp4", "width": w, "height": h,
                              "fps": FPS, "link": self.file_url(vid, fid, w, h)} for n, (fid, w, h) in enumerate(files)]}
            for vid, author, seconds, files in VIDEOS]
        return json_answer(200, {"page": 1, "per_page": int(asked.get("per_page", 15)), "videos": videos,
                                 "total_results": len(videos)})

    def _pixabay(self, seen: Seen, match):
        asked = query(seen)
        if asked.get("key") != self.key:
            return json_answer(400, {"error": "[ERROR 400] Invalid or missing API key"})
        sizes = ("large", "medium", "small", "tiny")
        hits = [] if asked.get("q") in self.empty else [
            {"id": vid, "pageURL": f"https://pixabay.com/videos/clip-{vid}/", "type": "film", "duration": seconds,
             "user_id": vid * 10, "user": author.split()[0],
             "videos": {size: {"url": self.file_url(vid, size, w, h), "width": w, "height": h, "size": 1000}
                        for size, (fid, w, h) in zip(sizes, reversed(files))}}
            for vid, author, seconds, files in VIDEOS]
        return json_answer(200, {"total": len(hits), "totalHits": len(hits), "hits": hits})

    def _file(self, seen: Seen, match):
        found = _NAME.fullmatch(match["name"])
        if found is None:
            return json_answer(404, {"error": "no such file"})
        seconds = next((s for vid, _, s, _ in VIDEOS if vid == int(found["video"])), CLIP_SECONDS)
        data = clip_bytes(int(found["w"]), int(found["h"]), seconds)
        headers = {"Content-Type": "video/mp4", "Accept-Ranges": "bytes"}
        ranged = re.fullmatch(r"bytes=(\d+)-", seen.headers.get("range", ""))
        status, body = 200, data
        if ranged and not self.ignore_range:
            start = int(ranged[1])
            if start >= len(data):
                return 416, {"Content-Range": f"bytes */{len(data)}"}, b""
            status, body = 206, data[start:]
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        with self._lock:
            cut = self.cuts > 0
            self.cuts -= 1 if cut else 0
        if cut:
            headers["X-Cut-After"] = str(len(body) // 2)
        return status, headers, body


def _handler(server: FakeFootage) -> type[BaseHTTPRequestHandler]:
    """The Loopback's handler, with `X-Cut-After: n`: the full Content-Length announced, n bytes sent, then a
    hang-up, as a download cut in the middle."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:
            return

        def do_GET(self) -> None:
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
            fault, answer = server.answer(seen)
            if fault is not None and fault.reset:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if fault is not None:
                import json

                payload = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
                answer = (fault.status or 500, {"Content-Type": "application/json", **fault.headers}, payload.encode())
            status, headers, content = answer
            cut = headers.pop("X-Cut-After", None)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(content))}.items():
                self.send_header(name, value)
            self.end_headers()
            if cut is None:
                self.wfile.write(content)
                return
            self.wfile.write(content[:int(cut)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    return Handler
