"""Work that runs in a background thread while the page polls it (fine-tuning, the leaderboard)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar, Self


@dataclass(eq=False, kw_only=True)
class BackgroundJob:
    """A run of :meth:`_run` in a daemon thread: started once, read while it runs, asked to stop by a flag.

    Subclasses set :attr:`thread_name` and implement :meth:`_run`, checking :meth:`stopping` between steps.
    """

    thread_name: ClassVar[str] = "kgviz-job"
    started: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def start(self) -> Self:
        self.started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end at its next check (what it has done so far is kept)."""
        self._stop.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
