"""Google's resumable upload protocol: PUT the file in chunks; after a failure ask how far the server got.

A chunk is `PUT <session>` with `Content-Range: bytes a-b/TOTAL`; the server answers 308 Resume
Incomplete with `Range: bytes=0-N` until the last chunk, then 200/201 with the created resource. After a
5xx or a dropped connection the client asks with `Content-Range: bytes */TOTAL` and goes on from N+1.
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pipeline.providers.errors import ProviderError, TransientProviderError
from pipeline.providers.http import USER_AGENT, backoff_delay
from pipeline.providers.http_errors import Hints, classify, scrub

# Under `pipeline.providers`, which dagster.yaml's python_logs manages: inside a step these lines go to the
# run's event log (UI, Redis generation_logs, `pipeline logs`) as well as to stderr.
log = logging.getLogger(__name__)
CHUNK_UNIT = 256 * 1024  # every chunk but the last must be a multiple of this
_RANGE = re.compile(r"bytes=0-(\d+)")


def next_offset(range_header: str | None) -> int:
    """The first byte the server still needs, from a 308's `Range: bytes=0-N` (none received: 0)."""
    found = _RANGE.fullmatch((range_header or "").strip())
    return int(found.group(1)) + 1 if found else 0


@dataclass(frozen=True)
class ResumableUpload:
    """One file sent to one upload session, resumed after transient failures up to `max_retries` in a row."""

    provider: str
    session_url: str = field(repr=False)
    path: Path
    content_type: str = "video/mp4"
    chunk_size: int = 8 * 1024 * 1024
    timeout: float = 120.0
    connect_timeout: float = 10.0
    max_retries: int = 3
    backoff_base: float = 1.0
    secrets: tuple[str, ...] = field(default=(), repr=False)
    hints: Hints = Hints()

    def run(self, progress: Callable[[int, int], None] | None = None) -> bytes:
        """Send the whole file; the body of the final 200/201 answer."""
        total = self.path.stat().st_size
        offset, best, misses, ask = 0, 0, 0, False
        with open(self.path, "rb") as source:
            while True:
                if ask:
                    outcome = self._put(f"bytes */{total}", b"")
                else:
                    source.seek(offset)
                    chunk = source.read(self.chunk_size)
                    outcome = self._put(f"bytes {offset}-{offset + len(chunk) - 1}/{total}", chunk)
                if isinstance(outcome, bytes):
                    return outcome
                if isinstance(outcome, int):
                    offset, ask = outcome, False
                    if offset > best:
                        best, misses = offset, 0
                        if progress is not None:
                            progress(offset, total)
                    continue
                if not isinstance(outcome, TransientProviderError) or misses >= self.max_retries:
                    raise outcome
                wait = backoff_delay(misses, self.backoff_base)
                misses += 1
                log.warning("%s; asking the server how much of the upload it has, in %.2f s (retry %d of %d)",
                            outcome, wait, misses, self.max_retries)
                time.sleep(wait)
                ask = True

    def _put(self, content_range: str, content: bytes) -> bytes | int | ProviderError:
        """One PUT: the final body (done), the next offset (308), or the error it stands for."""
        headers = {"Content-Range": content_range, "Content-Type": self.content_type, "User-Agent": USER_AGENT}
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        try:
            with httpx.Client(timeout=timeout) as client:
                response = client.put(self.session_url, headers=headers, content=content)
        except httpx.TimeoutException as e:
            return TransientProviderError(self.provider, f"the upload got no answer within {self.timeout:g} s "
                                          f"({type(e).__name__})", hint=f"raise {self.hints.timeout}")
        except httpx.TransportError as e:
            reason = scrub(str(e), self.secrets) or "the connection was closed"
            return TransientProviderError(self.provider, f"the upload connection failed: {type(e).__name__}: {reason}")
        if response.status_code in (200, 201):
            return response.content
        if response.status_code == 308:
            return next_offset(response.headers.get("range"))
        if response.status_code in (404, 410):
            return TransientProviderError(self.provider, f"{response.status_code}: the upload session has expired",
                                          hint="a step retry starts a new upload")
        headers_lower = {k.lower(): v for k, v in response.headers.items()}
        error = classify(self.provider, response.status_code, headers_lower, response.content, self.hints, self.secrets)
        return error or TransientProviderError(self.provider,
                                               f"unexpected answer {response.status_code} to an upload chunk")
