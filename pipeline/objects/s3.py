"""The S3 side of the object store: one bucket and prefix, keys named like the data folder's paths.

Every object is written by one PUT of a finished local file (S3 makes a PUT visible whole or not at
all), so no reader ever sees half an object. Keys are `<prefix>/<path relative to the data folder>`:
`projects/<p>/...`, `cache/...`, `exports/<p>/...`, and shared inputs such as `sources/...`.
"""

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.objects.settings import S3Settings, s3_settings


class StoreUnavailable(OSError):
    """The object store could not be reached, or refused a request (STORAGE_UNAVAILABLE)."""


@dataclass(frozen=True)
class Obj:
    """One stored object: its key relative to the store's prefix, ETag, size and last write."""

    rel: str
    etag: str
    size: int
    modified: datetime


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_clients: dict[S3Settings, object] = {}
_clients_lock = threading.Lock()


def _client(settings: S3Settings):
    """One boto3 client per settings and process (thread-safe; made after a fork, never inherited)."""
    key = (settings, os.getpid())
    with _clients_lock:
        if key not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                            max_pool_connections=16,
                            s3={"addressing_style": "path"} if settings.endpoint_url else {})
            session = boto3.session.Session()
            _clients[key] = session.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
                                           config=config)
        return _clients[key]


def _unavailable(error: Exception, what: str, settings: S3Settings) -> StoreUnavailable:
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    detail = f"{code}: {error}" if code else f"{type(error).__name__}: {error}"
    where = f" at {settings.endpoint_url}" if settings.endpoint_url else ""
    return StoreUnavailable(f"object store s3://{settings.bucket}{where}: {what} failed ({detail})")


class ObjectStore:
    """A bucket and prefix. Methods take keys relative to the prefix (`projects/p/outline.json`)."""

    def __init__(self, settings: S3Settings | None = None):
        self.settings = settings or s3_settings()

    @property
    def client(self):
        return _client(self.settings)

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    def key(self, rel: str) -> str:
        return self.settings.key(rel)

    def uri(self, rel: str = "") -> str:
        return self.settings.uri(rel)

    def _call(self, what: str, fn: Callable, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except ClientError as e:
            raise _unavailable(e, what, self.settings) from e
        except BotoCoreError as e:
            raise _unavailable(e, what, self.settings) from e

    def objects(self, rel_prefix: str) -> Iterator[Obj]:
        """Every object whose key starts with `<prefix>/<rel_prefix>` (a folder ends with '/')."""
        base = self.settings.base
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(f"listing {rel_prefix or '/'}", lambda: list(
            paginator.paginate(Bucket=self.bucket, Prefix=base + rel_prefix)))
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.startswith(base):
                    continue
                yield Obj(rel=key[len(base):], etag=item["ETag"].strip('"'), size=item["Size"],
                          modified=item["LastModified"])

    def top_level(self) -> tuple[list[str], list[str]]:
        """(folders, files) directly under the prefix: `['cache', 'projects', 'sources']`, `['notes.txt']`."""
        base = self.settings.base
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("listing /", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=base,
                                                                          Delimiter="/")))
        folders = [p["Prefix"][len(base):].rstrip("/") for page in pages for p in page.get("CommonPrefixes", [])]
        files = [o["Key"][len(base):] for page in pages for o in page.get("Contents", [])]
        return folders, files

    def listing(self, rel_prefix: str) -> dict[str, Obj]:
        return {o.rel: o for o in self.objects(rel_prefix)}

    def head(self, rel: str) -> Obj | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.key(rel))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _unavailable(e, f"reading {rel}", self.settings) from e
        except Exception as e:  # noqa: BLE001 - botocore's transport errors
            raise _unavailable(e, f"reading {rel}", self.settings) from e
        return Obj(rel, answer["ETag"].strip('"'), answer["ContentLength"], answer["LastModified"])

    def download(self, rel: str, dest: Path, before: Callable[[Path, str], None] | None = None) -> Obj | None:
        """The object written to `dest` atomically (a temp file beside it, then a rename); None if absent.

        `before(temp file, etag)` is called just before the rename (a rename keeps size and mtime)."""
        from botocore.exceptions import ClientError

        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(rel))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _unavailable(e, f"reading {rel}", self.settings) from e
        except Exception as e:  # noqa: BLE001
            raise _unavailable(e, f"reading {rel}", self.settings) from e
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                body = answer["Body"]
                for block in iter(lambda: body.read(1 << 20), b""):
                    f.write(block)
            if before is not None:
                before(Path(tmp), answer["ETag"].strip('"'))
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Obj(rel, answer["ETag"].strip('"'), answer["ContentLength"], answer["LastModified"])

    def upload(self, path: Path, rel: str) -> str:
        """One PUT of the whole finished file: readers see the old object or this one, never a part. Its ETag."""
        with open(path, "rb") as f:
            answer = self._call(f"writing {rel}", self.client.put_object, Bucket=self.bucket, Key=self.key(rel),
                                Body=f)
        return answer["ETag"].strip('"')

    def put_bytes(self, rel: str, data: bytes, **conditions) -> str:
        answer = self._call(f"writing {rel}", self.client.put_object, Bucket=self.bucket, Key=self.key(rel),
                            Body=data, **conditions)
        return answer["ETag"].strip('"')

    def get_bytes(self, rel: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(rel))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _unavailable(e, f"reading {rel}", self.settings) from e
        return answer["Body"].read(), answer["ETag"].strip('"')

    def merge_put(self, rel: str, merge: Callable[[bytes | None], bytes], attempts: int = 8) -> str:
        """Read-merge-write with a conditional PUT (If-Match / If-None-Match), so two writers never lose
        each other's part; a store without conditional writes gets the merged object unconditionally."""
        from botocore.exceptions import ClientError

        for _ in range(attempts):
            current = self.get_bytes(rel)
            data = merge(current[0] if current else None)
            condition = {"IfMatch": current[1]} if current else {"IfNoneMatch": "*"}
            try:
                return self.client.put_object(Bucket=self.bucket, Key=self.key(rel), Body=data,
                                              **condition)["ETag"].strip('"')
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    continue  # another writer came first: merge with theirs
                if code in ("NotImplemented", "501"):
                    return self.put_bytes(rel, data)
                raise _unavailable(e, f"writing {rel}", self.settings) from e
        return self.put_bytes(rel, merge((self.get_bytes(rel) or (None,))[0]))

    def touch(self, rel: str) -> None:
        """Give the object a new last-modified time (a copy onto itself): a cache entry just used is young."""
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._call(f"refreshing {rel}", self.client.copy_object, Bucket=self.bucket, Key=self.key(rel),
                   CopySource={"Bucket": self.bucket, "Key": self.key(rel)}, MetadataDirective="REPLACE",
                   Metadata={"used": stamp})

    def delete(self, rels: list[str]) -> int:
        """Delete these keys (relative to the prefix); how many were deleted."""
        done = 0
        for start in range(0, len(rels), 1000):
            batch = rels[start:start + 1000]
            answer = self._call("deleting objects", self.client.delete_objects, Bucket=self.bucket,
                                Delete={"Objects": [{"Key": self.key(r)} for r in batch], "Quiet": True})
            errors = answer.get("Errors") or []
            if errors:
                raise StoreUnavailable(f"object store s3://{self.bucket}: {len(errors)} objects were not deleted "
                                       f"(first: {errors[0].get('Key')}: {errors[0].get('Message')})")
            done += len(batch)
        return done
