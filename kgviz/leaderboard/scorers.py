"""Thin local adapters: the scorers a leaderboard ranks, each behind the :mod:`kgviz.models.base` protocol.

A :class:`ScorerSpec` says how to get a scorer for a known graph: ``make(known, budget_s)``. Scorers
that need nothing (counting) or only weights (InGram zero-shot) ignore ``known`` and ``budget_s``;
scorers that need training (:attr:`Needs.TRAINING`) are trained on ``known``'s triples only, for at
most ``budget_s`` seconds, one thread. This module is a stand-in for the model registry of
:mod:`kgviz.models`: the lead may replace :func:`default_specs` with the registry's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import Tensor

from ..baselines.common import TrainedModel, TrainOptions, TrainProgress
from ..data import KnowledgeGraph
from ..heuristics import Baselines
from ..models.base import Capabilities, Needs, QueryDirection, Scorer, check_direction

__all__ = [
    "COUNTING",
    "CountingScorer",
    "TrainedScorer",
    "ScorerSpec",
    "spec_of",
    "counting_spec",
    "pagerank_spec",
    "ingram_spec",
    "trained_spec",
    "default_specs",
    "DEFAULT_TRAINED",
]

COUNTING = "relation-side frequency"
PAGERANK = "personalized PageRank"
DEFAULT_TRAINED = ("distmult", "rotate")  # each wins on some held-out KGs (issue 29)
TRAINED_LABELS = {
    "transe": "TransE",
    "transr": "TransR",
    "distmult": "DistMult",
    "complex": "ComplEx",
    "rotate": "RotatE",
    "rgcn": "R-GCN",
}
TrainHook = Callable[[TrainProgress], None]


class CountingScorer:
    """A baseline of :mod:`kgviz.heuristics` on whatever graph it is asked about (its counts cached per graph).

    ``relation-side frequency``: ``s(e) = #{(·, r, e)}`` (tail query), ``#{(e, r, ·)}`` (head query);
    ``personalized PageRank``: random walk with restart from the anchor, relations ignored.
    """

    needs = Needs.NOTHING
    capabilities = Capabilities()

    def __init__(self, name: str, baseline: str):
        self.name, self.baseline = name, baseline
        self._cache: tuple[KnowledgeGraph, Baselines] | None = None

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        check_direction(direction)
        if self._cache is None or self._cache[0] is not graph:
            self._cache = (graph, Baselines(graph.triples, graph.num_entities, graph.num_relations))
        return self._cache[1].scores(self.baseline, anchors, relations, direction).float()


class TrainedScorer:
    """A :class:`~kgviz.baselines.common.TrainedModel` as a :class:`Scorer`.

    A query whose anchor or relation has no vector (never in the training triples) gets a row of
    ``-inf``: every candidate ties, so its answer lands in the middle (the tie rule), not first.
    """

    capabilities = Capabilities()

    def __init__(self, model: TrainedModel, name: str, needs: Needs):
        self.model, self.name, self.needs = model, name, needs

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        check_direction(direction)
        ent, rel = self.model.entity_map(graph), self.model.relation_map(graph)
        ok = (ent[anchors] >= 0) & (rel[relations] >= 0)
        out = torch.full((len(anchors), graph.num_entities), float("-inf"))
        if ok.any():
            out[ok] = self.model.scores(graph, anchors[ok], relations[ok], direction)
        return out


@dataclass(frozen=True)
class ScorerSpec:
    """How to get scorer ``name`` for a known graph: ``make(known, budget_s, train_hook) -> Scorer``."""

    name: str
    needs: Needs
    make: Callable[[KnowledgeGraph, float, TrainHook | None], Scorer]

    @property
    def trains(self) -> bool:
        return self.needs is Needs.TRAINING


def spec_of(scorer: Scorer) -> ScorerSpec:
    """Any ready scorer of the :mod:`kgviz.models.base` protocol (zero-shot or counting: it does not
    train on the known graph) as a spec, e.g. an entry of the model registry or ULTRA."""
    if scorer.needs is Needs.TRAINING:
        raise ValueError(f"{scorer.name} needs training on each fold's known facts: give a ScorerSpec that trains it")
    return ScorerSpec(scorer.name, scorer.needs, lambda known, budget, hook: scorer)


def counting_spec() -> ScorerSpec:
    """Relation-side frequency (counting): how often each entity fills the query's side of its relation."""
    scorer = CountingScorer(COUNTING, "relation-tail frequency")
    return ScorerSpec(COUNTING, Needs.NOTHING, lambda known, budget, hook: scorer)


def pagerank_spec() -> ScorerSpec:
    """Personalized PageRank from the query's anchor (α = 0.15)."""
    scorer = CountingScorer(PAGERANK, "personalized PageRank")
    return ScorerSpec(PAGERANK, Needs.NOTHING, lambda known, budget, hook: scorer)


def ingram_spec(checkpoint: str | Path, seeds: Sequence[int] = (100, 101, 102), device: str = "auto") -> ScorerSpec:
    """An InGram checkpoint zero-shot, scores averaged over the draws ``seeds`` (loaded once, on first use)."""
    from ..baselines.ingram import load_ingram

    name = f"InGram {Path(checkpoint).name}"
    held: list[Scorer] = []

    def make(known: KnowledgeGraph, budget: float, hook: TrainHook | None) -> Scorer:
        if not held:
            held.append(TrainedScorer(load_ingram(checkpoint, seeds=tuple(seeds), device=device), name, Needs.WEIGHTS))
        return held[0]

    return ScorerSpec(name, Needs.WEIGHTS, make)


def trained_spec(model: str, *, seed: int = 0, dim: int = 64, device: str = "auto") -> ScorerSpec:
    """Model ``model`` of :data:`kgviz.baselines.TRAINED_MODELS`, trained on the known graph within the budget."""
    from ..baselines import get_model

    def make(known: KnowledgeGraph, budget: float, hook: TrainHook | None) -> Scorer:
        options = TrainOptions(dim=dim, time_budget_s=budget, seed=seed, threads=1, device=device, progress_bar=False)
        trained = get_model(model, known, options, progress=hook)
        return TrainedScorer(trained, trained.name, Needs.TRAINING)

    return ScorerSpec(TRAINED_LABELS.get(model, model), Needs.TRAINING, make)


def default_specs(
    checkpoints: Sequence[str | Path] | None = None,
    trained: Sequence[str] = DEFAULT_TRAINED,
    *,
    seeds: Sequence[int] = (100, 101, 102),
    device: str = "auto",
) -> list[ScorerSpec]:
    """Counting, PageRank, every shipped InGram checkpoint (``checkpoints`` ``None``: those of
    :data:`kgviz.pretrained.DEFAULT_MODELS` that are present) and the ``trained`` models."""
    from ..pretrained import DEFAULT_MODELS, pretrained_dir

    if checkpoints is None:
        checkpoints = [pretrained_dir() / n for n in DEFAULT_MODELS if (pretrained_dir() / n / "config.json").is_file()]
    return [
        counting_spec(),
        pagerank_spec(),
        *(ingram_spec(c, seeds, device) for c in checkpoints),
        *(trained_spec(m, device=device) for m in trained),
    ]
