"""A loopback D-ID talks API: create, a few polls of 'started', then 'done' (or 'error'), and the result MP4."""

import functools
import subprocess
import tempfile
import time
from pathlib import Path

from pipeline_tests.providers.fakes import Seen
from pipeline_tests.providers.loopback import Loopback, json_answer
from pipeline_tests.providers.server import Fault

CLIP_SECONDS = 1.0


@functools.lru_cache(maxsize=1)
def clip_mp4() -> bytes:
    """A 1 s, 256x256, 25 fps H.264 + AAC MP4, like the clips D-ID returns (smaller)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "clip.mp4"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"color=c=0x3366aa:s=256x256:r=25:d={CLIP_SECONDS}", "-f", "lavfi", "-i",
                        f"sine=frequency=330:sample_rate=24000:duration={CLIP_SECONDS}", "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(out)],
                       check=True)
        return out.read_bytes()


class FakeDid(Loopback):
    """Accepts `Authorization: Basic <key>`; a talk whose text contains `fail_marker` ends in status 'error'.

    A talk is done after `polls_before_done` polls or, when `seconds_to_done` is given, once that many seconds
    have passed since it was created (as a hosted renderer takes its time whatever the polling).
    """

    def __init__(self, key: str, polls_before_done: int = 3, fail_marker: str = "FACELESS",
                 seconds_to_done: float | None = None):
        super().__init__()
        self.key, self.polls_before_done, self.fail_marker = key, polls_before_done, fail_marker
        self.seconds_to_done = seconds_to_done
        self.talks: dict[str, dict] = {}
        self.route("POST", r"/talks", self._create)
        self.route("GET", r"/talks/(?P<id>[\w-]+)", self._get)
        self.route("GET", r"/results/(?P<id>[\w-]+)\.mp4", self._result)

    def _denied(self, seen: Seen):
        if seen.headers.get("authorization") != f"Basic {self.key}":
            return json_answer(401, {"kind": "AuthorizationError", "description": "Unauthorized"})
        return None

    def _create(self, seen: Seen, match):
        if denied := self._denied(seen):
            return denied
        body = seen.json()
        script = body.get("script", {})
        if not body.get("source_url") or script.get("type") != "text" or not script.get("input"):
            return json_answer(400, {"kind": "ValidationError", "description": "Failed to validate script"})
        with self._lock:
            talk_id = f"tlk_{len(self.talks) + 1}"
            self.talks[talk_id] = {"body": body, "polls": 0, "created": time.time(), "done": None}
        return json_answer(201, {"id": talk_id, "object": "talk", "status": "created"})

    def _get(self, seen: Seen, match):
        if denied := self._denied(seen):
            return denied
        talk = self.talks.get(match["id"])
        if talk is None:
            return json_answer(404, {"kind": "NotFoundError", "description": "talk not found"})
        talk["polls"] += 1
        answer = {"id": match["id"], "object": "talk", "status": "started"}
        if self.seconds_to_done is not None:
            ready = time.time() - talk["created"] >= self.seconds_to_done
        else:
            ready = talk["polls"] > self.polls_before_done
        if ready:
            talk["done"] = talk["done"] or time.time()
            if self.fail_marker in talk["body"]["script"]["input"]:
                answer.update(status="error", error={"kind": "FaceError", "description": "Failed to detect a face"})
            else:
                answer.update(status="done", duration=CLIP_SECONDS,
                              result_url=f"{self.url}/results/{match['id']}.mp4")
        return json_answer(200, answer)

    def _result(self, seen: Seen, match):
        if match["id"] not in self.talks:
            return json_answer(404, {"message": "no such result"})
        return 200, {"Content-Type": "video/mp4"}, clip_mp4()


def no_credits() -> Fault:
    """D-ID's answer when the account has no credits left."""
    return Fault(402, {"kind": "InsufficientCreditsError", "description": "not enough credits"})
