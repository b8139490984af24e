"""Parts of a KG to draw when the whole is too large: the neighbourhood of a few entities, the
strongest relations of a relation graph in clustered order, and short labels for long names.

Symbols: ``N`` entities, ``M`` triples, ``A`` a relation matrix (``R × R`` or ``2R × 2R``).
"""

from __future__ import annotations

import os
from collections import deque
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist

from kgviz.graph.data import KnowledgeGraph


def entity_degrees(kg: KnowledgeGraph) -> np.ndarray:
    """``(N,)`` number of triples each entity is head or tail of (a self-loop counts twice)."""
    return np.bincount(kg.triples[:, [0, 2]].ravel(), minlength=kg.num_entities)


def neighbourhood_entities(kg: KnowledgeGraph, centres: Iterable[int], max_nodes: int) -> list[int]:
    """At most ``max_nodes`` entities around ``centres``, nearest first.

    All entities when ``N <= max_nodes``; else the centres, then a breadth-first search over the
    undirected entity graph (the neighbours of an entity by degree, largest first, ties by id:
    well-connected neighbours make a drawing with structure rather than a star); without
    centres, the ``max_nodes`` entities of highest degree.
    """
    if kg.num_entities <= max_nodes:
        return list(range(kg.num_entities))
    chosen = list(dict.fromkeys(int(c) for c in centres))[:max_nodes]
    if not chosen:
        return [int(e) for e in np.argsort(-entity_degrees(kg), kind="stable")[:max_nodes]]
    t = kg.triples
    n = kg.num_entities
    adj = sp.csr_matrix((np.ones(2 * len(t)), (np.r_[t[:, 0], t[:, 2]], np.r_[t[:, 2], t[:, 0]])), shape=(n, n))
    deg = entity_degrees(kg)
    seen = set(chosen)
    queue = deque(chosen)
    while queue and len(chosen) < max_nodes:
        v = queue.popleft()
        near = adj.indices[adj.indptr[v] : adj.indptr[v + 1]]
        for u in near[np.lexsort((near, -deg[near]))].tolist():
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


# ---------------------------------------------------------------- relation graphs and tables


def relation_strength(matrix: sp.spmatrix) -> np.ndarray:
    """``(n,)`` total off-diagonal weight of each relation: ``s_r = Σ_{j≠r} A[r, j]``."""
    off = sp.csr_matrix(matrix).tocoo()
    keep = off.row != off.col
    return np.bincount(off.row[keep], weights=off.data[keep], minlength=off.shape[0])


def top_relations(matrix: sp.spmatrix, n: int, selected: Iterable[int] = ()) -> list[int]:
    """At most ``n`` relation ids (sorted) to draw from the ``(size, size)`` relation ``matrix``.

    The ``selected`` relations first, then their strongest neighbours (by ``A[s, j]``, up to a
    third of ``n`` in all), then the relations of largest :func:`relation_strength`; ties by id.
    Everything when ``size <= n``.
    """
    m = sp.csr_matrix(matrix)
    size = m.shape[0]
    if size <= n:
        return list(range(size))
    chosen = list(dict.fromkeys(int(s) for s in selected if 0 <= int(s) < size))[:n]
    budget = len(chosen) + max(1, n // 3)
    for s in list(chosen):
        row = m.getrow(s).tocoo()
        for k in np.lexsort((row.col, -row.data)):
            j = int(row.col[k])
            if len(chosen) >= min(budget, n):
                break
            if j not in chosen:
                chosen.append(j)
    for j in np.lexsort((np.arange(size), -relation_strength(m))):
        if len(chosen) >= n:
            break
        if int(j) not in chosen:
            chosen.append(int(j))
    return sorted(chosen)


def weight_share(matrix: sp.spmatrix, ids: Sequence[int]) -> float:
    """Share of the total off-diagonal weight carried by pairs with both ends in ``ids`` (1 if none)."""
    m = sp.csr_matrix(matrix)
    total = float(m.sum() - m.diagonal().sum())
    sub = m[ids][:, ids]
    return 1.0 if total <= 0 else float(sub.sum() - sub.diagonal().sum()) / total


def cluster_order(matrix: sp.spmatrix, ids: Sequence[int]) -> list[int]:
    """``ids`` reordered so that relations with similar rows sit together (for heatmaps).

    Average-linkage hierarchical clustering (scipy) of the rows of ``log(1 + A[ids][:, ids])``
    under cosine distance, leaves in optimal order; a relation without weight counts as
    distance 1 from every other. Fewer than three ids are returned as given.
    """
    ids = [int(i) for i in ids]
    if len(ids) < 3:
        return ids
    x = np.log1p(sp.csr_matrix(matrix)[ids][:, ids].toarray().astype(float))  # (n, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = pdist(x, metric="cosine")
    dist = np.nan_to_num(dist, nan=1.0).clip(0.0, 2.0)
    return [ids[k] for k in leaves_list(linkage(dist, method="average", optimal_ordering=True))]


_SEPARATORS = ":_/.- "


def short_labels(names: Sequence[str], max_len: int = 24) -> list[str]:
    """Distinct short forms of ``names`` for axes and table cells (full names go in tooltips).

    A prefix all names share up to a separator (``concept:`` in NELL) is dropped, then a name
    longer than ``max_len`` keeps its start and its last 6 characters around ``…``; names that
    would collide keep more characters, up to their whole (prefix-free) form.
    """
    names = list(names)
    if not names:
        return []
    prefix = os.path.commonprefix(names)
    cut = max((prefix.rfind(c) for c in _SEPARATORS), default=-1) + 1
    if len(names) == 1 or any(len(n) <= cut for n in names):
        cut = 0
    bare = [n[cut:] for n in names]

    def shorten(s: str, limit: int) -> str:
        return s if len(s) <= limit else s[: max(limit - 7, 1)] + "…" + s[-6:]

    limits = [max_len] * len(bare)
    out = [shorten(s, max_len) for s in bare]
    while True:
        seen: dict[str, list[int]] = {}
        for k, s in enumerate(out):
            seen.setdefault(s, []).append(k)
        clashes = [k for ks in seen.values() if len(ks) > 1 for k in ks if out[k] != bare[k]]
        if not clashes:
            return out
        for k in clashes:
            limits[k] += 4
            out[k] = shorten(bare[k], limits[k])
