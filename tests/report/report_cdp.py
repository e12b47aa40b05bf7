"""A small Chrome DevTools protocol client: render a local HTML file in headless Chromium.

No browser is downloaded: Debian's ``chromium`` at /usr/bin/chromium (or ``$CHROMIUM``) is started with a
fresh profile, no network services and ``--remote-debugging-port=0``; the port is read from its
``DevTools listening on ws://...`` line.  The page is opened, its console errors, exceptions and network
requests are collected, a script measures it, and a PNG screenshot is taken.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


@dataclass
class Rendered:
    """What the page showed."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    measured: Any = None
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws: Any):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        me = self.next_id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic())))
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(method)


def render(html_file: Path, script: str, width: int = 1280, height: int = 900) -> Rendered:
    """Open ``html_file`` in headless Chromium, run ``script`` (an expression) and take a screenshot."""
    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="allocator-chromium-")
    proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        port = None
        end = time.monotonic() + 60
        while port is None and time.monotonic() < end:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}")
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            raise TimeoutError("chromium did not open its DevTools port")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as f:
            pages = [t for t in json.load(f) if t.get("type") == "page"]
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
            s = _Session(ws)
            for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
                s.call(domain)
            s.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                   mobile=False)
            s.call("Page.navigate", url=html_file.resolve().as_uri())
            s.wait_for("Page.loadEventFired")
            out = Rendered()
            res = s.call("Runtime.evaluate", expression=script, returnByValue=True)
            out.measured = res.get("result", {}).get("value")
            shot = s.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            out.screenshot = base64.b64decode(shot["data"])
            for e in s.events:
                m, p = e.get("method"), e.get("params", {})
                if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                    out.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
                elif m == "Runtime.exceptionThrown":
                    out.errors.append(str(p.get("exceptionDetails", {}).get("text")))
                elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                    out.errors.append(str(p["entry"].get("text")))
                elif m == "Network.requestWillBeSent":
                    out.requests.append(p["request"]["url"])
            return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
