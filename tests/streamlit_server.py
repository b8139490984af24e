"""Starting the explorer as a real server in tests (kgviz.serve), a failure to start failing the test."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kgviz import serve


def wait_until_healthy(proc: subprocess.Popen, base: str, timeout_s: float = 90) -> None:
    """:func:`kgviz.serve.wait_until_healthy`, failing the test with the server's output."""
    try:
        serve.wait_until_healthy(proc, base, timeout_s)
    except serve.ServerError as exc:
        pytest.fail(str(exc))


@contextmanager
def serving(command: list[str], port: int, *, env: dict | None = None, timeout_s: float = 90) -> Iterator[str]:
    """:func:`kgviz.serve.serving`, failing the test with the server's output if it does not start."""
    try:
        with serve.serving(command, port, env=env, timeout_s=timeout_s) as base:
            yield base
    except serve.ServerError as exc:
        pytest.fail(str(exc))
