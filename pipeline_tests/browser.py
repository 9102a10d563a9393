"""A real browser for UI tests: Debian's headless Chromium driven over the DevTools protocol.

`websockets` comes with dagster-webserver (uvicorn[standard]). `make test` installs Chromium
(scripts/system-packages.sh --test); a test that needs it fails without it.
"""

import asyncio
import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from pipeline_tests.services import free_port

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--window-size=1400,1600"]
SHOW = "[Show Markdown]"
OPEN_PREVIEW = f"""(() => {{
  const found = [...document.querySelectorAll('a')].filter(e => e.textContent.trim() === '{SHOW}');
  if (!found.length) return false;
  found[0].dispatchEvent(new MouseEvent('click', {{bubbles: true, cancelable: true, view: window}}));
  return true; }})()"""
PICTURES = """[...document.querySelectorAll('img')].filter(i => i.src.startsWith('data:image/'))
  .map(i => ({width: i.naturalWidth, height: i.naturalHeight, shown_width: i.clientWidth, complete: i.complete}))"""


def chromium() -> str | None:
    return shutil.which("chromium")


def preview_pictures(url: str, screenshot: Path | None = None, timeout: float = 60) -> dict:
    """Open `url`, click the first `[Show Markdown]` metadata entry, and report the inline pictures the dialog
    shows (their decoded sizes); a screenshot of the page is saved when asked."""
    return asyncio.run(_preview(url, screenshot, timeout))


async def _preview(url: str, screenshot: Path | None, timeout: float) -> dict:
    import websockets

    port = free_port()
    proc = subprocess.Popen([chromium(), *FLAGS, f"--remote-debugging-port={port}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = _page(port, time.monotonic() + 30)
        async with websockets.connect(page, max_size=2**27) as ws:
            calls = 0

            async def call(method: str, **params) -> dict:
                nonlocal calls
                calls += 1
                await ws.send(json.dumps({"id": calls, "method": method, "params": params}))
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("id") == calls:
                        return message.get("result", {})

            async def value(expression: str):
                answer = await call("Runtime.evaluate", expression=expression, returnByValue=True)
                return answer.get("result", {}).get("value")

            await call("Page.navigate", url=url)
            deadline = time.monotonic() + timeout
            opened, pictures = False, []
            while time.monotonic() < deadline and not opened:
                await asyncio.sleep(0.25)
                opened = bool(await value(OPEN_PREVIEW))
            while opened and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                pictures = await value(PICTURES) or []
                if pictures and all(p["complete"] for p in pictures):
                    break
            if screenshot is not None:
                shot = await call("Page.captureScreenshot", format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            return {"opened": opened, "pictures": pictures}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _page(port: int, deadline: float) -> str:
    """The DevTools websocket of the browser's first page."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as answer:
                return next(t["webSocketDebuggerUrl"] for t in json.load(answer) if t["type"] == "page")
        except (OSError, StopIteration):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
