"""Serving the explorer on this machine: a free loopback port and the `streamlit run` command line.

Used by ``scripts/screenshots.py`` and the server and browser tests, so that all of them start the
app the way ``make run`` does (bound to 127.0.0.1, headless, no usage statistics) and the browser
the same way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "APP",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ServerError",
    "free_port",
    "serving",
    "streamlit_command",
    "wait_until_healthy",
]

APP = Path(__file__).resolve().parent.parent / "app.py"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's Chromium, driven by Playwright (browser tests, screenshots)
CHROMIUM_ARGS = (  # headless in a container, with the browser's own background traffic off
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """``python -m streamlit run app.py`` on ``host:port``, headless, no file watcher, no usage statistics,
    no "Deploy" button (toolbar mode ``minimal``, as in ``.streamlit/config.toml``)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", host,
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip


class ServerError(RuntimeError):
    """The server exited or did not answer its health check in time (the message holds its last output)."""


def wait_until_healthy(proc: subprocess.Popen, base: str, timeout_s: float = 90) -> None:
    """Poll ``{base}/_stcore/health`` until it answers 200; :class:`ServerError` if the server exits or times out."""
    deadline = time.time() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None and proc.stdout else ""
            raise ServerError(f"streamlit did not start in {timeout_s:.0f} s: {out[-2000:]}")
        time.sleep(0.3)


@contextmanager
def serving(command: list[str], port: int, *, env: dict | None = None, timeout_s: float = 90) -> Iterator[str]:
    """Run ``command`` (a ``streamlit run`` on loopback ``port``) from the repository root, wait until it is
    healthy, yield its URL; stop it after (terminate, then kill)."""
    proc = subprocess.Popen(command, cwd=APP.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_healthy(proc, f"http://127.0.0.1:{port}", timeout_s=timeout_s)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
