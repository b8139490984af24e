"""Validation on small KGs: fixed small graphs cut from inference graphs, held-out valid triples as queries.

Selection only, never FB-* or test splits: :func:`small_valid_graphs` cuts connected subgraphs of
``msg ∪ valid``; :func:`small_graph_mrr` is the filtered MRR pooled over their held-out queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from kgviz.graph.data import BenchmarkDataset, KnowledgeGraph
from kgviz.evaluation.benchmark import embed, query_set, ranks_from_embeddings
from kgviz.models.ingram.network import InGram
from kgviz.ranking.ranks import metrics
from kgviz.training.sampling import FANOUT_CHOICES, IncidenceIndex, log_uniform_size, sample_subgraph

__all__ = ["SmallValidGraph", "small_valid_graphs", "small_graph_mrr"]


@dataclass
class SmallValidGraph:
    """A small KG cut from an inference graph; ``queries`` are valid triples held out of it."""

    graph: KnowledgeGraph
    queries: np.ndarray


def _renumber(triples: np.ndarray, entities: np.ndarray, relations: np.ndarray) -> np.ndarray:
    """``triples`` with ids replaced by their positions in the sorted ``entities`` / ``relations``."""
    return np.stack(
        [
            np.searchsorted(entities, triples[:, 0]),
            np.searchsorted(relations, triples[:, 1]),
            np.searchsorted(entities, triples[:, 2]),
        ],
        axis=1,
    ).astype(np.int64)


def small_valid_graphs(
    dataset: BenchmarkDataset, count: int, *, size_range: tuple[int, int] = (20, 1000), seed: int = 12345
) -> list[SmallValidGraph]:
    """``count`` fixed small KGs cut from ``msg ∪ valid`` of ``dataset`` (never from test).

    Each: a connected subgraph (:func:`sample_subgraph`, closure on) of a log-uniform size; its
    valid triples whose entities and relation occur among its msg triples become the queries, its
    msg triples the known graph. Subgraphs without such a query are redrawn (at most 5·count tries).
    """
    inf = dataset.inference
    union = np.concatenate([inf.triples, dataset.valid])
    is_valid = np.r_[np.zeros(len(inf.triples), bool), np.ones(len(dataset.valid), bool)]
    index = IncidenceIndex.of(union, inf.num_entities)
    rng = np.random.default_rng(seed)
    out: list[SmallValidGraph] = []
    for _ in range(5 * count):
        if len(out) == count:
            break
        ids = sample_subgraph(
            index, log_uniform_size(rng, *size_range), rng, fanout=int(rng.choice(FANOUT_CHOICES)), closure=True
        )
        msg, qry = union[ids[~is_valid[ids]]], union[ids[is_valid[ids]]]
        if len(msg) == 0 or len(qry) == 0:
            continue
        ents, rels = np.unique(msg[:, [0, 2]]), np.unique(msg[:, 1])
        ok = np.isin(qry[:, 0], ents) & np.isin(qry[:, 2], ents) & np.isin(qry[:, 1], rels)
        if not ok.any():
            continue
        kg = KnowledgeGraph(
            tuple(inf.entities[e] for e in ents),
            tuple(inf.relations[r] for r in rels),
            _renumber(msg, ents, rels),
            source=f"{dataset.name} small valid graph",
        )
        out.append(SmallValidGraph(kg, _renumber(qry[ok], ents, rels)))
    return out


def small_graph_mrr(
    model: InGram, graphs: Sequence[SmallValidGraph], seeds: Sequence[int], device: torch.device
) -> float:
    """Filtered MRR pooled over the held-out queries of ``graphs`` (both directions), mean score of ``seeds``."""
    ranks = []
    for g in graphs:
        qs = query_set(g.graph, g.queries, np.concatenate([g.graph.triples, g.queries]))
        ranks.append(ranks_from_embeddings(model, embed(model, g.graph, seeds, device), qs))
    return float(metrics(torch.cat(ranks))["MRR"])
