"""YouTube Data API v3: OAuth refresh-token grant, resumable video upload, thumbnail.

The client secret, the refresh token and the access token go into request bodies and headers only;
they are scrubbed from anything a server echoes and never logged, returned or stored.
"""

import json
import time
from typing import Any, Self

import dagster as dg
from pydantic import Field, field_validator

from pipeline.providers import env
from pipeline.providers.errors import PermanentProviderError
from pipeline.providers.http_client import JSON_UTF8, HttpClient
from pipeline.providers.http_errors import Hints
from pipeline.providers.http_resource import TransportSettings
from pipeline.providers.publisher import Progress, PublishPackage, PublishResult, Publisher
from pipeline.providers.resumable import CHUNK_UNIT, upload_resumable
from pipeline.store import atomic_write, file_digest, item_key

TOKEN_URL = "https://oauth2.googleapis.com/token"
UPLOAD_BASE_URL = "https://www.googleapis.com"
WATCH_URL = "https://www.youtube.com/watch?v={id}"
TOKEN_LIFETIME = 45 * 60  # seconds an access token is used for (Google grants an hour)
CREDENTIALS = "PIPELINE_YOUTUBE_CLIENT_ID, PIPELINE_YOUTUBE_CLIENT_SECRET and PIPELINE_YOUTUBE_REFRESH_TOKEN"
HINTS = Hints(key="PIPELINE_YOUTUBE_REFRESH_TOKEN and its youtube.upload scope", model="the video's metadata",
              base_url="PIPELINE_YOUTUBE_UPLOAD_BASE_URL", timeout="PIPELINE_PUBLISHER_TIMEOUT",
              api="Google's YouTube upload API")
SECRETS = {"client_id": "PIPELINE_YOUTUBE_CLIENT_ID", "client_secret": "PIPELINE_YOUTUBE_CLIENT_SECRET",
           "refresh_token": "PIPELINE_YOUTUBE_REFRESH_TOKEN"}
SETTINGS = {"token_url": "PIPELINE_YOUTUBE_TOKEN_URL", "upload_base_url": "PIPELINE_YOUTUBE_UPLOAD_BASE_URL",
            "category_id": "PIPELINE_YOUTUBE_CATEGORY_ID"}


def video_resource(package: PublishPackage, category_id: str, made_for_kids: bool) -> dict[str, Any]:
    """The `videos.insert` body: snippet and status, within YouTube's limits (title 100, tags 500 characters)."""
    clean = str.maketrans({"<": "", ">": ""})
    tags, length = [], 0
    for tag in package.tags:
        tag = tag.translate(clean).strip()
        if tag and length + len(tag) + 1 <= 500:
            tags.append(tag)
            length += len(tag) + 1
    status: dict[str, Any] = {"privacyStatus": package.privacy, "selfDeclaredMadeForKids": made_for_kids,
                              "containsSyntheticMedia": package.synthetic_media}
    if package.publish_at is not None:
        status["privacyStatus"] = "private"  # YouTube publishes a private video at publishAt
        status["publishAt"] = package.publish_at.isoformat()
    snippet = {"title": package.title.translate(clean)[:100],
               "description": package.description.translate(clean)[:5000], "tags": tags, "categoryId": category_id,
               "defaultLanguage": package.language, "defaultAudioLanguage": package.language}
    return {"snippet": snippet, "status": status}


class YouTubePublisher(Publisher, TransportSettings):
    """Uploads to YouTube with an OAuth client and a refresh token (give the three as dg.EnvVar)."""

    client_id: str = Field(description="OAuth client id")
    client_secret: str = Field(repr=False, description="OAuth client secret (a dg.EnvVar)")
    refresh_token: str = Field(repr=False, description="refresh token with the youtube.upload scope (a dg.EnvVar)")
    token_url: str = Field(default=TOKEN_URL, description="OAuth token endpoint")
    upload_base_url: str = Field(default=UPLOAD_BASE_URL, description="root of the /upload/youtube/v3 endpoints")
    category_id: str = Field(default="27", description="YouTube category id (27: Education)")
    made_for_kids: bool = Field(default=False, description="status.selfDeclaredMadeForKids")
    chunk_size: int = Field(default=8 * 1024 * 1024, ge=CHUNK_UNIT, description="upload chunk, a multiple of 256 KiB")
    timeout: float = Field(default=120.0, gt=0, description="seconds to wait for one answer")

    @field_validator("chunk_size")
    @classmethod
    def _whole_units(cls, value: int) -> int:
        if value % CHUNK_UNIT:
            raise ValueError(f"must be a multiple of {CHUNK_UNIT} bytes (256 KiB)")
        return value

    @classmethod
    def from_env(cls, data_dir: str) -> Self:
        """Set up from PIPELINE_YOUTUBE_* and PIPELINE_PUBLISHER_TIMEOUT; the OAuth secrets as dg.EnvVar."""
        missing = [v for v in SECRETS.values() if not env.text(v)]
        if missing:
            raise env.invalid(f"PIPELINE_PUBLISHER_PROVIDER=youtube needs {', '.join(missing)}: an OAuth client "
                              "(Google Cloud console) and a refresh token granted the youtube.upload scope")
        settings: dict[str, object] = {field: dg.EnvVar(v) for field, v in SECRETS.items()}
        settings["data_dir"] = data_dir
        for field, variable in SETTINGS.items():
            if value := env.text(variable):
                settings[field] = value
        if (timeout := env.number("PIPELINE_PUBLISHER_TIMEOUT", float, 0.001)) is not None:
            settings["timeout"] = timeout
        return cls(**settings)

    @property
    def name(self) -> str:
        return "youtube"

    def _client(self) -> HttpClient:
        return HttpClient(provider="youtube publisher", base_url=self.upload_base_url, role="publisher", cache=False,
                          hints=HINTS,
                          extra_secrets=(self.client_secret, self.refresh_token), **self.transport())

    def publish(self, package: PublishPackage, progress: Progress | None = None) -> PublishResult:
        client = self._client()
        body = video_resource(package, self.category_id, self.made_for_kids)
        # The uploaded video's id, per video file: a retry or a re-run never uploads the same video twice.
        key = item_key("youtube", package.project, file_digest(package.video))
        checkpoint = package.work_dir / "youtube-upload.json"
        saved = json.loads(checkpoint.read_text()) if checkpoint.exists() else {}
        video_id = saved.get("video_id") if saved.get("key") == key else None
        base = client
        client = self._authorised(base)
        granted = time.monotonic()
        reused = video_id is not None
        if video_id is None:
            video_id = self._upload(client, package, body, progress)
            atomic_write(checkpoint, json.dumps({"key": key, "video_id": video_id}))
        if time.monotonic() - granted > TOKEN_LIFETIME:  # a long upload outlived the access token
            client = self._authorised(base)
        client.request_json("POST", f"/upload/youtube/v3/thumbnails/set?videoId={video_id}&uploadType=media",
                            content=package.thumbnail.read_bytes(), content_type="image/jpeg")
        if progress is not None:
            progress(1, 1, "thumbnail set")
        return PublishResult(url=WATCH_URL.format(id=video_id), video_id=video_id, reused_upload=reused)

    def _authorised(self, client: HttpClient) -> HttpClient:
        """`client` carrying a fresh access token (scrubbed like the other secrets)."""
        token = self._access_token(client)
        return client.with_(api_key=token, extra_secrets=(*client.extra_secrets, token))

    def _access_token(self, client: HttpClient) -> str:
        form = {"grant_type": "refresh_token", "client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token}
        try:
            answer = client.request_json("POST", self.token_url, form=form, auth=False)
        except PermanentProviderError as e:  # invalid_client, invalid_grant (a revoked token): the credentials
            raise PermanentProviderError(client.provider, f"the OAuth token grant was refused: {e.detail}",
                                         hint=f"check {CREDENTIALS}", status=e.status, role=client.role,
                                         kind="quota" if e.kind == "quota" else "auth") from None
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise PermanentProviderError(client.provider, "the OAuth token answer has no access_token",
                                         hint="check PIPELINE_YOUTUBE_TOKEN_URL", role=client.role)
        return token

    def _upload(self, client: HttpClient, package: PublishPackage, body: dict[str, Any],
                progress: Progress | None) -> str:
        """Open a resumable session, send the file in chunks, return the new video's id."""
        size = package.video.stat().st_size
        reply = client.request("POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
                               json_body=body, content_type=JSON_UTF8,
                               headers={"X-Upload-Content-Type": "video/mp4", "X-Upload-Content-Length": str(size)})
        session = reply.headers.get("location")
        if not session:
            raise PermanentProviderError(client.provider, "the upload session answer has no Location header",
                                         hint=f"check {HINTS.base_url}", role=client.role)

        def on_bytes(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total, f"uploaded {done} of {total} bytes")

        try:
            answer = json.loads(upload_resumable(client, session, package.video, self.chunk_size, "video/mp4",
                                                 on_bytes))
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not answer.get("id"):
            raise PermanentProviderError(client.provider, "the finished upload's answer has no video id",
                                         role=client.role)
        return str(answer["id"])
