"""Where artifacts live, read from the environment in one place: the data folder (default) or an S3 bucket.

`PIPELINE_STORE` = `local` (default: `PIPELINE_DATA_DIR` is the store) or `s3` (the store is
`s3://PIPELINE_S3_BUCKET/PIPELINE_S3_PREFIX/`, and `PIPELINE_DATA_DIR` is this host's scratch mirror of
it). The endpoint and region come from `PIPELINE_S3_ENDPOINT_URL` / `PIPELINE_S3_REGION` when set,
else from the AWS SDK's own variables (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`,
`AWS_DEFAULT_REGION`); credentials only ever from the SDK's chain (`AWS_ACCESS_KEY_ID` and
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_PROFILE`, a web identity or instance role), never
from a variable of this project. A leaf module: everything imports it.
"""

import os
import re
from dataclasses import dataclass

STORE_ENV = "PIPELINE_STORE"
BUCKET_ENV = "PIPELINE_S3_BUCKET"
PREFIX_ENV = "PIPELINE_S3_PREFIX"
ENDPOINT_ENV = "PIPELINE_S3_ENDPOINT_URL"
REGION_ENV = "PIPELINE_S3_REGION"
STORES = ("local", "s3")
# S3's bucket rule (lowercase, digits, dots and hyphens, 3-63, not an IP address).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$")


class SettingsError(ValueError):
    """The deployment's environment is incomplete or wrong; the message names the variable (SETTINGS_INVALID)."""


def store_kind() -> str:
    """`local` or `s3`, from PIPELINE_STORE."""
    raw = os.environ.get(STORE_ENV) or "local"
    kind = raw.strip().lower()
    if kind not in STORES:
        raise SettingsError(f"{STORE_ENV}={raw!r} is not one of {', '.join(STORES)}")
    return kind


def object_store_enabled() -> bool:
    return store_kind() == "s3"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str  # "" or "a/b" (no leading or trailing slash)
    endpoint_url: str | None
    region: str | None

    def key(self, relative: str) -> str:
        """The object key of a path relative to the data folder (e.g. `projects/p/outline.json`)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    @property
    def base(self) -> str:
        """Every key of this store starts with it ('' or 'prefix/')."""
        return f"{self.prefix}/" if self.prefix else ""

    def uri(self, relative: str = "") -> str:
        return f"s3://{self.bucket}/{self.key(relative)}" if relative else f"s3://{self.bucket}/{self.base}"


def _first(*names: str) -> str | None:
    for name in names:
        value = (os.environ.get(name) or "").strip()
        if value:
            return value
    return None


def s3_settings() -> S3Settings:
    """The S3 store's settings, checked: SettingsError names the variable that is missing or wrong."""
    bucket = (os.environ.get(BUCKET_ENV) or "").strip()
    if not bucket:
        raise SettingsError(f"{STORE_ENV}=s3 needs {BUCKET_ENV}: the bucket that holds the artifacts")
    if not _BUCKET.match(bucket) or _IP.match(bucket) or ".." in bucket:
        raise SettingsError(f"{BUCKET_ENV}={bucket!r} is not a bucket name (3-63 lowercase letters, digits, "
                            "dots and hyphens)")
    raw_prefix = os.environ.get(PREFIX_ENV) or ""
    prefix = raw_prefix.strip().strip("/")
    if prefix and not all(_SEGMENT.match(part) for part in prefix.split("/")):
        raise SettingsError(f"{PREFIX_ENV}={raw_prefix!r}: use segments of letters, digits, '.', '_', '=' and '-' "
                            "separated by '/' (no empty segment, no '..')")
    endpoint = _first(ENDPOINT_ENV, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    if endpoint is not None and not re.match(r"^https?://[^/\s]+", endpoint):
        raise SettingsError(f"{ENDPOINT_ENV}={endpoint!r} is not an http:// or https:// URL")
    region = _first(REGION_ENV, "AWS_REGION", "AWS_DEFAULT_REGION")
    return S3Settings(bucket=bucket, prefix=prefix, endpoint_url=endpoint, region=region)


def check_store_settings() -> str:
    """The store kind, with its settings checked (the code location and the CLI call this before anything)."""
    kind = store_kind()
    if kind == "s3":
        s3_settings()
    return kind
