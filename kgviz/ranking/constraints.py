"""InGram's inference-time constraints, and filtered ranking of targets with candidates in tiers.

Constraints (pure functions, :func:`constraint_tiers`): (a) the query's own entity is excluded
unless the KG holds a self-loop of that relation; (b) candidates never seen on the query's side
of the relation (for a tail query: never a tail of ``r``) rank after those that were. Both put
candidates into *tiers* (0 = kept, 1 = wrong side, 2 = own entity); an entity of a lower tier
always ranks before one of a higher tier, and within a tier the score decides, with the spec's
tie rule (:func:`tiered_rank`, built on :func:`kgviz.ranking.ranks.filtered_rank`). Queries and
directions as in :mod:`kgviz.models.counting_scores`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from kgviz.models.counting_scores import Direction, id_array, side_counts, tail_flags
from kgviz.ranking.ranks import tie_rule


def self_loop_relations(triples: np.ndarray, num_relations: int) -> np.ndarray:
    """``(R,)`` bool: relation ``r`` has a self-loop ``(x, r, x)`` in the KG."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    out = np.zeros(num_relations, dtype=bool)
    out[t[t[:, 0] == t[:, 2], 1]] = True
    return out


def constraint_tiers(
    triples: np.ndarray,
    num_entities: int,
    num_relations: int,
    anchors: np.ndarray | Tensor,
    relations: np.ndarray | Tensor,
    direction: Direction,
    *,
    exclude_self: bool = True,
    known_side: bool = True,
    counts: tuple[np.ndarray, np.ndarray] | None = None,
) -> Tensor:
    """Tier of every candidate of every query, ``(Q, N)`` int64: lower tiers rank first.

    ``known_side``: tier 1 for entities never on the query's side of its relation in the KG
    (tail query: no ``(·, r, e)``; head query: no ``(e, r, ·)``), 0 otherwise.
    ``exclude_self``: tier 2 for the anchor itself unless relation ``r`` has a self-loop in the KG.
    ``counts``: :func:`side_counts` of ``triples`` when already at hand.
    """
    anchor, rel = id_array(anchors), id_array(relations)
    is_tail = tail_flags(direction, len(rel))
    tiers = np.zeros((len(rel), num_entities), dtype=np.int64)  # never narrow: demote multiplies by N
    if known_side:
        tails, heads = counts if counts is not None else side_counts(triples, num_entities, num_relations)
        tiers[np.where(is_tail[:, None], tails[rel], heads[rel]) == 0] = 1
    if exclude_self:
        q = np.flatnonzero(~self_loop_relations(triples, num_relations)[rel])
        tiers[q, anchor[q]] = 2
    return torch.from_numpy(tiers)


@dataclass
class RankContext:
    """The score-independent part of a filtered, tiered ranking of ``targets`` (see :func:`ranks_in`)."""

    before: Tensor  # (Q,) kept candidates of a lower tier than the target's
    rivals: Tensor  # (Q, N) bool: kept candidates of the target's tier, the target excluded


def rank_context(targets: Tensor, filter_mask: Tensor | None, tiers: Tensor | None = None) -> RankContext:
    """Kept = not filtered and not the target; ``tiers`` ``None``: one tier (plain filtered rank)."""
    q = torch.arange(len(targets))
    if filter_mask is not None:
        keep = ~filter_mask
    elif tiers is not None:
        keep = torch.ones(tiers.shape, dtype=torch.bool)
    else:
        raise ValueError("rank_context needs a filter mask or tiers (they give the number of candidates)")
    keep[q, targets] = False
    if tiers is None:
        return RankContext(torch.zeros(len(targets), dtype=torch.int64), keep)
    own = tiers[q, targets].unsqueeze(1)  # (Q, 1)
    return RankContext(((tiers < own) & keep).sum(1), (tiers == own) & keep)


def ranks_in(scores: Tensor, targets: Tensor, contexts: dict[str, RankContext]) -> dict[str, Tensor]:
    """Rank of ``targets`` under each context, the spec's tie rule (§7, as :func:`kgviz.ranking.ranks.filtered_rank`)::

        rank = 1 + before + #{rivals with s > s*} + ⌊#{rivals with s = s*} / 2⌋

    The comparisons with ``s*`` are made once for all contexts. ``(Q,)`` int64 each.
    """
    scores = scores.cpu()
    true = scores[torch.arange(len(targets)), targets].unsqueeze(1)  # (Q, 1)
    higher, equal = scores > true, scores == true
    return {
        name: tie_rule(c.before + (higher & c.rivals).sum(1), (equal & c.rivals).sum(1)) for name, c in contexts.items()
    }


def tiered_rank(scores: Tensor, targets: Tensor, filter_mask: Tensor | None, tiers: Tensor) -> Tensor:
    """Filtered rank of ``targets`` when candidates are ordered by ``(tier ascending, score descending)``:
    ``#{kept e ≠ t : tier(e) < tier(t)}`` + the filtered rank within t's own tier. ``(Q,)`` int64."""
    return ranks_in(scores, targets, {"": rank_context(targets, filter_mask, tiers)})[""]


def demote(scores: Tensor, tiers: Tensor) -> Tensor:
    """Scores re-keyed so that sorting them orders by ``(tier, score)``: ``(Q, N)`` float64.

    ``key(e) = #{e' : s(e') < s(e)} − N · tier(e)`` per row — exact (no float offset), ties kept:
    ``filtered_rank(demote(s, tiers), …) == tiered_rank(s, …, tiers)``. For ordering a ranking list.
    """
    ascending = scores.sort(dim=1).values
    below = torch.searchsorted(ascending, scores.contiguous(), right=False)  # (Q, N) #strictly lower
    return (below - scores.shape[1] * tiers.to(device=scores.device, dtype=torch.int64)).double()
