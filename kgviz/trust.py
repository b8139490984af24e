"""How far to trust a ranking: the ensemble that fits a time budget, one query ranked under the
inference-time constraints with each candidate's spread over the draws, and a stability verdict.

- :func:`ensemble_size` — ``K = clamp(⌊budget / t⌋, least, most)`` with ``t`` the measured time of one
  forward pass of the model over the KG (:func:`forward_seconds`);
- :func:`rank_query` — the candidates of ``(a, r, ?)`` or ``(?, r, a)`` ordered by ``(tier, mean score)``
  (tiers of :func:`kgviz.constraints.constraint_tiers`: 0 kept, 1 never on the query's side of ``r``,
  2 the query's own entity), with the softmax probability ``p(e) = exp(s̄_e) / Σ_e' exp(s̄_e')`` over
  the candidates of the first tier present (those the constraints put after them get 0), each candidate's rank under every single draw, its rank under
  relation-tail frequency and the one-line verdict of :func:`kgviz.heuristics.compare_with_frequency`;
- :class:`Stability` — how much the top ``k`` moves between draws, in words and figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .data import KnowledgeGraph
from .constraints import constraint_tiers, demote, tiered_rank
from .heuristics import FrequencyComparison, compare_with_frequency
from .inference import Candidate, Predictor, _tie_rule_ranks, graph_tensors, pick_device, seeded_features
from .model import InGram

__all__ = [
    "ENSEMBLE_BUDGET_S",
    "ENSEMBLE_MOST",
    "ENSEMBLE_LEAST",
    "forward_seconds",
    "ensemble_size",
    "TIER_NOTES",
    "RankedCandidate",
    "Stability",
    "QueryRanking",
    "rank_query",
    "stability",
    "self_check_verdict",
]

ENSEMBLE_BUDGET_S = 0.5  # seconds the default ensemble may take on the current KG
ENSEMBLE_MOST, ENSEMBLE_LEAST = 32, 4  # the default ensemble's bounds
TIER_NOTES = {0: "", 1: "other side only", 2: "own entity (excluded)"}
UNSTABLE_TOP1, UNSTABLE_OVERLAP = 0.5, 0.6  # below either share, the top-k order is called unstable


def forward_seconds(model: InGram, kg: KnowledgeGraph, device: str | torch.device = "auto", repeats: int = 3) -> float:
    """Seconds of one forward pass of ``model`` over ``kg`` (best of ``repeats``, graph inputs built once)."""
    device = pick_device(device)
    graph = graph_tensors(kg, model.num_bin, device)
    feats = seeded_features(model, kg, 0, device)
    best = float("inf")
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(*feats, graph.triplets, graph.relation_triplets)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            best = min(best, time.perf_counter() - t0)
    return best


def ensemble_size(
    seconds_per_pass: float, budget: float = ENSEMBLE_BUDGET_S, most: int = ENSEMBLE_MOST, least: int = ENSEMBLE_LEAST
) -> int:
    """Draws that fit ``budget``: ``clamp(⌊budget / seconds_per_pass⌋, least, most)``."""
    fit = int(budget / seconds_per_pass + 1e-9) if seconds_per_pass > 0 else most  # 0.5 // 0.1 is 4.0
    return max(least, min(most, fit))


@dataclass
class RankedCandidate(Candidate):
    """A :class:`kgviz.inference.Candidate` of a constrained ranking (``seed_ranks`` under the same tiers)."""

    probability: float = 0.0  # softmax of the mean scores over the first tier's candidates; 0 in a later tier
    tier: int = 0  # 0 kept, 1 seen only on the other side of the relation, 2 the query's own entity
    frequency_rank: int = 0  # rank under relation-tail (head) frequency, same candidates
    frequency_count: int = 0  # how often it fills the query's side of the relation in the KG

    @property
    def note(self) -> str:
        return TIER_NOTES[self.tier]


@dataclass(frozen=True)
class Stability:
    """How the top ``k`` of the ensemble holds up under single draws.

    ``top1_share``: share of draws whose first choice is the ensemble's; ``overlap``: mean over the
    draws of ``|top-k(draw) ∩ top-k(ensemble)| / k``; ``widest``: the top-k candidate whose rank
    moves most (name, best, worst). ``stable`` is False when ``top1_share < 0.5`` or ``overlap < 0.6``.
    """

    draws: int
    k: int
    top1_share: float
    overlap: float
    widest: tuple[str, int, int]
    stable: bool
    message: str


@dataclass
class QueryRanking:
    """Every candidate of one query, best first, and what a reader needs to judge it."""

    candidates: list[RankedCandidate]
    seeds: tuple[int, ...]
    exclude_self: bool
    known_side: bool
    frequency: FrequencyComparison
    mean: Tensor  # (N,) mean score over the draws
    tiers: Tensor  # (N,) int64
    known: np.ndarray  # (N,) bool

    def rank_of(self, entity: int, filtered: bool = True) -> int:
        """Rank of ``entity`` by ``(tier, mean score)``, the spec's tie rule; ``filtered`` removes other known answers."""
        mask = (
            torch.from_numpy(self.known).unsqueeze(0) if filtered else torch.zeros(1, len(self.known), dtype=torch.bool)
        )
        return int(tiered_rank(self.mean.unsqueeze(0), torch.tensor([entity]), mask, self.tiers.unsqueeze(0))[0])

    def position_of(self, name: str) -> int | None:
        """The table row (1-based) of the candidate called ``name``, if listed."""
        return next((c.rank for c in self.candidates if c.name == name), None)


def rank_query(
    predictor: Predictor,
    anchor: str | int,
    relation: str | int,
    direction: str = "tail",
    *,
    exclude_self: bool = True,
    known_side: bool = True,
    filter_known: bool = False,
    top_k: int = 10,
) -> QueryRanking:
    """Rank every candidate of ``(anchor, relation, ?)`` (``direction="tail"``) or ``(?, relation, anchor)``.

    Order: tier ascending, then mean score over the predictor's draws descending (stable);
    ``filter_known`` drops candidates that already form a triple of the KG. ``seed_ranks`` use the
    same tiers and candidates with each draw's own scores. ``top_k``: the size of the top that the
    frequency verdict compares.
    """
    if direction not in ("tail", "head"):
        raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
    kg = predictor.kg
    a, r = predictor.entity_id(anchor), predictor.relation_id(relation)
    per_seed = predictor.scores(a, r, direction).double()  # (S, N)
    mean = per_seed.mean(0)
    std = per_seed.std(0, unbiased=False) if len(per_seed) > 1 else torch.zeros_like(mean)
    tiers = constraint_tiers(
        kg.triples,
        kg.num_entities,
        kg.num_relations,
        np.array([a]),
        np.array([r]),
        direction,
        exclude_self=exclude_self,
        known_side=known_side,
    )[0]
    known = np.zeros(kg.num_entities, dtype=bool)
    t = kg.triples
    hit = (t[:, 1] == r) & ((t[:, 0] == a) if direction == "tail" else (t[:, 2] == a))
    known[t[hit, 2] if direction == "tail" else t[hit, 0]] = True
    cand = torch.from_numpy(np.flatnonzero(~known) if filter_known else np.arange(kg.num_entities))
    key = demote(mean[cand].unsqueeze(0), tiers[cand].unsqueeze(0))[0]
    order = cand[torch.argsort(key, descending=True, stable=True)]  # entity ids, best first
    seed_rank = _tie_rule_ranks(demote(per_seed[:, order], tiers[order].expand(len(per_seed), -1)))  # (S, C)
    front = tiers[order] == tiers[order].min() if len(order) else tiers[order] < 0  # the tier ranked first
    prob = torch.zeros(len(order), dtype=torch.float64)
    prob[front] = torch.softmax(mean[order][front], 0)
    freq = compare_with_frequency(kg, r, direction, order.tolist(), top_k)
    names = kg.entities
    rows = [
        RankedCandidate(
            i + 1,
            e,
            names[e],
            float(mean[e]),
            float(std[e]),
            bool(known[e]),
            seed_rank[:, i].tolist(),
            float(prob[i]),
            int(tiers[e]),
            freq.ranks[e],
            freq.counts[e],
        )
        for i, e in enumerate(order.tolist())
    ]
    return QueryRanking(rows, tuple(predictor.seeds), exclude_self, known_side, freq, mean, tiers, known)


def stability(ranking: QueryRanking, k: int = 5) -> Stability | None:
    """How much the top ``k`` moves between the single draws (``None`` with one draw: nothing to compare)."""
    draws = len(ranking.seeds)
    cands = ranking.candidates
    if draws < 2 or not cands:
        return None
    k = min(k, len(cands))
    ranks = np.array([c.seed_ranks for c in cands])  # (C, S), candidates in ensemble order
    top1 = float((ranks[0] == 1).mean())
    overlap = float((ranks[:k] <= k).sum(0).mean() / k)
    spread = [c.rank_max - c.rank_min for c in cands[:k]]
    w = cands[int(np.argmax(spread))]
    widest = (w.name, w.rank_min, w.rank_max)
    stable = top1 >= UNSTABLE_TOP1 and overlap >= UNSTABLE_OVERLAP
    first = (
        f"the first choice '{cands[0].name}' is first in {int(round(top1 * draws))} of {draws} draws "
        f"({top1:.0%}), the draws share on average {overlap * k:.1f} of the top {k}"
    )
    moves = f"'{widest[0]}' ranks from {widest[1]} to {widest[2]} between draws"
    if stable:
        msg = f"Stable over {draws} draws: {first}; {moves}."
    else:
        msg = (
            f"Unstable top {k}: {first}, and {moves}. This order is close to noise: more draws, "
            "the constraints, or adapting the model to this KG may help; check the self-check."
        )
    return Stability(draws, k, top1, overlap, widest, stable, msg)


def self_check_verdict(
    metrics: dict[str, dict[str, float]],
    model: str = "InGram + both constraints",
    baseline: str = "relation-tail frequency",
) -> str:
    """One line comparing ``model``'s MRR with ``baseline``'s and the best other baseline's on a self-check."""
    if model not in metrics:
        return "No model was checked: baselines only."
    ours = metrics[model]["MRR"]
    others = {m: v["MRR"] for m, v in metrics.items() if not m.startswith("InGram")}
    if not others:
        return f"{model}: MRR {ours:.3f}."
    best = max(others, key=others.__getitem__)
    ref = baseline if baseline in others else best
    gap = ours - others[ref]
    if gap > 0.02:
        how = f"predicts this KG better than {ref} (MRR {ours:.3f} against {others[ref]:.3f})"
    elif gap < -0.02:
        how = (
            f"predicts this KG worse than {ref} (MRR {ours:.3f} against {others[ref]:.3f}): on this KG its "
            "rankings add nothing to counting the known facts; adapting the model may help"
        )
    else:
        how = f"is about as good as {ref} (MRR {ours:.3f} against {others[ref]:.3f})"
    tail = "" if best == ref else f"; the best baseline is {best} ({others[best]:.3f})"
    return f"{model} {how}{tail}."
