"""Parts of a KG to draw when the whole is too large: the neighbourhood of a few entities.

Symbols: ``N`` entities, ``M`` triples.
"""
from __future__ import annotations

from collections import deque
from typing import Iterable

import numpy as np
import scipy.sparse as sp

from .data import KnowledgeGraph


def entity_degrees(kg: KnowledgeGraph) -> np.ndarray:
    """``(N,)`` number of triples each entity is head or tail of (a self-loop counts twice)."""
    return np.bincount(kg.triples[:, [0, 2]].ravel(), minlength=kg.num_entities)


def neighbourhood_entities(kg: KnowledgeGraph, centres: Iterable[int], max_nodes: int) -> list[int]:
    """At most ``max_nodes`` entities around ``centres``, nearest first.

    All entities when ``N <= max_nodes``; else the centres, then a breadth-first search over the
    undirected entity graph (neighbours in id order); without centres, the ``max_nodes`` entities
    of highest degree.
    """
    if kg.num_entities <= max_nodes:
        return list(range(kg.num_entities))
    chosen = list(dict.fromkeys(int(c) for c in centres))[:max_nodes]
    if not chosen:
        return [int(e) for e in np.argsort(-entity_degrees(kg), kind="stable")[:max_nodes]]
    t = kg.triples
    n = kg.num_entities
    adj = sp.csr_matrix((np.ones(2 * len(t)), (np.r_[t[:, 0], t[:, 2]], np.r_[t[:, 2], t[:, 0]])), shape=(n, n))
    seen = set(chosen)
    queue = deque(chosen)
    while queue and len(chosen) < max_nodes:
        v = queue.popleft()
        for u in adj.indices[adj.indptr[v]:adj.indptr[v + 1]].tolist():
            if u not in seen and len(chosen) < max_nodes:
                seen.add(u)
                chosen.append(u)
                queue.append(u)
    return chosen


def triples_among(kg: KnowledgeGraph, entities: Iterable[int]) -> np.ndarray:
    """Indices (rows of ``kg.triples``) of the triples whose head and tail are both in ``entities``."""
    keep = np.zeros(kg.num_entities, dtype=bool)
    keep[list(entities)] = True
    t = kg.triples
    return np.nonzero(keep[t[:, 0]] & keep[t[:, 2]])[0]


def default_centre(kg: KnowledgeGraph, entity: int | None, relation: int | None) -> list[int]:
    """Where to centre a partial drawing: the selected entity, else the selected relation's
    first triple (``relation`` in ``[0, R)``), else the entity of highest degree."""
    if entity is not None:
        return [entity]
    t = kg.triples
    if relation is not None and relation < kg.num_relations:
        sel = t[t[:, 1] == relation]
        if len(sel):
            return [int(sel[0, 0]), int(sel[0, 2])]
    deg = entity_degrees(kg)
    return [int(deg.argmax())] if len(deg) else []
