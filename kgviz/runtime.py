"""Process settings that make large CPU workloads faster."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import sys
from pathlib import Path

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def retain_freed_memory(trim_threshold: int = 1 << 30) -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the OS.

    PyTorch allocates a fresh buffer for every intermediate tensor; large buffers come from
    ``mmap`` and every page is faulted in and zeroed again on each use. On a 2-core CPU this
    halves the time of a WK-100 training epoch. No-op (returns False) where glibc is absent.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    except (OSError, AttributeError):
        return False


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), for benchmark and model-card records."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
