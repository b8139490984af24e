"""A temperature per scorer, and how well its probabilities are calibrated.

Probabilities: ``p(e) = softmax_e(s(e) / T)`` over the query's filtered candidates (other known
answers removed). A candidate the scorer has no score for (``-inf``) gets the row's lowest finite
score minus its range plus one, so it keeps a small probability rather than zero. ``T`` minimises the
validation NLL ``−mean log p(answer)``: a 1-D search over ``log T`` (a grid on
``[log 10⁻³, log 10³]``, then a golden-section refinement between the best grid point's neighbours).

Calibration of the top answer on test facts: confidence ``c = max_e p(e)``, correct = the top
answer is the true one. Reliability bins of equal width on ``[0, 1]``; expected calibration error
``ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "candidate_logits",
    "nll",
    "fit_temperature",
    "top_confidence",
    "reliability_bins",
    "expected_calibration_error",
    "calibrate",
]

GRID = 49
BINS = 10


def candidate_logits(scores: Tensor, candidates: Tensor) -> Tensor:
    """``(Q, N)`` float64: scores of the candidates (non-finite ones lowered, module docstring), ``-inf`` elsewhere."""
    s = scores.double().clone()
    finite = torch.isfinite(s) & candidates
    big = torch.finfo(torch.float64).max
    lo = torch.where(finite, s, torch.full_like(s, big)).min(1, keepdim=True).values
    hi = torch.where(finite, s, torch.full_like(s, -big)).max(1, keepdim=True).values
    none = ~finite.any(1, keepdim=True)
    floor = torch.where(none, torch.zeros_like(lo), lo - (hi - lo) - 1.0)
    s = torch.where(torch.isfinite(s), s, floor.expand_as(s))
    s = torch.where(none.expand_as(s), torch.zeros_like(s), s)
    return s.masked_fill(~candidates, float("-inf"))


def nll(logits: Tensor, targets: Tensor, temperature: float) -> float:
    """``−mean_q log softmax(logits_q / T)[target_q]``."""
    logp = torch.log_softmax(logits / temperature, dim=1)
    return float(-logp[torch.arange(len(targets)), targets].mean())


def fit_temperature(logits: Tensor, targets: Tensor) -> float:
    """The ``T`` minimising :func:`nll` (grid over ``log T``, then golden section); ``(Q, N)`` logits."""
    grid = np.linspace(math.log(1e-3), math.log(1e3), GRID)
    losses = [nll(logits, targets, math.exp(g)) for g in grid]
    i = int(np.argmin(losses))
    a, b = grid[max(0, i - 1)], grid[min(GRID - 1, i + 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(30):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if nll(logits, targets, math.exp(c)) <= nll(logits, targets, math.exp(d)):
            b = d
        else:
            a = c
    return math.exp((a + b) / 2)


def top_confidence(logits: Tensor, targets: Tensor, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence (Q,), correct (Q,) bool)`` of the top answer under temperature ``T``."""
    p = torch.softmax(logits / temperature, dim=1)
    conf, top = p.max(1)
    return conf.numpy(), (top == targets).numpy()


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> list[dict]:
    """Equal-width bins of confidence: ``{"low", "high", "count", "confidence", "accuracy"}`` each
    (``confidence``/``accuracy`` ``None`` for an empty bin)."""
    c, ok = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=bool)
    which = np.clip((c * bins).astype(np.int64), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        n = int(sel.sum())
        out.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "count": n,
                "confidence": float(c[sel].mean()) if n else None,
                "accuracy": float(ok[sel].mean()) if n else None,
            }
        )
    return out


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> float:
    """``Σ_b (n_b / n) · |accuracy_b − confidence_b|`` over :func:`reliability_bins`."""
    n = len(confidence)
    return float(
        sum(
            b["count"] / n * abs(b["accuracy"] - b["confidence"])
            for b in reliability_bins(confidence, correct, bins)
            if b["count"]
        )
    )


def calibrate(logits: Tensor, targets: Tensor, validation: np.ndarray) -> dict:
    """Temperature fit on the ``validation`` rows, ECE and reliability bins on the others (test).

    Returns ``{"temperature", "validation_nll", "test_nll", "test_ece", "bins"}``.
    """
    val = torch.from_numpy(np.asarray(validation, dtype=bool))
    t = fit_temperature(logits[val], targets[val])
    conf, ok = top_confidence(logits[~val], targets[~val], t)
    return {
        "temperature": t,
        "validation_nll": nll(logits[val], targets[val], t),
        "test_nll": nll(logits[~val], targets[~val], t),
        "test_ece": expected_calibration_error(conf, ok),
        "bins": reliability_bins(conf, ok),
    }
