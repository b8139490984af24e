"""Figures of a set of filtered ranks: MRR, Hits@1, Hits@10 with a bootstrap interval; per half-link scenario.

``MRR = mean(1 / rank)``, ``Hits@k = mean(rank ≤ k)``. The interval of the MRR is the seeded
percentile bootstrap: ``B`` resamples of the queries with replacement, the ``(1 − level)/2`` and
``(1 + level)/2`` quantiles of their MRRs.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from kgviz.evaluation.leaderboard.protocol import SCENARIOS

__all__ = ["bootstrap_interval", "summarise", "scenario_table"]

BOOTSTRAP_SAMPLES = 1000


def bootstrap_interval(
    values: np.ndarray, *, samples: int = BOOTSTRAP_SAMPLES, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(values)``: ``(low, high)``; deterministic for a seed."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        raise ValueError("no values to bootstrap")
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    chunk = max(1, 2_000_000 // len(v))
    for start in range(0, samples, chunk):
        stop = min(samples, start + chunk)
        means[start:stop] = v[rng.integers(0, len(v), (stop - start, len(v)))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def summarise(ranks: np.ndarray | Tensor, *, seed: int = 0) -> dict:
    """``{"mrr", "hits1", "hits10", "mrr_low", "mrr_high", "queries"}`` of ranks ``(Q,)``."""
    r = np.asarray(ranks, dtype=np.float64)
    lo, hi = bootstrap_interval(1.0 / r, seed=seed)
    return {
        "mrr": float((1.0 / r).mean()),
        "hits1": float((r <= 1).mean()),
        "hits10": float((r <= 10).mean()),
        "mrr_low": lo,
        "mrr_high": hi,
        "queries": int(len(r)),
    }


def scenario_table(ranks: np.ndarray | Tensor, scenario: np.ndarray) -> dict[str, dict]:
    """Per half-link scenario (:data:`SCENARIOS`): ``{"queries": n, "mrr": …}`` (``mrr`` ``None`` when n = 0)."""
    r = np.asarray(ranks, dtype=np.float64)
    out = {}
    for i, label in enumerate(SCENARIOS):
        sel = scenario == i
        out[label] = {"queries": int(sel.sum()), "mrr": float((1.0 / r[sel]).mean()) if sel.any() else None}
    return out
