"""Uncertainty of ranking metrics on small query sets: Wilson intervals for Hits@k, bootstrap for MRR.

Both treat the ranked query directions (tail and head queries of each held-out triple) as the sample.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: two-sided 95 % intervals


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p̂ = successes / n``:

    ``(p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)``, clipped to ``[0, 1]``; ``(0, 1)`` when ``n = 0``.
    Unlike the normal interval it is not empty at ``p̂ = 0`` or ``1`` (3 hits of 3 gives 0.44–1.00).
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


def bootstrap_mean_interval(
    values: np.ndarray, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values (n,)``: the ``(1 − level)/2`` and
    ``(1 + level)/2`` quantiles of the means of ``resamples`` samples of size n drawn with replacement
    (numpy generator seeded with ``seed``, so the same values give the same interval)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) == 0:
        raise ValueError("no values to bootstrap")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)  # (resamples,)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def mrr_interval(ranks: np.ndarray, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval (:func:`bootstrap_mean_interval`) of MRR = mean of ``1 / rank`` over ``ranks (n,)``."""
    return bootstrap_mean_interval(1.0 / np.asarray(ranks, dtype=np.float64), level, resamples, seed)


def hits_interval(ranks: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Wilson interval (:func:`wilson_interval`) of Hits@k = share of ``ranks (n,)`` that are ``≤ k``."""
    ranks = np.asarray(ranks)
    return wilson_interval(int((ranks <= k).sum()), len(ranks))
