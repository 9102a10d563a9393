"""Google's resumable upload protocol: PUT the file in chunks; after a failure ask how far the server got.

A chunk is `PUT <session>` with `Content-Range: bytes a-b/TOTAL`; the server answers 308 Resume
Incomplete with `Range: bytes=0-N` until the last chunk, then 200/201 with the created resource. After a
5xx or a dropped connection the client asks with `Content-Range: bytes */TOTAL` and goes on from N+1.
"""

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.providers.errors import ProviderError, TransientProviderError
from pipeline.providers.http_client import USER_AGENT, HttpClient, Reply

# Under `pipeline.providers`, which dagster.yaml's python_logs manages: inside a step these lines go to the
# run's event log (UI, Redis generation_logs, `pipeline logs`) as well as to stderr.
log = logging.getLogger(__name__)
CHUNK_UNIT = 256 * 1024  # every chunk but the last must be a multiple of this
_RANGE = re.compile(r"bytes=0-(\d+)")
_ANSWERS = (308, 404, 410)  # statuses the protocol reads itself, rather than as errors


def next_offset(range_header: str | None) -> int:
    """The first byte the server still needs, from a 308's `Range: bytes=0-N` (none received: 0)."""
    found = _RANGE.fullmatch((range_header or "").strip())
    return int(found.group(1)) + 1 if found else 0


def upload_resumable(client: HttpClient, session_url: str, path: Path, chunk_size: int,
                     content_type: str = "video/mp4", progress: Callable[[int, int], None] | None = None) -> bytes:
    """Send the whole file to an upload session; the body of the final 200/201 answer.

    Each PUT is one attempt of `client` (its timeouts, secrets and hints; no slot is held); after a
    transient failure the client's retry wait passes and the server is asked how far it got, up to
    `client.max_retries` times in a row without progress. The session URL is scrubbed like a key.

    Args:
        progress: called with (bytes the server holds, total) whenever that grows.
    """
    client = client.with_(extra_secrets=(*client.extra_secrets, session_url))
    total = path.stat().st_size
    offset, best, misses, ask = 0, 0, 0, False
    with open(path, "rb") as source:
        while True:
            if ask:
                outcome = _put(client, session_url, f"bytes */{total}", b"", content_type)
            else:
                source.seek(offset)
                chunk = source.read(chunk_size)
                outcome = _put(client, session_url, f"bytes {offset}-{offset + len(chunk) - 1}/{total}", chunk,
                               content_type)
            if isinstance(outcome, bytes):
                return outcome
            if isinstance(outcome, int):
                offset, ask = outcome, False
                if offset > best:
                    best, misses = offset, 0
                    if progress is not None:
                        progress(offset, total)
                continue
            wait = client.retry_wait(outcome, misses)
            misses += 1
            log.warning("%s; asking the server how much of the upload it has, in %.2f s (retry %d of %d)",
                        outcome, wait, misses, client.max_retries)
            time.sleep(wait)
            ask = True


def _put(client: HttpClient, session_url: str, content_range: str, content: bytes,
         content_type: str) -> bytes | int | ProviderError:
    """One PUT: the final body (done), the next offset (308), or the error it stands for."""
    headers = {"Content-Range": content_range, "Content-Type": content_type, "User-Agent": USER_AGENT}
    reply = client.once("PUT", session_url, {"headers": headers, "content": content}, follow_redirects=False,
                        passthrough=_ANSWERS)
    if not isinstance(reply, Reply):
        return reply
    if reply.status in (200, 201):
        return reply.content
    if reply.status == 308:
        return next_offset(reply.headers.get("range"))
    if reply.status in (404, 410):
        return TransientProviderError(client.provider, f"{reply.status}: the upload session has expired",
                                      hint="a step retry starts a new upload", status=reply.status, role=client.role)
    return TransientProviderError(client.provider, f"unexpected answer {reply.status} to an upload chunk",
                                  status=reply.status, role=client.role)
