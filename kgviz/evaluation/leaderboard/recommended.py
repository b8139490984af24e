"""The recommended ranking of a KG as a scorer: it ranks through :func:`kgviz.ranking.ranks.rank_query` like any model.

:class:`RecommendedScorer` (a :class:`kgviz.models.base.Scorer`) holds member scorers ``i`` with weights
``w_i`` fit on validation facts (:func:`.recommend.choose`). For one member it returns that member's
scores unchanged; for several::

    S[q, e] = Σ_i w_i · z_i[q, e],   z_i[q, e] = (s_i[q, e] − mean_e s_i[q]) / std_e s_i[q]

(:func:`.recommend.normalise` over all entities, ``-inf`` lowered first). Its constraint variant
(``exclude_self``, ``known_side``) and temperature ``T`` (``p = softmax(S / T)``, fit on validation facts,
:mod:`.calibration`) go with it. :func:`recommended_scorer` fits the members on the whole KG (the
trained ones within a budget) — for predicting facts the KG does not hold.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.base import Capabilities, Needs, QueryDirection, Scorer, check_direction
from kgviz.evaluation.leaderboard.protocol import VARIANTS, Cancel, Cancelled
from kgviz.evaluation.leaderboard.recommend import combine, normalise
from kgviz.evaluation.leaderboard.scorers import ScorerSpec

__all__ = ["RecommendedScorer", "recommended_scorer"]


class RecommendedScorer:
    """A weighted sum of normalised member scores (module docstring); ``(Q, N)`` float32 CPU scores."""

    capabilities = Capabilities()

    def __init__(
        self,
        members: dict[str, Scorer],
        weights: dict[str, float],
        variant: str = "",
        temperature: float = 1.0,
        name: str = "recommended",
    ):
        if set(weights) - set(members):
            raise ValueError(f"no member scorer for {sorted(set(weights) - set(members))}")
        if not any(weights.values()):
            raise ValueError("a recommended ranking needs at least one non-zero weight")
        self.members, self.weights, self.variant = members, dict(weights), variant
        self.temperature, self.name = float(temperature), name
        needs = {members[n].needs for n in weights}
        self.needs = next((x for x in (Needs.TRAINING, Needs.WEIGHTS) if x in needs), Needs.NOTHING)

    @property
    def exclude_self(self) -> bool:
        return VARIANTS[self.variant][0]

    @property
    def known_side(self) -> bool:
        return VARIANTS[self.variant][1]

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        check_direction(direction)
        raw = {n: self.members[n].scores(graph, anchors, relations, direction).float() for n in self.weights}
        if len(raw) == 1:
            return next(iter(raw.values()))
        return combine({n: normalise(s) for n, s in raw.items()}, self.weights).float()


def recommended_scorer(
    board,
    kg: KnowledgeGraph,
    specs: Sequence[ScorerSpec],
    *,
    budget_s: float,
    cancel: Cancel | None = None,
) -> RecommendedScorer:
    """``board``'s recommendation (:class:`.board.Leaderboard`) with its members fit on all of ``kg``.

    Trained members share ``budget_s`` seconds; the temperature is ``board.calibration["recommended"]``.
    """
    rec = board.recommendation
    by_name = {s.name: s for s in specs}
    trained = [n for n in rec.weights if by_name[n].trains]
    per_model = budget_s / max(1, len(trained))

    def hook(_) -> None:
        if cancel is not None and cancel():
            raise Cancelled("leaderboard cancelled")

    members = {n: by_name[n].make(kg, per_model, hook) for n in rec.weights}
    with torch.no_grad():
        return RecommendedScorer(members, rec.weights, rec.variant, board.calibration["recommended"]["temperature"])
