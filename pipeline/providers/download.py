"""Large downloads (stock footage): streamed to disk, capped in size, resumed with a Range request after a cut.

The bytes go to `<out>.part` as they arrive, never all in memory. After a dropped connection or a 5xx
the client's retry wait passes (backoff, or the server's Retry-After) and the download goes on from the
bytes it has (`Range: bytes=N-`); a server that ignores the range and answers 200 sends the file again
from its start. A retry that got no further counts against the client's `max_retries`; one that did
resets the count, so a long file over a poor line still arrives. Each attempt holds one of the
provider's slots, like every call of the client; the API key is never sent (the file is on a CDN).
"""

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from pipeline.providers.errors import PermanentProviderError, ProviderError, TransientProviderError
from pipeline.providers.http_client import USER_AGENT, HttpClient, redact_url
from pipeline.providers.http_errors import classify, scrub
from pipeline.providers.slots import SlotLimiter

log = logging.getLogger(__name__)


def download_to(client: HttpClient, url: str, out: Path, max_bytes: int,
                progress: Callable[[int, int | None], None] | None = None) -> int:
    """GET `url` into `out` (written whole or not at all); the number of bytes. A ProviderError of `client`'s
    role when it cannot: PermanentProviderError for a file over `max_bytes` or a refused URL."""
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f"{out.name}.part")
    slots = SlotLimiter(client._root / "slots" / client._slug, client.max_in_flight)
    misses = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        with slots.hold():
            outcome = _attempt(client, url, part, have, max_bytes, progress)
        if isinstance(outcome, int):
            part.replace(out)
            return outcome
        now = part.stat().st_size if part.exists() else 0
        if now > have:
            misses = 0  # it got further: the count of retries without progress starts again
        wait = client.retry_wait(outcome, misses)  # raises when no retry is left or none can help
        misses += 1
        log.warning("%s; the download resumes from byte %d in %.2f s (retry %d of %d)", outcome, now, wait, misses,
                    client.max_retries)
        time.sleep(wait)


def _attempt(client: HttpClient, url: str, part: Path, have: int, max_bytes: int,
             progress: Callable[[int, int | None], None] | None) -> int | ProviderError:
    """One GET from byte `have`: the file's whole size when done, or the error that stopped it."""
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if have:
        headers["Range"] = f"bytes={have}-"
    timeout = httpx.Timeout(client.timeout, connect=client.connect_timeout)
    where = redact_url(url)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as http, \
                http.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 416 and have:  # asked past the end: what we hold is the whole file, or junk
                part.unlink(missing_ok=True)
                return TransientProviderError(client.provider, f"{where} refused the resumed range; starting again",
                                              status=status, role=client.role)
            if status not in (200, 206):
                body = response.read()
                return classify(client.provider, status, {k.lower(): v for k, v in response.headers.items()}, body,
                                client.hints, client.secrets, role=client.role) or TransientProviderError(
                    client.provider, f"unexpected answer {status} to a download", status=status, role=client.role)
            resumed = status == 206 and have > 0
            total = _total(response.headers, have if resumed else 0)
            if total is not None and total > max_bytes:
                return PermanentProviderError(client.provider, f"{where} is {total} bytes, over the "
                                              f"{max_bytes} bytes a clip may have", status=status, role=client.role,
                                              hint="choose smaller files (PIPELINE_FOOTAGE_MAX_MB)")
            size = have if resumed else 0
            with open(part, "ab" if resumed else "wb") as sink:
                for block in response.iter_bytes():  # as it arrives: a cut keeps every byte received
                    size += len(block)
                    if size > max_bytes:
                        sink.close()
                        part.unlink(missing_ok=True)
                        return PermanentProviderError(client.provider, f"{where} goes on past {max_bytes} bytes, "
                                                      "the most a clip may have", role=client.role,
                                                      hint="choose smaller files (PIPELINE_FOOTAGE_MAX_MB)")
                    sink.write(block)
                    if progress is not None:
                        progress(size, total)
    except httpx.TimeoutException as e:
        return TransientProviderError(client.provider, f"no data from {where} within {client.timeout:g} s "
                                      f"({type(e).__name__})", role=client.role, kind="timeout",
                                      hint=f"raise {client.hints.timeout}")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        return PermanentProviderError(client.provider, scrub(f"{where} is not a usable URL: {e}", client.secrets),
                                      role=client.role, hint=f"check {client.hints.base_url}")
    except httpx.TransportError as e:
        reason = scrub(str(e), client.secrets) or "the connection was closed"
        return TransientProviderError(client.provider, f"the download from {where} was cut: {type(e).__name__}: "
                                      f"{reason}", role=client.role)
    if total is not None and size < total:
        return TransientProviderError(client.provider, f"the download from {where} stopped at byte {size} of "
                                      f"{total}", role=client.role)
    return size


def _total(headers: httpx.Headers, offset: int) -> int | None:
    """The file's whole size: from `Content-Range: bytes a-b/TOTAL`, else offset + Content-Length."""
    ranged = headers.get("content-range", "")
    if "/" in ranged and ranged.rsplit("/", 1)[1].strip().isdigit():
        return int(ranged.rsplit("/", 1)[1])
    length = headers.get("content-length", "")
    return offset + int(length) if length.isdigit() else None
