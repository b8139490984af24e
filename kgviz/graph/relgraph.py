"""InGram's relation graph (spec §2), its binning, and explanations of single weights.

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``M`` triples, ``E`` edges.
The inverse of relation ``r`` is ``r + R``; every triple ``(h, r, t)`` has a twin ``(t, r + R, h)``.

Affinity matrix (Lee et al., ICML 2023, Eq. 1; counts, as in the authors' code)::

    A = E_hᵀ · diag(d_h⁻²) · E_h  +  E_tᵀ · diag(d_t⁻²) · E_t

where ``E_h[e, r]`` (``E_t[e, r]``) counts the augmented triples with head (tail) ``e`` and
relation ``r``, and ``d_h = E_h·1``, ``d_t = E_t·1``. With inverses, ``E_t[:, r] = E_h[:, r ± R]``
and ``d_h = d_t = d``, the degree of ``e`` in the original graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "add_inverses",
    "relation_graph",
    "binned_edges",
    "lecture_relation_graph",
    "Contribution",
    "explain_pair",
    "explain_lecture_pair",
    "relation_label",
    "strongest_pairs",
]


def add_inverses(triples: np.ndarray, num_relations: int) -> np.ndarray:
    """Augmented triples: ``triples`` followed by ``(t, r + R, h)`` for each; shape ``(2M, 3)``."""
    triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    inverse = np.stack([triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], axis=1)
    return np.concatenate([triples, inverse], axis=0)


def _check(triples: np.ndarray, num_entities: int, num_relations: int) -> np.ndarray:
    triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    if len(triples):
        if triples[:, [0, 2]].min() < 0 or triples[:, [0, 2]].max() >= num_entities:
            raise ValueError(f"entity ids must lie in [0, {num_entities})")
        if triples[:, 1].min() < 0 or triples[:, 1].max() >= num_relations:
            raise ValueError(
                f"relation ids must lie in [0, {num_relations}) (pass original triples; inverses are added here)"
            )
    return triples


def _degree(triples: np.ndarray, num_entities: int) -> np.ndarray:
    """``d[e]``: number of triples with ``e`` as head plus number with ``e`` as tail."""
    return (
        np.bincount(triples[:, 0], minlength=num_entities) + np.bincount(triples[:, 2], minlength=num_entities)
    ).astype(np.float64)


def _head_incidence(triples: np.ndarray, num_entities: int, num_relations: int) -> sp.csr_matrix:
    """``E_h`` over the augmented relations, ``(N, 2R)`` counts; ``E_t`` is it with halves swapped."""
    aug = add_inverses(triples, num_relations)
    ones = np.ones(len(aug))
    return sp.csr_matrix((ones, (aug[:, 0], aug[:, 1])), shape=(num_entities, 2 * num_relations))


def relation_graph(triples: np.ndarray, num_entities: int, num_relations: int) -> sp.csr_matrix:
    """The ``2R × 2R`` affinity matrix ``A`` of InGram (see module docstring), as CSR.

    Args:
        triples: original triples ``(M, 3)``, relation ids in ``[0, R)``; inverses are added here.
        num_entities: ``N``.
        num_relations: ``R`` (without inverses).
    Returns:
        symmetric ``scipy.sparse.csr_matrix`` of shape ``(2R, 2R)``, diagonal included,
        explicit zeros removed, indices sorted.
    """
    triples = _check(triples, num_entities, num_relations)
    d = _degree(triples, num_entities)
    inv_sq = np.divide(1.0, d * d, out=np.zeros_like(d), where=d > 0)
    e_h = _head_incidence(triples, num_entities, num_relations)
    # E_t equals E_h with the relation halves swapped, so A_t = P A_h P with P that swap.
    a_h = (e_h.T.multiply(inv_sq[None, :])).tocsr() @ e_h
    swap = np.concatenate([np.arange(num_relations, 2 * num_relations), np.arange(num_relations)])
    a = (a_h + a_h[swap][:, swap]).tocsr()
    # The two triangles are summed in different orders and may differ in the last bit; average
    # them so that A == Aᵀ holds exactly (a[i, j] + a[j, i] is the same float both ways).
    a = ((a + a.T) * 0.5).tocsr()
    a.eliminate_zeros()
    a.sort_indices()
    return a


def binned_edges(
    affinity: sp.spmatrix,
    num_bins: int,
    *,
    ties: Literal["stable", "min"] = "stable",
) -> np.ndarray:
    """Edges ``[i, j, bin]`` of every non-zero ``A[i, j]``, ``int64`` array ``(E, 3)``.

    Edges are sorted by weight, largest first, and given ranks ``k = 1..E``;
    ``bin = ceil(k · B / E) − 1`` in ``[0, B − 1]`` (bin 0 = strongest), computed in integers.
    ``ties="stable"`` breaks ties by row-major position (the spec's arbitrary order);
    ``ties="min"`` gives tied weights (equal to a relative 1e-9) the rank of the first of them,
    which makes the bins independent of how relations are numbered.
    Rows are in row-major order of ``A``.
    """
    if num_bins < 1:
        raise ValueError("num_bins must be >= 1")
    coo = sp.csr_matrix(affinity)
    coo.eliminate_zeros()
    coo.sort_indices()
    coo = coo.tocoo()
    w = coo.data
    nnz = len(w)
    if nnz == 0:
        return np.zeros((0, 3), dtype=np.int64)
    order = np.argsort(-w, kind="stable")
    ranks = np.empty(nnz, dtype=np.int64)
    ranks[order] = np.arange(1, nnz + 1)
    if ties == "min":
        sw = w[order]
        new_group = np.ones(nnz, dtype=bool)
        new_group[1:] = (sw[:-1] - sw[1:]) > 1e-9 * np.abs(sw[:-1])
        group_first = np.maximum.accumulate(np.where(new_group, np.arange(nnz), 0))
        ranks[order] = group_first + 1
    elif ties != "stable":
        raise ValueError("ties must be 'stable' or 'min'")
    bins = (ranks * num_bins + nnz - 1) // nnz - 1
    return np.stack([coo.row.astype(np.int64), coo.col.astype(np.int64), bins], axis=1)


def lecture_relation_graph(triples: np.ndarray, num_entities: int, num_relations: int) -> sp.csr_matrix:
    """The lecture's simplified relation graph: ``β = Eᵀ · diag(d⁻²) · E``, ``R × R``.

    ``E[e, r] = 1`` if ``e`` is head or tail of some triple of ``r`` (relation merged with its
    inverse, 0/1 instead of counts), ``d[e]`` the number of triples at ``e``. Undirected; e.g.
    β(acted in, born in) = (1/3)² + (1/7)² ≈ 0.13 on the lecture's movie KG.
    """
    triples = _check(triples, num_entities, num_relations)
    d = _degree(triples, num_entities)
    inv_sq = np.divide(1.0, d * d, out=np.zeros_like(d), where=d > 0)
    rows = np.concatenate([triples[:, 0], triples[:, 2]])
    cols = np.concatenate([triples[:, 1], triples[:, 1]])
    e = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_entities, num_relations))
    e.data[:] = 1.0  # duplicates were summed; the lecture uses 0/1
    b = ((e.T.multiply(inv_sq[None, :])).tocsr() @ e).tocsr()
    b.eliminate_zeros()
    b.sort_indices()
    return b


@dataclass(frozen=True)
class Contribution:
    """One entity's share of a relation-pair weight: ``count_i · count_j / degree²``."""

    entity: int
    role: str  # "head", "tail" (exact view) or "either" (lecture view)
    count_i: int
    count_j: int
    degree: int
    value: float


def _pair_terms(inc_i: np.ndarray, inc_j: np.ndarray, d: np.ndarray, role: str) -> list[Contribution]:
    shared = np.nonzero((inc_i > 0) & (inc_j > 0))[0]
    return [
        Contribution(int(e), role, int(inc_i[e]), int(inc_j[e]), int(d[e]), float(inc_i[e] * inc_j[e] / d[e] ** 2))
        for e in shared
    ]


def explain_pair(triples: np.ndarray, num_entities: int, num_relations: int, i: int, j: int) -> list[Contribution]:
    """The terms of ``A[i, j]`` (augmented ids in ``[0, 2R)``), one per shared entity and role.

    ``head`` terms come from ``E_hᵀ D_h⁻² E_h`` (``e`` is head of both relations), ``tail`` terms
    from the tail part. ``sum(c.value)`` equals ``relation_graph(...)[i, j]``.
    """
    triples = _check(triples, num_entities, num_relations)
    for x in (i, j):
        if not 0 <= x < 2 * num_relations:
            raise ValueError(f"relation id {x} not in [0, {2 * num_relations})")
    d = _degree(triples, num_entities)
    e_h = _head_incidence(triples, num_entities, num_relations).tocsc()
    partner = lambda r: r + num_relations if r < num_relations else r - num_relations  # noqa: E731
    col = lambda m, r: m[:, r].toarray().ravel()  # noqa: E731
    heads = _pair_terms(col(e_h, i), col(e_h, j), d, "head")
    tails = _pair_terms(col(e_h, partner(i)), col(e_h, partner(j)), d, "tail")
    return sorted(heads + tails, key=lambda c: (-c.value, c.entity, c.role))


def explain_lecture_pair(
    triples: np.ndarray, num_entities: int, num_relations: int, i: int, j: int
) -> list[Contribution]:
    """The ``1/d²`` terms of the lecture's β(i, j) (original ids in ``[0, R)``)."""
    triples = _check(triples, num_entities, num_relations)
    for x in (i, j):
        if not 0 <= x < num_relations:
            raise ValueError(f"relation id {x} not in [0, {num_relations})")
    d = _degree(triples, num_entities)

    def touches(r: int) -> np.ndarray:
        sel = triples[triples[:, 1] == r]
        out = np.zeros(num_entities)
        out[sel[:, 0]] = 1
        out[sel[:, 2]] = 1
        return out

    terms = _pair_terms(touches(i), touches(j), d, "either")
    return sorted(terms, key=lambda c: (-c.value, c.entity))


def relation_label(r: int, names: Sequence[str]) -> str:
    """Name of augmented relation ``r``: ``names[r]`` or ``names[r - R] + "⁻¹"``."""
    n = len(names)
    return names[r] if r < n else f"{names[r - n]}⁻¹"


def strongest_pairs(affinity: sp.spmatrix, top: int = 20, *, include_diagonal: bool = False) -> np.ndarray:
    """The ``top`` strongest pairs ``i < j`` (or ``i <= j``) as a ``(k, 2)`` array, weights descending."""
    upper = sp.triu(affinity, k=0 if include_diagonal else 1).tocoo()
    order = np.lexsort((upper.col, upper.row, -upper.data))[:top]
    return np.stack([upper.row[order], upper.col[order]], axis=1).astype(np.int64)


def merge_inverses(affinity: sp.spmatrix, num_relations: int) -> sp.csr_matrix:
    """``R × R`` matrix summing the four blocks of ``A``: the affinity of two relation families
    (``r`` with ``r⁻¹``), i.e. ``M[r, s] = A[r, s] + A[r, s⁻¹] + A[r⁻¹, s] + A[r⁻¹, s⁻¹]``."""
    a = sp.csr_matrix(affinity)
    R = num_relations
    m = (a[:R, :R] + a[:R, R:] + a[R:, :R] + a[R:, R:]).tocsr()
    m.eliminate_zeros()
    m.sort_indices()
    return m


def explain_merged_pair(
    triples: np.ndarray, num_entities: int, num_relations: int, i: int, j: int
) -> list[tuple[tuple[int, int], Contribution]]:
    """The terms of the merged weight ``M[i, j]`` (:func:`merge_inverses`; ids in ``[0, R)``).

    Each term is ``((a, b), c)``: the augmented pair ``a ∈ {i, i⁻¹}``, ``b ∈ {j, j⁻¹}`` it belongs
    to and its :func:`explain_pair` contribution; ``sum(c.value)`` equals ``M[i, j]``.
    """
    for x in (i, j):
        if not 0 <= x < num_relations:
            raise ValueError(f"relation id {x} not in [0, {num_relations})")
    R = num_relations
    return [((a, b), c) for a in (i, i + R) for b in (j, j + R) for c in explain_pair(triples, num_entities, R, a, b)]
