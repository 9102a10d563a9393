"""The avatar and publisher providers from `PIPELINE_AVATAR_*`, `PIPELINE_PUBLISHER_*` and `PIPELINE_YOUTUBE_*`."""

import os

import dagster as dg

from pipeline.providers.avatar import AvatarProvider, NoAvatar
from pipeline.providers.did import DidAvatar
from pipeline.providers.publisher import LocalPublisher, Publisher
from pipeline.providers.selection import _first_set, _invalid, _number
from pipeline.providers.youtube import YouTubePublisher

AVATARS = ("none", "did")
PUBLISHERS = ("local", "youtube")
YOUTUBE_SECRETS = {"client_id": "PIPELINE_YOUTUBE_CLIENT_ID", "client_secret": "PIPELINE_YOUTUBE_CLIENT_SECRET",
                   "refresh_token": "PIPELINE_YOUTUBE_REFRESH_TOKEN"}


def _name(variable: str, known: tuple[str, ...], role: str) -> str:
    name = os.environ.get(variable, "").strip().lower() or known[0]
    if name not in known:
        raise _invalid(f"{variable}={name!r} is not a known {role}; choose one of: {', '.join(known)}")
    return name


def _text(variable: str) -> str | None:
    return os.environ.get(variable, "").strip() or None


def choose_avatar(data_dir: str) -> AvatarProvider:
    """`PIPELINE_AVATAR_PROVIDER`: none (default) or did, set up from the environment; the key as dg.EnvVar."""
    if _name("PIPELINE_AVATAR_PROVIDER", AVATARS, "avatar provider") == "none":
        return NoAvatar()
    settings: dict[str, object] = {"data_dir": data_dir}
    for field, variable in (("base_url", "PIPELINE_AVATAR_BASE_URL"), ("source_url", "PIPELINE_AVATAR_IMAGE_URL"),
                            ("voice", "PIPELINE_AVATAR_VOICE")):
        if value := _text(variable):
            settings[field] = value
    if key := _first_set("PIPELINE_AVATAR_API_KEY", "DID_API_KEY"):
        settings["api_key"] = dg.EnvVar(key)
    elif not str(settings.get("base_url", "")).startswith("http://"):
        raise _invalid("PIPELINE_AVATAR_PROVIDER=did needs an API key: set DID_API_KEY "
                       "(or PIPELINE_AVATAR_API_KEY) to the key from D-ID Studio's account settings")
    for suffix, field in (("TIMEOUT", "timeout"), ("MAX_WAIT", "max_wait"), ("POLL_INTERVAL", "poll_interval")):
        if (value := _number(f"PIPELINE_AVATAR_{suffix}", float, 0.001)) is not None:
            settings[field] = value
    return DidAvatar(**settings)


def choose_publisher(data_dir: str) -> Publisher:
    """`PIPELINE_PUBLISHER_PROVIDER`: local (default) or youtube; the OAuth secrets as dg.EnvVar."""
    if _name("PIPELINE_PUBLISHER_PROVIDER", PUBLISHERS, "publisher") == "local":
        folder = _text("PIPELINE_EXPORT_DIR")
        return LocalPublisher(folder=folder) if folder else LocalPublisher()
    missing = [v for v in YOUTUBE_SECRETS.values() if not _text(v)]
    if missing:
        raise _invalid(f"PIPELINE_PUBLISHER_PROVIDER=youtube needs {', '.join(missing)}: an OAuth client "
                       "(Google Cloud console) and a refresh token granted the youtube.upload scope")
    settings: dict[str, object] = {field: dg.EnvVar(v) for field, v in YOUTUBE_SECRETS.items()}
    settings["data_dir"] = data_dir
    for field, variable in (("token_url", "PIPELINE_YOUTUBE_TOKEN_URL"),
                            ("upload_base_url", "PIPELINE_YOUTUBE_UPLOAD_BASE_URL"),
                            ("category_id", "PIPELINE_YOUTUBE_CATEGORY_ID")):
        if value := _text(variable):
            settings[field] = value
    if (timeout := _number("PIPELINE_PUBLISHER_TIMEOUT", float, 0.001)) is not None:
        settings["timeout"] = timeout
    return YouTubePublisher(**settings)
