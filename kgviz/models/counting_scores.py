"""Baselines that rank candidates from the known facts alone (constraints: :mod:`kgviz.ranking.constraints`).

Queries are ``(anchor, relation, direction)``: a *tail* query ``(a, r, ?)`` or a *head* query
``(?, r, a)``. ``direction`` is ``"tail"``, ``"head"`` or a boolean array ``(Q,)`` that is True
for tail queries (as :class:`kgviz.evaluation.benchmark.QuerySet`: the first ``num_tail_queries`` rows).
Every baseline returns a ``(Q, N)`` float64 score tensor (higher = better), computed from the KG's
triples ``(M, 3)`` only — never from the queries' answers:

- :func:`relation_frequency` — ``s(e) = #{(·, r, e)}`` for tail queries, ``#{(e, r, ·)}`` for heads;
- :func:`degree_scores` — ``s(e) = #`` triple ends at ``e`` (the same row for every query);
- :func:`personalized_pagerank` — ``π = α·1_a + (1 − α)·Wᵀπ`` on the undirected entity graph;
- :func:`untrained_ingram_scores` — an InGram of a given shape with random weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.network import InGram, InGramConfig, untrained_ingram

__all__ = [
    "tail_flags",
    "relation_frequency",
    "degree_scores",
    "personalized_pagerank",
    "pagerank_rows",
    "Baselines",
    "untrained_ingrams",
    "untrained_ingram_scores",
    "side_counts",
    "BASELINES",
    "FrequencyComparison",
    "compare_with_frequency",
]

DENSE_PAGERANK = 512  # entities up to which the PageRank walk matrix is dense
Direction = str | np.ndarray | Tensor | Sequence[bool]


def tail_flags(direction: Direction, num_queries: int) -> np.ndarray:
    """``(Q,)`` bool: True for a tail query ``(a, r, ?)``, False for a head query ``(?, r, a)``."""
    if isinstance(direction, str):
        if direction not in ("tail", "head"):
            raise ValueError(f"direction must be 'tail' or 'head', not {direction!r}")
        return np.full(num_queries, direction == "tail")
    flags = np.asarray(direction.cpu() if isinstance(direction, Tensor) else direction, dtype=bool)
    if flags.shape != (num_queries,):
        raise ValueError(f"direction flags have shape {flags.shape}, the queries need ({num_queries},)")
    return flags


def id_array(x: np.ndarray | Tensor | Sequence[int]) -> np.ndarray:
    """Entity or relation ids as a flat ``int64`` array (from an array, tensor or sequence)."""
    return np.asarray(x.cpu() if isinstance(x, Tensor) else x, dtype=np.int64).reshape(-1)


def side_counts(triples: np.ndarray, num_entities: int, num_relations: int) -> tuple[np.ndarray, np.ndarray]:
    """``(tails, heads)``, each ``(R, N)``: ``tails[r, e] = #{(·, r, e)}``, ``heads[r, e] = #{(e, r, ·)}``."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    ones = np.ones(len(t))
    shape = (num_relations, num_entities)
    tails = sp.coo_matrix((ones, (t[:, 1], t[:, 2])), shape=shape).toarray()
    heads = sp.coo_matrix((ones, (t[:, 1], t[:, 0])), shape=shape).toarray()
    return tails, heads


def relation_frequency(
    triples: np.ndarray, num_entities: int, num_relations: int, relations: np.ndarray | Tensor, direction: Direction
) -> Tensor:
    """How often each entity fills the query's side of its relation: ``(Q, N)``.

    Tail query ``(a, r, ?)``: ``s(e) = #{(x, r, e) ∈ KG}``; head query ``(?, r, a)``:
    ``s(e) = #{(e, r, x) ∈ KG}``. The anchor plays no part.
    """
    rel = id_array(relations)
    return Baselines(triples, num_entities, num_relations).scores("relation-tail frequency", rel, rel, direction)


def degree_scores(triples: np.ndarray, num_entities: int, num_queries: int) -> Tensor:
    """Global degree, the same for every query: ``s(e) = #{(e, ·, ·)} + #{(·, ·, e)}``, ``(Q, N)``."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    deg = np.bincount(t[:, 0], minlength=num_entities) + np.bincount(t[:, 2], minlength=num_entities)
    return torch.from_numpy(deg.astype(np.float64)).expand(num_queries, -1)


def pagerank_rows(
    triples: np.ndarray,
    num_entities: int,
    sources: np.ndarray,
    *,
    restart: float = 0.15,
    tol: float = 1e-6,
    dtype: type = np.float32,
) -> np.ndarray:
    """Personalized PageRank vectors of ``sources (U,)`` on the undirected entity graph: ``(U, N)``.

    ``A[u, v]`` counts the triples joining ``u`` and ``v`` (either direction, relations ignored),
    ``W = D⁻¹A``; power iteration of ``Π ← α·S + (1 − α)·(WᵀΠ + S·dangling(Π))`` for all sources
    at once (``S (N, U)`` one-hot; an entity without triples returns its mass to the source),
    ``α = restart``. The map contracts by ``1 − α`` in L1, so ``⌈log(tol/2) / log(1 − α)⌉``
    iterations bring every column within ``tol`` (L1) of the fixed point.
    """
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    n, src = num_entities, np.asarray(sources, dtype=np.int64).reshape(-1)
    ends = (np.concatenate([t[:, 0], t[:, 2]]), np.concatenate([t[:, 2], t[:, 0]]))
    adj = sp.coo_matrix((np.ones(2 * len(t)), ends), shape=(n, n)).tocsr()
    deg = np.asarray(adj.sum(1)).ravel()
    dangling = deg == 0
    walk_t = (sp.diags(np.where(dangling, 0.0, 1.0 / np.maximum(deg, 1))) @ adj).T.tocsr().astype(dtype)  # Wᵀ
    if n <= DENSE_PAGERANK:
        walk_t = walk_t.toarray()  # small graphs: a dense product beats scipy's per-call overhead
    source: np.ndarray = np.zeros((n, len(src)), dtype=dtype)
    source[src, np.arange(len(src))] = 1.0
    pi = source.copy()
    for _ in range(math.ceil(math.log(tol / 2) / math.log(1 - restart))):
        lost = pi[dangling].sum(0, keepdims=True) if dangling.any() else 0.0  # (1, U) mass at isolated entities
        pi = restart * source + (1 - restart) * (walk_t @ pi + source * lost)
    return np.ascontiguousarray(pi.T)


def personalized_pagerank(
    triples: np.ndarray,
    num_entities: int,
    anchors: np.ndarray | Tensor,
    *,
    restart: float = 0.15,
    tol: float = 1e-6,
    dtype: type = np.float32,
) -> Tensor:
    """Personalized PageRank from each query's anchor (:func:`pagerank_rows`, once per distinct anchor): ``(Q, N)``."""
    uniq, inverse = np.unique(id_array(anchors), return_inverse=True)
    rows = pagerank_rows(triples, num_entities, uniq, restart=restart, tol=tol, dtype=dtype)
    return torch.from_numpy(rows[inverse]).double()


class Baselines:
    """The baselines of one KG, with what they share computed once (side counts, degrees, PageRank rows).

    ``scores(name, anchors, relations, direction)`` gives the ``(Q, N)`` scores of a baseline of
    :data:`BASELINES`; PageRank rows are cached per anchor (:meth:`warm` computes many at once).
    """

    def __init__(self, triples: np.ndarray, num_entities: int, num_relations: int):
        self.triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
        self.num_entities, self.num_relations = num_entities, num_relations
        self.tails, self.heads = side_counts(self.triples, num_entities, num_relations)
        self.degree = degree_scores(self.triples, num_entities, 1)[0].numpy()
        self._pagerank: dict[int, np.ndarray] = {}

    def warm(self, anchors: np.ndarray | Tensor) -> None:
        """Compute the PageRank rows of every anchor not cached yet, in one power iteration."""
        todo = np.setdiff1d(id_array(anchors), np.fromiter(self._pagerank, dtype=np.int64))
        if len(todo):
            self._pagerank.update(zip(todo.tolist(), pagerank_rows(self.triples, self.num_entities, todo)))

    def scores(
        self, name: str, anchors: np.ndarray | Tensor, relations: np.ndarray | Tensor, direction: Direction
    ) -> Tensor:
        rel, anchor = id_array(relations), id_array(anchors)
        if name == "relation-tail frequency":
            is_tail = tail_flags(direction, len(rel))
            return torch.from_numpy(np.where(is_tail[:, None], self.tails[rel], self.heads[rel]))
        if name == "global degree":
            return torch.from_numpy(self.degree).expand(len(anchor), -1)
        if name == "personalized PageRank":
            self.warm(anchor)
            return torch.from_numpy(
                np.stack([self._pagerank[a] for a in anchor.tolist()]).reshape(len(anchor), self.num_entities)
            ).double()
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")


def untrained_ingrams(config: InGramConfig, weight_seeds: Sequence[int] = (0, 1, 2)) -> list[InGram]:
    """InGrams of ``config``'s shape with random weights, one per seed (:func:`kgviz.models.ingram.network.untrained_ingram`)."""
    return [untrained_ingram(config, ws) for ws in weight_seeds]


def untrained_ingram_scores(
    config: InGramConfig,
    graph_triples: tuple[Tensor, Tensor],
    num_entities: int,
    num_relations: int,
    anchors: Tensor,
    relations: Tensor,
    *,
    weight_seeds: Sequence[int] = (0, 1, 2),
    draw_seed: int = 0,
    device: torch.device | str = "cpu",
) -> Tensor:
    """Mean over ``weight_seeds`` of the scores of an InGram of ``config``'s shape with random weights.

    Each model (:func:`untrained_ingrams`) runs one forward pass from the features of ``draw_seed``
    over ``graph_triples`` = ``(augmented triples, binned relation-graph edges)``
    (:func:`kgviz.models.ingram.predictor.graph_tensors`) and scores ``f(a, r, e) = ⟨x_a, W z_r, x_e⟩``
    (symmetric, so both directions alike): ``(Q, N)``. What the architecture gives from structure
    alone, before any training.
    """
    from kgviz.models.ingram.network import initial_features

    total = torch.zeros(len(anchors), num_entities, dtype=torch.float64)
    for model in untrained_ingrams(config, weight_seeds):
        model = model.to(device)
        feats = initial_features(
            num_entities,
            num_relations,
            model.dim_ent,
            model.dim_rel,
            torch.Generator().manual_seed(int(draw_seed)),
            device,
        )
        with torch.no_grad():
            ent, rel = model(*feats, *graph_triples)
            total += model.score_all_tails(ent, rel, anchors.to(device), relations.to(device)).double().cpu()
    return total / len(weight_seeds)


BASELINES = {
    "relation-tail frequency": "how often each entity is a tail of the query relation (head for head "
    "queries) in the known facts",
    "global degree": "number of known triples at each entity",
    "personalized PageRank": "random walk with restart (α = 0.15) from the query entity, relations ignored",
}


@dataclass
class FrequencyComparison:
    """InGram's ranking beside relation-tail frequency for one query (:func:`compare_with_frequency`)."""

    ranks: dict[int, int]  # entity id → rank under relation-tail frequency (spec tie rule, same candidates)
    counts: dict[int, int]  # entity id → how often it is a tail (head) of the relation in the KG
    agree: bool  # every entity of InGram's top k is within the heuristic's top k
    verdict: str  # one line, for a reader


def compare_with_frequency(
    kg: KnowledgeGraph, relation: int, direction: str, ranked: Sequence[int], top_k: int, model: str = "InGram"
) -> FrequencyComparison:
    """Compare ``model``'s order ``ranked`` (every candidate's entity id, best first — e.g. known answers
    left out) with relation-tail frequency (:func:`relation_frequency`; head frequency for heads); the verdict
    names ``model`` (InGram by default).

    Frequency ranks are over the same candidates, by the spec's tie rule (entities with equal
    counts share the ties). The verdict says whether InGram's top ``top_k`` lies within the
    heuristic's top ``top_k``, which of its entries do not, and where InGram puts the heuristic's
    first choice.
    """
    from kgviz.ranking.ranks import all_ranks

    side = "tail" if direction == "tail" else "head"
    heuristic = f"relation-{side} frequency"
    cand = np.asarray(ranked, dtype=np.int64)
    counts = relation_frequency(kg.triples, kg.num_entities, kg.num_relations, np.array([relation]), direction)[0][cand]
    ranks = dict(zip(cand.tolist(), all_ranks(counts.unsqueeze(0))[0].tolist()))
    count = dict(zip(cand.tolist(), counts.long().tolist()))
    names, rel = kg.entities, kg.relations[relation]
    k = min(top_k, len(cand))
    top = cand[:k].tolist()
    if not len(cand) or counts.max() <= 0:
        return FrequencyComparison(
            ranks, count, False, f"{heuristic} has nothing to say: '{rel}' has no known {side} among the candidates"
        )
    outside = [(i + 1, e) for i, e in enumerate(top) if ranks[e] > k]
    leaders = cand[(counts == counts.max()).numpy()].tolist()  # the heuristic's first choice(s), InGram's order
    tied = f", tied with {len(leaders) - 1} more" if len(leaders) > 1 else ""
    if top[0] in leaders:
        first = f"{model}'s first choice '{names[top[0]]}' is also the heuristic's{tied}"
    else:
        best = leaders[0]
        first = (
            f"the heuristic's first choice '{names[best]}' ({count[best]}× a {side} of '{rel}'{tied}) "
            f"is {model}'s #{cand.tolist().index(best) + 1}"
        )
    if not outside:
        return FrequencyComparison(
            ranks, count, True, f"{model}'s top {k} agrees with {heuristic} (all within its top {k}); {first}"
        )
    listed = ", ".join(f"'{names[e]}' ({model} #{i}, {count[e]}× a {side})" for i, e in outside[:3])
    more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
    return FrequencyComparison(
        ranks,
        count,
        False,
        f"{model}'s top {k} differs from {heuristic}: {listed}{more} outside the heuristic's top {k}; {first}",
    )
