"""The one ranking path: scores in, ranks and ordered candidate lists out — for the app, the CLI and tests.

- :func:`tie_rule` (the spec's tie rule, written once), :func:`filtered_rank` (batched ranks for
  evaluation), :func:`all_ranks` (every entity's rank), :func:`metrics`, :func:`known_mask` and
  :func:`known_answers` (filtering);
- :func:`rank_query`: the ordered candidate list of one query for display (Predictions, What-if,
  Classroom, ``kgviz predict``), any :class:`kgviz.models.base.Scorer`, with the inference-time
  constraints of :mod:`kgviz.ranking.constraints` as options (``exclude_self``, ``known_side``), probability,
  marks, best/worst rank over the draws and frequency rank.

Rank of the true candidate among ``N`` scored entities (spec §7, the authors' tie rule)::

    rank = 1 + #(score > s*) + ⌊#(score == s*, the true candidate excluded) / 2⌋

where ``s*`` is the true candidate's score and, in the *filtered* setting, every other entity
that forms a known true triple is removed from the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "tie_rule",
    "filtered_rank",
    "all_ranks",
    "metrics",
    "known_mask",
    "known_answers",
    "METRIC_NAMES",
    "TIER_NOTES",
    "Candidate",
    "RankedCandidate",
    "QueryRanking",
    "rank_query",
]

METRIC_NAMES = ("MR", "MRR", "Hits@1", "Hits@3", "Hits@10")


def tie_rule(higher: Tensor, equal_others: Tensor) -> Tensor:
    """The spec's tie rule (§7), the one place it is written: ``1 + higher + ⌊equal_others / 2⌋``.

    ``higher``: candidates scoring strictly above; ``equal_others``: the others scoring equal
    (int64 tensors of any shape; the result has their shape)."""
    return 1 + higher + torch.div(equal_others, 2, rounding_mode="floor")


def filtered_rank(scores: Tensor, targets: Tensor, filter_mask: Tensor | None = None) -> Tensor:
    """Rank of ``targets`` in each row of ``scores (Q, N)``; ``filter_mask (Q, N)`` marks removed entities.

    The target itself is never removed, even if the mask marks it. Returns ``(Q,)`` int64 ranks.
    """
    q = torch.arange(len(targets), device=scores.device)
    true = scores[q, targets].unsqueeze(1)  # (Q, 1)
    keep = torch.ones_like(scores, dtype=torch.bool) if filter_mask is None else ~filter_mask
    keep = keep.clone()
    keep[q, targets] = False  # compare against the others only
    return tie_rule(((scores > true) & keep).sum(1), ((scores == true) & keep).sum(1))


def all_ranks(scores: Tensor) -> Tensor:
    """Rank of every entity in each row of ``scores (S, N)``, nothing filtered, by :func:`tie_rule`:
    ``#higher`` and ``#equal others`` from two sorted searches. ``(S, N)`` int64."""
    ascending = scores.sort(dim=1).values
    not_higher = torch.searchsorted(ascending, scores.contiguous(), right=True)  # #(score <= own), itself included
    lower = torch.searchsorted(ascending, scores.contiguous(), right=False)  # #(score < own)
    return tie_rule(scores.shape[1] - not_higher, not_higher - lower - 1)


def known_answers(triples: np.ndarray, anchor: int, relation: int, direction: str) -> np.ndarray:
    """Ids of the known answers of one query in ``triples (M, 3)``: the ``t`` of every ``(anchor, relation, t)``
    (``direction="tail"``) or the ``h`` of every ``(h, relation, anchor)`` (``"head"``)."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    if direction == "tail":
        return t[(t[:, 0] == anchor) & (t[:, 1] == relation), 2]
    return t[(t[:, 2] == anchor) & (t[:, 1] == relation), 0]


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


# --- ordered candidate lists for display (the Predictions view, `kgviz predict`, What-if, Classroom) ---

TIER_NOTES = {0: "", 1: "other side only", 2: "own entity (excluded)"}  # the mark of each constraint's tier


@dataclass
class Candidate:
    """One ranked answer. Scores are means over the draws; ``seed_ranks`` its rank under each draw."""

    rank: int
    entity: int
    name: str
    score: float
    score_std: float
    known: bool
    seed_ranks: list[int] = field(default_factory=list)
    rank_min: int = field(init=False)  # the best (smallest) rank over the draws
    rank_max: int = field(init=False)  # the worst (largest) rank over the draws

    def __post_init__(self) -> None:
        self.rank_min = min(self.seed_ranks, default=self.rank)
        self.rank_max = max(self.seed_ranks, default=self.rank)


@dataclass
class RankedCandidate(Candidate):
    """A :class:`Candidate` of a constrained ranking (``seed_ranks`` under the same tiers)."""

    probability: float = 0.0  # softmax of the mean scores over the first tier's candidates; 0 in a later tier
    tier: int = 0  # 0 kept, 1 seen only on the other side of the relation, 2 the query's own entity
    frequency_rank: int = 0  # rank under relation-tail (head) frequency, same candidates
    frequency_count: int = 0  # how often it fills the query's side of the relation in the KG

    @property
    def note(self) -> str:
        return TIER_NOTES[self.tier]

    @property
    def marks(self) -> list[str]:
        """The constraints that moved this candidate (empty when none did)."""
        return [self.note] if self.tier else []


@dataclass
class QueryRanking:
    """Every candidate of one query, best first, and what a reader needs to judge it."""

    candidates: list[RankedCandidate]
    seeds: tuple[int, ...]  # the scorer's draws (empty for a scorer without draws)
    exclude_self: bool
    known_side: bool
    frequency: Any  # kgviz.models.counting_scores.FrequencyComparison
    mean: Tensor  # (N,) float64 mean score over the draws
    tiers: Tensor  # (N,) int64
    known: np.ndarray  # (N,) bool
    model: str = ""

    def rank_of(self, entity: int, filtered: bool = True) -> int:
        """Rank of ``entity`` by ``(tier, mean score)``, the spec's tie rule; ``filtered`` removes other known answers."""
        from kgviz.ranking.constraints import tiered_rank

        n = len(self.known)
        mask = torch.from_numpy(self.known).unsqueeze(0) if filtered else torch.zeros(1, n, dtype=torch.bool)
        return int(tiered_rank(self.mean.unsqueeze(0), torch.tensor([entity]), mask, self.tiers.unsqueeze(0))[0])

    def position_of(self, name: str) -> int | None:
        """The table row (1-based) of the candidate called ``name``, if listed."""
        return next((c.rank for c in self.candidates if c.name == name), None)


def _draw_scores(scorer: Any, graph: Any, anchor: int, relation: int, direction: str) -> Tensor:
    """``(K, N)`` float64 scores of one query under each draw (``K = 1`` for a scorer without draws)."""
    a, r = torch.tensor([anchor]), torch.tensor([relation])
    if getattr(scorer, "capabilities", None) is not None and scorer.capabilities.draws:
        return scorer.draw_scores(graph, a, r, direction)[:, 0].double()
    return scorer.scores(graph, a, r, direction).double()


def rank_query(
    scorer: Any,
    anchor: str | int,
    relation: str | int,
    direction: str = "tail",
    *,
    graph: Any = None,
    exclude_self: bool = True,
    known_side: bool = True,
    filter_known: bool = False,
    top_k: int = 10,
    temperature: float = 1.0,
) -> QueryRanking:
    """Rank every candidate of ``(anchor, relation, ?)`` (``direction="tail"``) or ``(?, relation, anchor)``.

    ``scorer``: a :class:`kgviz.models.base.Scorer` scoring ``graph``, or a :class:`kgviz.models.ingram.predictor.Predictor`
    (its scorer and KG). Order: tier ascending (:func:`kgviz.ranking.constraints.constraint_tiers`: 0 kept,
    1 never on the query's side of ``r`` when ``known_side``, 2 the anchor when ``exclude_self``), then the
    mean score over the draws descending (stable). ``filter_known`` drops candidates that already form a
    triple of the KG. ``seed_ranks``: ranks under each single draw, same tiers and candidates (tie rule).
    Probability ``p(e) = exp(s̄_e / T) / Σ_e' exp(s̄_e' / T)`` with ``s̄`` the score *averaged* over the draws,
    ``T`` the ``temperature`` (1: uncalibrated; a fitted one from :mod:`kgviz.evaluation.leaderboard.calibration`), over
    the candidates of the first tier present (0 for those the constraints put after them).
    ``top_k``: the size of the top that the frequency verdict compares.
    """
    from kgviz.ranking.constraints import constraint_tiers, demote
    from kgviz.models.counting_scores import compare_with_frequency
    from kgviz.models.ingram.predictor import resolve

    if direction not in ("tail", "head"):
        raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
    if graph is None:
        scorer, graph = scorer.scorer, scorer.kg  # a Predictor
    a, r = resolve(anchor, graph.entity_index, "entity"), resolve(relation, graph.relation_index, "relation")
    per_draw = _draw_scores(scorer, graph, a, r, direction)  # (K, N)
    mean = per_draw.mean(0)
    std = per_draw.std(0, unbiased=False) if len(per_draw) > 1 else torch.zeros_like(mean)
    n = graph.num_entities
    tiers = constraint_tiers(
        graph.triples,
        n,
        graph.num_relations,
        np.array([a]),
        np.array([r]),
        direction,
        exclude_self=exclude_self,
        known_side=known_side,
    )[0]
    known = np.zeros(n, dtype=bool)
    known[known_answers(graph.triples, a, r, direction)] = True
    cand = torch.from_numpy(np.flatnonzero(~known) if filter_known else np.arange(n))
    key = demote(mean[cand].unsqueeze(0), tiers[cand].unsqueeze(0))[0]
    order = cand[torch.argsort(key, descending=True, stable=True)]  # entity ids, best first
    seed_rank = all_ranks(demote(per_draw[:, order], tiers[order].expand(len(per_draw), -1)))  # (K, C)
    front = tiers[order] == tiers[order].min() if len(order) else tiers[order] < 0  # the tier ranked first
    prob = torch.zeros(len(order), dtype=torch.float64)
    prob[front] = torch.softmax(mean[order][front] / temperature, 0)
    draws = getattr(scorer, "capabilities", None) is None or scorer.capabilities.draws  # a Predictor: InGram
    freq = compare_with_frequency(graph, r, direction, order.tolist(), top_k, "InGram" if draws else scorer.name)
    names = graph.entities
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
    seeds = tuple(getattr(scorer, "seeds", ()))
    name = str(getattr(scorer, "name", ""))
    return QueryRanking(rows, seeds, exclude_self, known_side, freq, mean, tiers, known, name)
