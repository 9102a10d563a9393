"""D-ID talks: a presenter image speaking a text. Create a talk, poll it until done, download the MP4."""

import json
import logging
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from pipeline.providers.avatar import AvatarProvider, ClipResult
from pipeline.providers.errors import ContentPolicyError, PermanentProviderError, TransientProviderError
from pipeline.providers.http_client import JSON_UTF8, HttpClient
from pipeline.providers.http_errors import Hints
from pipeline.providers.http_resource import HttpSettings
from pipeline.store import atomic_write, item_key

log = logging.getLogger(__name__)
DID_BASE_URL = "https://api.d-id.com"
DEFAULT_PRESENTER = "https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg"
VOICES = {"en": "en-US-JennyNeural", "zh": "zh-CN-XiaoxiaoNeural"}  # Microsoft voices D-ID speaks with
HINTS = Hints(key="DID_API_KEY (or PIPELINE_AVATAR_API_KEY)",
              model="PIPELINE_AVATAR_IMAGE_URL and PIPELINE_AVATAR_VOICE", base_url="PIPELINE_AVATAR_BASE_URL",
              timeout="PIPELINE_AVATAR_TIMEOUT", api="D-ID's API")


class DidAvatar(AvatarProvider, HttpSettings):
    """Presenter clips from D-ID's talks API (`POST /talks`, `GET /talks/{id}`), Basic auth with DID_API_KEY."""

    base_url: str = Field(default=DID_BASE_URL, description="API root")
    source_url: str = Field(default=DEFAULT_PRESENTER, description="URL of the presenter's image, reachable by D-ID")
    voice: str | None = Field(default=None, description="Microsoft voice id (unset: one per language)")
    poll_interval: float = Field(default=2.0, gt=0, description="seconds between status polls")
    max_wait: float = Field(default=300.0, gt=0, description="longest wait for one talk, in seconds")

    role: ClassVar[str] = "avatar"
    vendor: ClassVar[str] = "d-id"
    key_variable: ClassVar[str] = "DID_API_KEY"
    url_variable: ClassVar[str] = ""
    env_texts: ClassVar[dict[str, str]] = {"IMAGE_URL": "source_url", "VOICE": "voice"}
    env_numbers: ClassVar[dict[str, tuple[str, type, float]]] = {
        "TIMEOUT": ("timeout", float, 0.001), "MAX_WAIT": ("max_wait", float, 0.001),
        "POLL_INTERVAL": ("poll_interval", float, 0.001)}

    @classmethod
    def missing_key(cls, base_url: str) -> str:
        return ("PIPELINE_AVATAR_PROVIDER=did needs an API key: set DID_API_KEY "
                "(or PIPELINE_AVATAR_API_KEY) to the key from D-ID Studio's account settings")

    @property
    def name(self) -> str:
        return "d-id"

    def voice_for(self, language: str) -> str:
        return self.voice or VOICES.get(language, VOICES["en"])

    def clip_key(self, text: str, language: str) -> str:
        return item_key(self.name, self.source_url, self.voice_for(language), text)

    def make_clip(self, text: str, language: str, out_path: Path) -> ClipResult:
        client = self.client("talks").with_(auth_scheme="Basic", hints=HINTS)
        pending = out_path.with_name(f"{out_path.stem}.talk.json")  # the talk id, so a retry pays nothing twice
        talk_id = json.loads(pending.read_text())["id"] if pending.exists() else None
        talk = self._poll(client, talk_id) if talk_id else None
        if talk is None:
            talk_id = self._create(client, text, language)
            atomic_write(pending, json.dumps({"id": talk_id}))
            talk = self._poll(client, talk_id)
        try:
            talk = self._wait(client, talk_id, talk)
        except PermanentProviderError:
            pending.unlink(missing_ok=True)  # a failed talk is never polled again: a re-run makes a new one
            raise
        data = client.download(str(talk["result_url"]))
        if data[4:8] != b"ftyp":
            raise TransientProviderError(
                client.provider, f"talk {talk_id}: the result is not an MP4 ({len(data)} bytes)", role=client.role)
        atomic_write(out_path, data)
        pending.unlink(missing_ok=True)
        return ClipResult(seconds=float(talk.get("duration") or 0.0))

    def _create(self, client: HttpClient, text: str, language: str) -> str:
        body = {"source_url": self.source_url,
                "script": {"type": "text", "input": text,
                           "provider": {"type": "microsoft", "voice_id": self.voice_for(language)}},
                "config": {"stitch": True}}
        answer = client.request_json("POST", "/talks", json_body=body, content_type=JSON_UTF8)
        if not answer.get("id"):
            raise PermanentProviderError(client.provider, "the answer to POST /talks has no id",
                                         hint=f"check {HINTS.base_url}", role=client.role)
        return str(answer["id"])

    def _poll(self, client: HttpClient, talk_id: str) -> dict[str, Any] | None:
        """The talk's state; None when D-ID no longer knows it (then a new one is made)."""
        try:
            return client.request_json("GET", f"/talks/{talk_id}")
        except PermanentProviderError as e:
            if e.status == 404:
                return None
            raise

    def _wait(self, client: HttpClient, talk_id: str, talk: dict[str, Any]) -> dict[str, Any]:
        """Poll until the talk is done (its final state) or failed, for at most `max_wait` seconds."""
        deadline = time.monotonic() + self.max_wait
        while True:
            status = talk.get("status")
            if status == "done" and talk.get("result_url"):
                return talk
            if status in ("error", "rejected"):
                error = talk.get("error") or {}
                why = f"{error.get('kind', status)}: {error.get('description', 'no reason given')}"
                refused = status == "rejected" or "moderation" in why.lower()
                cls = ContentPolicyError if refused else PermanentProviderError
                raise cls(client.provider, f"talk {talk_id} failed: {why}",
                          hint=f"check {HINTS.model} (a clear, front-facing face) and the text", role=client.role)
            if time.monotonic() + self.poll_interval > deadline:
                raise TransientProviderError(
                    client.provider, f"talk {talk_id} is still {status!r} after {self.max_wait:g} s",
                    hint="raise PIPELINE_AVATAR_MAX_WAIT; a step retry goes on waiting for the same talk",
                    role=client.role, kind="timeout")
            log.debug("%s: talk %s is %s", client.provider, talk_id, status)
            time.sleep(self.poll_interval)
            talk = client.request_json("GET", f"/talks/{talk_id}")
