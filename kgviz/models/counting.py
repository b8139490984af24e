"""The counting baselines as scorers (:class:`~kgviz.models.base.Scorer`, ``needs = Needs.NOTHING``).

Each scores from the known graph's triples alone (:mod:`kgviz.models.counting_scores`), never from a query's answer:

- ``frequency`` — relation-side frequency: ``s(e) = #{(·, r, e)}`` for a tail query, ``#{(e, r, ·)}`` for a head query;
- ``degree`` — ``s(e) = #{(e, ·, ·)} + #{(·, ·, e)}``, the same for every query;
- ``pagerank`` — personalized PageRank from the anchor, ``π = α·1_a + (1 − α)·Wᵀπ``, α = 0.15, relations ignored.

The shared counts of one graph are computed once per graph content (:class:`kgviz.models.counting_scores.Baselines`).
"""

from __future__ import annotations

from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.counting_scores import BASELINES, Baselines
from kgviz.models.base import Capabilities, Needs, QueryDirection, check_direction

__all__ = ["CountingScorer", "COUNTING_SCORERS"]

# registry name → the baseline's name in kgviz.models.counting_scores.BASELINES
COUNTING_SCORERS = {
    "frequency": "relation-tail frequency",
    "degree": "global degree",
    "pagerank": "personalized PageRank",
}


class CountingScorer:
    """One baseline of :data:`kgviz.models.counting_scores.BASELINES` behind the scorer interface."""

    needs = Needs.NOTHING
    capabilities = Capabilities()

    def __init__(self, baseline: str):
        if baseline in COUNTING_SCORERS:
            baseline = COUNTING_SCORERS[baseline]
        if baseline not in BASELINES:
            raise ValueError(f"unknown counting baseline {baseline!r}; known: {', '.join(COUNTING_SCORERS)}")
        self.name = baseline
        self._cache: tuple[str, Baselines] | None = None

    def _baselines(self, graph: KnowledgeGraph) -> Baselines:
        if self._cache is None or self._cache[0] != graph.fingerprint:
            self._cache = (graph.fingerprint, Baselines(graph.triples, graph.num_entities, graph.num_relations))
        return self._cache[1]

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        """``(Q, N)`` float32 CPU scores (see the module docstring)."""
        check_direction(direction)
        return self._baselines(graph).scores(self.name, anchors, relations, direction).float().contiguous()
