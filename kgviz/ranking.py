"""Filtered ranks and the metrics derived from them — defined once, used by CLI, tests and app.

Rank of the true candidate among ``N`` scored entities (spec §7, the authors' tie rule)::

    rank = 1 + #(score > s*) + ⌊#(score == s*, the true candidate excluded) / 2⌋

where ``s*`` is the true candidate's score and, in the *filtered* setting, every other entity
that forms a known true triple is removed from the comparison.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["filtered_rank", "metrics", "known_mask", "METRIC_NAMES"]

METRIC_NAMES = ("MR", "MRR", "Hits@1", "Hits@3", "Hits@10")


def filtered_rank(scores: Tensor, targets: Tensor, filter_mask: Tensor | None = None) -> Tensor:
    """Rank of ``targets`` in each row of ``scores (Q, N)``; ``filter_mask (Q, N)`` marks removed entities.

    The target itself is never removed, even if the mask marks it. Returns ``(Q,)`` int64 ranks.
    """
    q = torch.arange(len(targets), device=scores.device)
    true = scores[q, targets].unsqueeze(1)  # (Q, 1)
    keep = torch.ones_like(scores, dtype=torch.bool) if filter_mask is None else ~filter_mask
    keep = keep.clone()
    keep[q, targets] = False  # compare against the others only
    higher = ((scores > true) & keep).sum(1)
    equal = ((scores == true) & keep).sum(1)
    return 1 + higher + torch.div(equal, 2, rounding_mode="floor")


def metrics(ranks: Tensor | np.ndarray) -> dict[str, float]:
    """MR, MRR and Hits@{1,3,10} of a set of ranks."""
    r = torch.as_tensor(ranks, dtype=torch.float64)
    if r.numel() == 0:
        raise ValueError("no ranks to summarise")
    return {
        "MR": r.mean().item(),
        "MRR": (1.0 / r).mean().item(),
        "Hits@1": (r <= 1).double().mean().item(),
        "Hits@3": (r <= 3).double().mean().item(),
        "Hits@10": (r <= 10).double().mean().item(),
    }


def known_mask(
    query_keys: np.ndarray, key_of_known: np.ndarray, answer_of_known: np.ndarray, num_entities: int
) -> Tensor:
    """Boolean ``(Q, N)`` mask of the answers known for each query key.

    ``key_of_known[k]`` is the query key of known triple ``k`` (e.g. ``h·2R + r`` for tail
    queries) and ``answer_of_known[k]`` its answer; ``query_keys (Q,)`` are the keys to look up.
    Vectorised with a sorted search, no Python loop over queries.
    """
    order = np.argsort(key_of_known, kind="stable")
    keys, answers = key_of_known[order], answer_of_known[order]
    lo = np.searchsorted(keys, query_keys, side="left")
    hi = np.searchsorted(keys, query_keys, side="right")
    counts = hi - lo
    rows = np.repeat(np.arange(len(query_keys)), counts)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    cols = answers[starts + np.arange(counts.sum())]
    mask = torch.zeros(len(query_keys), num_entities, dtype=torch.bool)
    mask[torch.from_numpy(rows), torch.from_numpy(cols)] = True
    return mask
