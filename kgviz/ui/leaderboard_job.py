"""The per-KG leaderboard in the background: :class:`LeaderboardJob` runs :func:`kgviz.evaluation.leaderboard.leaderboard`
in a thread, then fits the recommended ranking on the whole KG (:func:`kgviz.evaluation.leaderboard.recommended.recommended_scorer`).

The thread touches no Streamlit API: it records its progress on the job and stops (raising
:class:`kgviz.evaluation.leaderboard.Cancelled` inside the run) once :meth:`LeaderboardJob.cancel` is called.
Jobs are kept process-wide per KG fingerprint and budget (:func:`jobs`), so a finished leaderboard
serves every page and session on the same KG; :func:`finished_job` is the latest one that finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import streamlit as st

from kgviz.graph.data import KnowledgeGraph
from kgviz.evaluation.leaderboard import Cancelled, Leaderboard, default_specs, leaderboard
from kgviz.evaluation.leaderboard.recommended import RecommendedScorer, recommended_scorer
from kgviz.ui.background import BackgroundJob

__all__ = ["LeaderboardJob", "jobs", "start_job", "finished_job", "job_for"]

JOBS_KEPT = 8  # leaderboards kept per process (the oldest finished ones go first)
FIT_SHARE = 0.9  # the leaderboard's part of the progress bar; the rest fits the recommendation on the whole KG


@dataclass(eq=False)
class LeaderboardJob(BackgroundJob):
    """One leaderboard of ``kg`` with ``budget_s`` training seconds; read its fields while it runs."""

    thread_name: ClassVar[str] = "kgviz-leaderboard"

    kg: KnowledgeGraph
    budget_s: float
    fraction: float = 0.0
    message: str = "starting"
    board: Leaderboard | None = None
    scorer: RecommendedScorer | None = None
    error: str | None = None
    cancelled: bool = False
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.done and self.board is not None and self.scorer is not None

    def cancel(self) -> None:
        """Stop the run at its next check (between scorers, training epochs or scoring batches)."""
        self.stop()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = FIT_SHARE * fraction, message

    def _run(self) -> None:
        specs = default_specs()
        try:
            board = leaderboard(self.kg, specs, budget_s=self.budget_s, progress=self._progress, cancel=self.stopping)
            self.fraction, self.message = FIT_SHARE, "fitting the recommended ranking on the whole KG"
            share = self.budget_s / max(1, board.num_folds)  # as much as one fold's training
            self.scorer = recommended_scorer(board, self.kg, specs, budget_s=share, cancel=self.stopping)
            self.board = board
            self.fraction, self.message = 1.0, "done"
        except Cancelled:
            self.cancelled, self.message = True, "cancelled"
        except (ValueError, RuntimeError) as exc:
            self.error = str(exc)
        self.finished = time.perf_counter()


@st.cache_resource(show_spinner=False)
def jobs() -> dict[tuple[str, float], LeaderboardJob]:
    """Leaderboard jobs of this process by (KG fingerprint, budget), oldest first."""
    return {}


def job_for(kg: KnowledgeGraph, budget_s: float) -> LeaderboardJob | None:
    return jobs().get((kg.fingerprint, float(budget_s)))


def start_job(kg: KnowledgeGraph, budget_s: float) -> LeaderboardJob:
    """A new job for ``kg`` and ``budget_s`` (replacing one that was cancelled or failed), started."""
    job = LeaderboardJob(kg, float(budget_s)).start()
    store = jobs()
    store.pop((kg.fingerprint, float(budget_s)), None)
    store[(kg.fingerprint, float(budget_s))] = job
    for key in [k for k, j in store.items() if not j.running][: max(0, len(store) - JOBS_KEPT)]:
        store.pop(key)
    return job


def finished_job(kg: KnowledgeGraph) -> LeaderboardJob | None:
    """The latest finished leaderboard of ``kg`` (any budget), if one has finished."""
    done = [j for (fp, _), j in jobs().items() if fp == kg.fingerprint and j.ok]
    return max(done, key=lambda j: j.finished, default=None)
