"""InGram as a :class:`~kgviz.models.base.DrawScorer`: the one place its forward pass runs outside training.

InGram has no embedding tables: entity and relation vectors come from a forward pass over the known
graph ``G`` starting from random features (spec §3), one pass per draw ``k``::

    (x_k, z_k) = InGram(x⁰_k, z⁰_k, G)        S_k[q, e] = ⟨x_k[a_q], W z_k[r_q], x_k[e]⟩

(DistMult-like, so ``f(a, r, e) = f(e, r, a)``: head and tail queries score alike), and
``scores = mean_k S_k``. Embeddings are kept per graph (by :attr:`KnowledgeGraph.fingerprint`).

The self-check's folds (:mod:`kgviz.evaluation.selfcheck`) run here too: :func:`fold_embeddings` pushes the
disjoint union of many fold graphs through one pass (:func:`fold_unions`), which gives each fold exactly
its own embeddings since InGram's layers pass messages along edges only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import graph_tensors, pick_device, seeded_features
from kgviz.models.ingram.network import InGram, InGramConfig, untrained_ingram
from kgviz.models.base import Capabilities, Needs, QueryDirection, check_direction

__all__ = [
    "InGramScorer",
    "FeatureDraw",
    "forward_draws",
    "forward_seconds",
    "untrained_ingram_scorer",
    "INGRAM_CAPABILITIES",
    "FoldUnion",
    "fold_unions",
    "fold_embeddings",
]

Embeddings = tuple[Tensor, Tensor]  # (entity (N, d̂), relation (2R, d)) on the scorer's device
FeatureDraw = Callable[[KnowledgeGraph, int], tuple[Tensor, Tensor]]  # (graph, seed) → (x⁰, z⁰)
INGRAM_CAPABILITIES = Capabilities(draws=True, attention=True, relation_graph=True, adaptation=True)
UNION_TRIPLES = 60_000  # triples per forward pass over a union of fold graphs (bounds memory)


def forward_draws(
    model: InGram,
    graph: KnowledgeGraph,
    seeds: Sequence[int],
    device: torch.device | str,
    features: FeatureDraw | None = None,
    num_bin: int | None = None,
) -> list[Embeddings]:
    """One forward pass of ``model`` over ``graph`` per seed: ``[(ent (N, d̂), rel (2R, d))]``.

    ``features(graph, seed)`` gives the initial features (default :func:`kgviz.models.ingram.predictor.seeded_features`)."""
    g = graph_tensors(graph, num_bin or model.num_bin, device)
    draw = features or (lambda kg, s: seeded_features(model, kg, s, device))
    with torch.no_grad():
        return [model(*draw(graph, s), g.triplets, g.relation_triplets) for s in seeds]


class InGramScorer:
    """An InGram (trained or not) scoring any known graph, one forward pass per seed.

    Args:
        model: the network (a copy is moved to ``device`` and put in eval mode when needed).
        seeds: the draws; ``scores`` averages over them.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` …
        name: what tables call it.
        features: ``(graph, seed) → (x⁰, z⁰)`` initial features (default: the seeded draw);
            what-if aligns them with a base KG, a stored draw replaces them.
        needs: :attr:`Needs.WEIGHTS` for a checkpoint, :attr:`Needs.NOTHING` for random weights.
    """

    capabilities = INGRAM_CAPABILITIES

    def __init__(
        self,
        model: InGram,
        *,
        seeds: Sequence[int] = (0,),
        device: str | torch.device = "auto",
        name: str = "InGram",
        features: FeatureDraw | None = None,
        needs: Needs = Needs.WEIGHTS,
        num_bin: int | None = None,
    ):
        if not len(seeds):
            raise ValueError("at least one seed is needed")
        self.device = pick_device(device)
        here = next(model.parameters()).device
        if (here.type, here.index or 0) != (self.device.type, self.device.index or 0):
            model = copy.deepcopy(model).to(self.device)  # never move the caller's (maybe shared) model
        if model.training:
            model = copy.deepcopy(model).eval()
        self.model, self.seeds, self.name, self.needs = model, tuple(int(s) for s in seeds), name, needs
        self.features, self.num_bin = features, num_bin
        self._cache: tuple[str, list[Embeddings]] | None = None

    def embeddings(self, graph: KnowledgeGraph) -> list[Embeddings]:
        """The forward pass of every draw over ``graph`` (computed once per graph content)."""
        if self._cache is None or self._cache[0] != graph.fingerprint:
            self._cache = (
                graph.fingerprint,
                forward_draws(self.model, graph, self.seeds, self.device, self.features, self.num_bin),
            )
        return self._cache[1]

    def draw_scores(
        self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection
    ) -> Tensor:
        """``(K, Q, N)`` float32 CPU: ``S_k[q, e] = f_k(a_q, r_q, e)`` (= ``f_k(e, r_q, a_q)``, so both directions)."""
        check_direction(direction)
        a, r = anchors.to(self.device), relations.to(self.device)
        with torch.no_grad():
            return torch.stack(
                [self.model.score_all_tails(ent, rel, a, r).float() for ent, rel in self.embeddings(graph)]
            ).cpu()

    def scores(self, graph: KnowledgeGraph, anchors: Tensor, relations: Tensor, direction: QueryDirection) -> Tensor:
        """``(Q, N)`` float32 CPU: the mean over the draws of :meth:`draw_scores`."""
        return self.draw_scores(graph, anchors, relations, direction).mean(0)


def untrained_ingram_scorer(
    weight_seed: int = 0,
    *,
    seeds: Sequence[int] = (0,),
    device: str | torch.device = "auto",
    config: InGramConfig | None = None,
) -> InGramScorer:
    """An InGram of ``config``'s shape (default: the default configuration) with random weights drawn with
    ``weight_seed`` (the authors' initialisation): what the architecture gives from structure alone."""
    model = untrained_ingram(config, weight_seed)
    return InGramScorer(model, seeds=seeds, device=device, name="InGram (untrained)", needs=Needs.NOTHING)


def forward_seconds(model: InGram, kg: KnowledgeGraph, device: str | torch.device = "auto", repeats: int = 3) -> float:
    """Seconds of one forward pass of ``model`` over ``kg`` (best of ``repeats``, graph inputs built once).
    For benchmarks only: the number of draws is fixed (:data:`kgviz.defaults.DRAWS`), never timed."""
    import time

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


@dataclass
class FoldUnion:
    """Model inputs of the disjoint union of fold graphs ``first … first + count − 1``."""

    first: int
    count: int
    triplets: Tensor  # (Σ 2M_i, 3), fold i's entities offset by i·N, relations by i·2R
    relation_triplets: Tensor  # (Σ E_i, 3), bins computed within each fold


def fold_unions(graphs: Sequence[KnowledgeGraph], num_bin: int, device: torch.device) -> list[FoldUnion]:
    """Group the fold graphs (one vocabulary) into unions of at most :data:`UNION_TRIPLES` triples."""
    n, n_rel = graphs[0].num_entities, 2 * graphs[0].num_relations
    out, start = [], 0
    while start < len(graphs):
        stop, size = start, 0
        while stop < len(graphs) and (stop == start or size + graphs[stop].num_triples <= UNION_TRIPLES):
            size += graphs[stop].num_triples
            stop += 1
        parts = [graph_tensors(g, num_bin, device) for g in graphs[start:stop]]
        shift = lambda i, a, b, c: torch.tensor([a * i, b * i, c * i], device=device)  # noqa: E731
        out.append(
            FoldUnion(
                start,
                stop - start,
                torch.cat([p.triplets + shift(i, n, n_rel, n) for i, p in enumerate(parts)]),
                torch.cat([p.relation_triplets + shift(i, n_rel, n_rel, 0) for i, p in enumerate(parts)]),
            )
        )
        start = stop
    return out


def fold_embeddings(
    model: InGram,
    graphs: Sequence[KnowledgeGraph],
    seed: int,
    device: torch.device,
    unions: Sequence[FoldUnion] | None = None,
) -> list[tuple[Tensor, Tensor]]:
    """``(ent (N, d̂), rel (2R, d))`` of each fold graph for draw ``seed``: one forward pass per
    union (:func:`fold_unions`, built here unless given), the draw's features repeated per fold."""
    n, n_rel = graphs[0].num_entities, 2 * graphs[0].num_relations
    x0, z0 = seeded_features(model, graphs[0], seed, device)
    out: list[tuple[Tensor, Tensor]] = []
    for u in unions if unions is not None else fold_unions(graphs, model.num_bin, device):
        with torch.no_grad():
            ent, rel = model(x0.repeat(u.count, 1), z0.repeat(u.count, 1), u.triplets, u.relation_triplets)
        out += [(ent[i * n : (i + 1) * n], rel[i * n_rel : (i + 1) * n_rel]) for i in range(u.count)]
    return out
