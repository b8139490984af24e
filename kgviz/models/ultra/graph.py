"""ULTRA's graphs of a KG: the augmented edge list and the relation graph over its 2R relations.

For a KG with ``R`` direct relations and triples ``(h, r, t)`` the **augmented edge list** is::

    [(h, t, r) for each triple] + [(t, h, r + R) for each triple]      (2M edges, 2R relations)

stored as ``edge_index (2, 2M)`` (row 0 = ``u``, row 1 = ``v``) and ``edge_type (2M,)``.

The **relation graph** (Galkin et al., ICLR 2024, §4.1) has the 2R relations as nodes. With
``H(r)`` the entities at ``edge_index[0]`` of an edge of type ``r`` and ``T(r)`` those at
``edge_index[1]``, it has four edge types::

    0 hh: (i, j) if H(i) ∩ H(j) ≠ ∅        1 tt: (i, j) if T(i) ∩ T(j) ≠ ∅
    2 ht: (i, j) if H(i) ∩ T(j) ≠ ∅        3 th: (i, j) if T(i) ∩ H(j) ≠ ∅

It is built sparse: with the 0/1 incidence matrices ``E_h, E_t ∈ {0,1}^{N × 2R}``
(``E_h[e, r] = 1`` iff ``e ∈ H(r)``), the four adjacency patterns are the non-zeros of
``E_hᵀE_h``, ``E_tᵀE_t``, ``E_hᵀE_t`` and ``E_tᵀE_h``. Edges come in the authors' order: block
hh, tt, ht, th, each block sorted by ``(i, j)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph

__all__ = [
    "EDGE_TYPE_NAMES",
    "UltraGraph",
    "augmented_edges",
    "relation_graph",
    "build_ultra_graph",
    "inverse_name",
    "NamedRelationEdge",
    "named_relation_graph",
]

EDGE_TYPE_NAMES = ("hh", "tt", "ht", "th")


@dataclass(frozen=True)
class UltraGraph:
    """The tensors ULTRA runs on for one KG (all on CPU until moved with :meth:`to`).

    Attributes:
        num_entities: ``N``.
        num_relations: ``2R`` (direct relations and their inverses).
        edge_index: ``(2, 2M)`` int64, the augmented edges ``(u, v)``.
        edge_type: ``(2M,)`` int64, relation of each augmented edge.
        relation_edge_index: ``(2, E_rel)`` int64, relation-graph edges ``(i, j)``.
        relation_edge_type: ``(E_rel,)`` int64 in ``0..3`` (hh, tt, ht, th).
        receiver_order: ``(2M,)`` int64, the edges sorted by ``u`` (stable): messages are summed per
            receiver over contiguous runs (:mod:`kgviz.models.ultra.messages`).
    """

    num_entities: int
    num_relations: int
    edge_index: Tensor
    edge_type: Tensor
    relation_edge_index: Tensor
    relation_edge_type: Tensor
    receiver_order: Tensor

    def to(self, device: torch.device | str) -> UltraGraph:
        return UltraGraph(
            self.num_entities,
            self.num_relations,
            self.edge_index.to(device),
            self.edge_type.to(device),
            self.relation_edge_index.to(device),
            self.relation_edge_type.to(device),
            self.receiver_order.to(device),
        )


def augmented_edges(triples: np.ndarray, num_relations: int) -> tuple[np.ndarray, np.ndarray]:
    """``edge_index (2, 2M)`` and ``edge_type (2M,)`` of ``triples (M, 3)`` ``[h, r, t]`` plus their
    inverses: ``(h, t, r)`` for each triple, then ``(t, h, r + R)`` for each triple (``R = num_relations``)."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    heads, rels, tails = t[:, 0], t[:, 1], t[:, 2]
    edge_index = np.stack([np.concatenate([heads, tails]), np.concatenate([tails, heads])])
    edge_type = np.concatenate([rels, rels + num_relations])
    return edge_index, edge_type


def _incidence(entities: np.ndarray, types: np.ndarray, num_entities: int, num_types: int) -> sp.csr_matrix:
    """0/1 ``(N, num_types)`` matrix with a one at ``(entities[k], types[k])`` for every ``k``."""
    ones = np.ones(len(entities), dtype=np.float64)
    m = sp.csr_matrix((ones, (entities, types)), shape=(num_entities, num_types))
    m.data[:] = 1.0  # duplicates summed by the constructor: back to 0/1
    return m


def relation_graph(
    edge_index: np.ndarray, edge_type: np.ndarray, num_entities: int, num_relations: int
) -> tuple[np.ndarray, np.ndarray]:
    """The relation graph of the (augmented) edges: ``(2, E_rel)`` edges ``(i, j)`` and ``(E_rel,)`` types.

    ``num_relations`` counts every relation the edges use (2R for the augmented list). Block ``k``
    holds the non-zeros of ``A_k`` in ``(i, j)`` order, with ``A_0 = E_hᵀE_h``, ``A_1 = E_tᵀE_t``,
    ``A_2 = E_hᵀE_t``, ``A_3 = E_tᵀE_h`` (see the module docstring); cost ``O(nnz)`` products, no
    dense ``N × R²`` work.
    """
    e_h = _incidence(edge_index[0], edge_type, num_entities, num_relations)
    e_t = _incidence(edge_index[1], edge_type, num_entities, num_relations)
    blocks, kinds = [], []
    for k, (a, b) in enumerate(((e_h, e_h), (e_t, e_t), (e_h, e_t), (e_t, e_h))):
        product = (a.T @ b).tocoo()
        keep = product.data != 0
        rows, cols = product.row[keep].astype(np.int64), product.col[keep].astype(np.int64)
        order = np.lexsort((cols, rows))
        blocks.append(np.stack([rows[order], cols[order]]))
        kinds.append(np.full(len(order), k, dtype=np.int64))
    return np.concatenate(blocks, axis=1), np.concatenate(kinds)


def build_ultra_graph(graph: KnowledgeGraph) -> UltraGraph:
    """:class:`UltraGraph` of a KG: its augmented edges and their relation graph (CPU tensors)."""
    edge_index, edge_type = augmented_edges(graph.triples, graph.num_relations)
    rel_index, rel_type = relation_graph(edge_index, edge_type, graph.num_entities, 2 * graph.num_relations)
    return UltraGraph(
        graph.num_entities,
        2 * graph.num_relations,
        torch.from_numpy(edge_index),
        torch.from_numpy(edge_type),
        torch.from_numpy(rel_index),
        torch.from_numpy(rel_type),
        torch.from_numpy(np.argsort(edge_index[0], kind="stable")),
    )


def inverse_name(relation: str) -> str:
    """The display name of a relation's inverse: ``"r⁻¹"``."""
    return f"{relation}⁻¹"


@dataclass(frozen=True)
class NamedRelationEdge:
    """One relation-graph edge by name: ``source`` receives from ``target`` (ULTRA's message
    direction, ``i`` receives from ``j``); ``kind`` is ``hh``, ``tt``, ``ht`` or ``th``."""

    source: str
    target: str
    kind: str


def named_relation_graph(graph: KnowledgeGraph) -> list[NamedRelationEdge]:
    """ULTRA's relation graph of ``graph`` as named edges, in the authors' order (hh, tt, ht, th;
    each by ``(i, j)``). Relation ``r + R`` is named :func:`inverse_name` of relation ``r``."""
    names = list(graph.relations) + [inverse_name(r) for r in graph.relations]
    edge_index, edge_type = augmented_edges(graph.triples, graph.num_relations)
    rel_index, rel_type = relation_graph(edge_index, edge_type, graph.num_entities, len(names))
    return [
        NamedRelationEdge(names[i], names[j], EDGE_TYPE_NAMES[k])
        for i, j, k in zip(rel_index[0].tolist(), rel_index[1].tolist(), rel_type.tolist())
    ]
