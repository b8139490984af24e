"""Serving the explorer on this machine: a free loopback port and the `streamlit run` command line.

Used by ``scripts/screenshots.py`` and the server and browser tests, so that all of them start the
app the way ``make run`` does (bound to 127.0.0.1, headless, no usage statistics) and the browser
the same way.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

__all__ = ["APP", "CHROMIUM", "CHROMIUM_ARGS", "free_port", "streamlit_command"]

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
