"""Starting the explorer as a real server in tests: a free loopback port and a wait for health."""

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def wait_until_healthy(proc: subprocess.Popen, base: str, timeout_s: float = 90) -> None:
    """Poll ``{base}/_stcore/health`` until it answers 200; fail with the server's output if it exits."""
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
            pytest.fail(f"streamlit did not start in {timeout_s:.0f} s: {out[-2000:]}")
        time.sleep(0.5)


@contextmanager
def serving(command: list[str], port: int, *, env: dict | None = None, timeout_s: float = 90) -> Iterator[str]:
    """Run ``command`` (a ``streamlit run`` on loopback ``port``) from the repository root, wait until it is
    healthy, yield its URL; stop it after (terminate, then kill)."""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base, timeout_s=timeout_s)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
