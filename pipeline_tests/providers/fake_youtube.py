"""A loopback Google OAuth token endpoint and YouTube upload API: resumable sessions, thumbnails, faults."""

import itertools
import re
import uuid
from urllib.parse import parse_qs

from pipeline_tests.providers.fakes import Seen
from pipeline_tests.providers.loopback import Loopback, json_answer, query
from pipeline_tests.providers.server import Fault

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
# Credentials shaped like Google's and unique per session, so a leak anywhere is found by plain search.
CLIENT_ID = "client-123.apps.example"
SECRET = f"GOCSPX-{uuid.uuid4().hex}"
REFRESH = f"1//refresh-{uuid.uuid4().hex}"
ACCESS = f"ya29.access-{uuid.uuid4().hex}"
SECRETS = (SECRET, REFRESH, ACCESS)


class FakeYouTube(Loopback):
    """Grants `access_token` for the right client and refresh token; keeps every upload session's bytes.

    `cut_put` = n: the n-th chunk PUT (1-based) stores only half of its bytes, then answers 503, as a
    server that lost the rest of the request would.
    """

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, access_token: str):
        super().__init__()
        self.client = (client_id, client_secret, refresh_token)
        self.access_token = access_token
        self.sessions: dict[str, dict] = {}
        self.videos: dict[str, dict] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.cut_put: int | None = None
        self._puts = itertools.count(1)
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/upload/youtube/v3/videos", self._session)
        self.route("PUT", r"/upload/session/(?P<sid>\w+)", self._put)
        self.route("POST", r"/upload/youtube/v3/thumbnails/set", self._thumbnail)

    def _token(self, seen: Seen, match):
        form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return json_answer(400, {"error": "unsupported_grant_type"})
        if (form.get("client_id"), form.get("client_secret")) != self.client[:2]:
            return json_answer(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if form.get("refresh_token") != self.client[2]:
            return json_answer(400, {"error": "invalid_grant",
                                     "error_description": "Token has been expired or revoked."})
        return json_answer(200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer",
                                 "scope": "https://www.googleapis.com/auth/youtube.upload"})

    def _denied(self, seen: Seen):
        if seen.headers.get("authorization") != f"Bearer {self.access_token}":
            return json_answer(401, {"error": {"code": 401, "errors": [{"reason": "authError"}],
                                               "message": "Request had invalid authentication credentials."}})
        return None

    def _session(self, seen: Seen, match):
        if denied := self._denied(seen):
            return denied
        params = query(seen)
        if params.get("uploadType") != "resumable" or params.get("part") != "snippet,status":
            return json_answer(400, {"error": {"code": 400, "message": f"bad query {params}"}})
        sid = f"s{len(self.sessions) + 1}"
        self.sessions[sid] = {"metadata": seen.json(), "total": int(seen.headers["x-upload-content-length"]),
                              "data": bytearray(), "video": None}
        return 200, {"Location": f"{self.url}/upload/session/{sid}?upload_id=u{sid}"}, b""

    def _state(self, session: dict):
        if session["video"] is not None:
            return json_answer(200, self.videos[session["video"]])
        received = len(session["data"])
        headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
        return 308, headers, b""

    def _put(self, seen: Seen, match):
        session = self.sessions.get(match["sid"])
        if session is None:
            return json_answer(404, {"error": {"code": 404, "message": "upload session not found"}})
        header = seen.headers.get("content-range", "")
        if header == f"bytes */{session['total']}":
            return self._state(session)
        found = _RANGE.fullmatch(header)
        if not found or int(found[1]) != len(session["data"]) or int(found[3]) != session["total"]:
            return json_answer(400, {"error": {"code": 400, "message": f"bad Content-Range {header!r} at "
                                               f"{len(session['data'])}"}})
        if next(self._puts) == self.cut_put:
            session["data"] += seen.body[: len(seen.body) // 2]
            return json_answer(503, {"error": {"code": 503, "message": "Backend Error"}})
        session["data"] += seen.body
        if len(session["data"]) == session["total"]:
            video_id = f"vid{len(self.videos) + 1}"
            meta = session["metadata"]
            self.videos[video_id] = {"kind": "youtube#video", "id": video_id, "snippet": meta["snippet"],
                                     "status": {**meta["status"], "uploadStatus": "uploaded"}}
            session["video"] = video_id
        return self._state(session)

    def _thumbnail(self, seen: Seen, match):
        if denied := self._denied(seen):
            return denied
        video_id = query(seen).get("videoId")
        if video_id not in self.videos:
            return json_answer(404, {"error": {"code": 404, "message": "video not found"}})
        self.thumbnails[video_id] = seen.body
        return json_answer(200, {"kind": "youtube#thumbnailSetResponse",
                                 "items": [{"default": {"url": f"{self.url}/vi/{video_id}/default.jpg"}}]})


def quota_exceeded() -> Fault:
    """The YouTube Data API's answer when the project's daily quota is used up."""
    return Fault(403, {"error": {"code": 403, "message": "The request cannot be completed because you have exceeded "
                                 "your quota.", "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded"}]}})
