"""kgviz.graph.relgraph: the affinity matrix A (spec §2), its binning, and the explanation API."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import random_triples

from kgviz.catalog import builtin_kg
from kgviz.graph.relgraph import (
    add_inverses,
    binned_edges,
    explain_lecture_pair,
    explain_merged_pair,
    explain_pair,
    lecture_relation_graph,
    merge_inverses,
    relation_graph,
    relation_label,
    strongest_pairs,
)

# Hand example. Entities a=0, b=1, c=2, d=3; relations p=0, q=1 (inverses p⁻¹=2, q⁻¹=3).
# (a, p, b) twice (a duplicate: counts 2), a self-loop (c, q, c).
HAND = np.array([[0, 0, 1], [0, 0, 1], [0, 1, 2], [2, 1, 2], [1, 1, 3]])
# Augmented (with (t, r+R, h)), rows = entities, columns = p, q, p⁻¹, q⁻¹:
#   E_h: a [2,1,0,0]  b [0,1,2,0]  c [0,1,0,2]  d [0,0,0,1]   degrees d = 3, 3, 3, 1
#   E_t: a [0,0,2,1]  b [2,0,0,1]  c [0,2,0,1]  d [0,1,0,0]
# A_h = Σ_e E_h[e]ᵀ E_h[e] / d_e²:  (p,p) 4/9, (p,q) 2/9, (q,q) 1/9+1/9+1/9 = 3/9, (q,p⁻¹) 2/9,
#       (p⁻¹,p⁻¹) 4/9, (q,q⁻¹) 2/9, (q⁻¹,q⁻¹) 4/9 + 1/1 = 13/9.
# A_t:  (p,p) 4/9, (p,q⁻¹) 2/9, (q,q) 4/9 + 1 = 13/9, (q,q⁻¹) 2/9, (p⁻¹,p⁻¹) 4/9, (p⁻¹,q⁻¹) 2/9,
#       (q⁻¹,q⁻¹) 1/9+1/9+1/9 = 3/9.
HAND_A = np.array([[8, 2, 0, 2], [2, 16, 2, 4], [0, 2, 8, 2], [2, 4, 2, 16]]) / 9


def dense_affinity(triples: np.ndarray, num_entities: int, num_relations: int) -> np.ndarray:
    """``A = E_hᵀ D_h⁻² E_h + E_tᵀ D_t⁻² E_t`` written plainly with dense numpy arrays."""
    aug = [(h, r, t) for h, r, t in triples.tolist()] + [(t, r + num_relations, h) for h, r, t in triples.tolist()]
    e_h = np.zeros((num_entities, 2 * num_relations))
    e_t = np.zeros((num_entities, 2 * num_relations))
    for h, r, t in aug:
        e_h[h, r] += 1
        e_t[t, r] += 1
    d_h, d_t = e_h.sum(1), e_t.sum(1)
    inv_h = np.diag([1 / x**2 if x else 0.0 for x in d_h])
    inv_t = np.diag([1 / x**2 if x else 0.0 for x in d_t])
    return e_h.T @ inv_h @ e_h + e_t.T @ inv_t @ e_t


def test_hand_example():
    a = relation_graph(HAND, 4, 2)
    assert isinstance(a, sp.csr_matrix) and a.shape == (4, 4)
    np.testing.assert_allclose(a.toarray(), HAND_A, rtol=1e-14)
    assert a.nnz == 14  # (p, p⁻¹) share no entity in the same role: no edge, no explicit zero
    assert a.has_sorted_indices


def test_add_inverses():
    aug = add_inverses(np.array([[0, 1, 2], [3, 0, 3]]), 2)
    assert aug.tolist() == [[0, 1, 2], [3, 0, 3], [2, 3, 0], [3, 2, 3]]


@pytest.mark.parametrize("seed", range(6))
def test_matches_dense_formula_on_random_kgs(seed):
    rng = np.random.default_rng(seed)
    n, r = int(rng.integers(5, 40)), int(rng.integers(1, 8))
    triples = random_triples(rng, n - 2, r, int(rng.integers(5, 120)))  # entities n-2, n-1 isolated
    a = relation_graph(triples, n, r + 1)  # relation r has no triple
    dense = dense_affinity(triples, n, r + 1)
    np.testing.assert_allclose(a.toarray(), dense, rtol=1e-12, atol=0)
    assert a.nnz == np.count_nonzero(dense)  # all non-zeros, diagonal included, nothing else
    assert (a != a.T).nnz == 0  # exactly symmetric
    assert np.all(a.diagonal()[np.unique(np.concatenate([triples[:, 1], triples[:, 1] + r + 1]))] > 0)
    assert a[r].nnz == 0 and a[:, 2 * r + 1].nnz == 0


def test_exactly_symmetric():
    # The two triangles of E_hᵀ D⁻² E_h are summed in different orders; A must still equal Aᵀ bit for bit
    # (so (i, j) and (j, i) have one weight everywhere: tables, bins, the UI).
    for seed in range(3):
        rng = np.random.default_rng(seed)
        a = relation_graph(random_triples(rng, 30, 7, 500), 30, 7)
        assert (a != a.T).nnz == 0


def test_one_relation():
    triples = np.array([[0, 0, 1], [1, 0, 2], [2, 0, 0]])  # a cycle
    a = relation_graph(triples, 3, 1)
    # Every entity is head of r once and of r⁻¹ once (and tail of each once), degree 2:
    # each entry is 3 entities × 1·1/2² in the head part plus the same in the tail part = 6/4.
    np.testing.assert_allclose(a.toarray(), [[6 / 4, 6 / 4], [6 / 4, 6 / 4]], rtol=1e-14)
    np.testing.assert_allclose(a.toarray(), dense_affinity(triples, 3, 1), rtol=1e-14)


def test_relations_sharing_no_entity():
    triples = np.array([[0, 0, 1], [2, 1, 3], [3, 1, 4]])
    a = relation_graph(triples, 5, 2).toarray()
    group0, group1 = [0, 2], [1, 3]  # p, p⁻¹ touch {0, 1}; q, q⁻¹ touch {2, 3, 4}
    assert np.all(a[np.ix_(group0, group1)] == 0) and np.all(a[np.ix_(group1, group0)] == 0)
    assert np.all(np.diag(a) > 0)


def test_bad_ids():
    with pytest.raises(ValueError, match="relation ids"):
        relation_graph(np.array([[0, 2, 1]]), 2, 2)  # an inverse id: pass original triples
    with pytest.raises(ValueError, match="entity ids"):
        relation_graph(np.array([[0, 0, 5]]), 2, 1)


# -- binning ---------------------------------------------------------------------------------


def test_hand_binning_stable_and_min():
    edges = binned_edges(relation_graph(HAND, 4, 2), 4)
    # Row-major order; weights ×9: 16 ×2, 8 ×2, 4 ×2, 2 ×8 → ranks k by weight, ties row-major;
    # bin = ceil(4k/14) − 1:  k=1..3 → 0, k=4..7 → 1, k=8..10 → 2, k=11..14 → 3.
    expected = {
        (1, 1): 0,
        (3, 3): 0,
        (0, 0): 0,
        (2, 2): 1,
        (1, 3): 1,
        (3, 1): 1,
        (0, 1): 1,
        (0, 3): 2,
        (1, 0): 2,
        (1, 2): 2,
        (2, 1): 3,
        (2, 3): 3,
        (3, 0): 3,
        (3, 2): 3,
    }
    assert edges[:, :2].tolist() == [list(k) for k in sorted(expected)]  # row-major
    assert {(i, j): b for i, j, b in edges.tolist()} == expected
    # ties="min": a tie takes the rank of its first member: 16 → k=1, 8 → k=3, 4 → k=5, 2 → k=7
    edges_min = binned_edges(relation_graph(HAND, 4, 2), 4, ties="min")
    weight9 = {(i, j): round(HAND_A[i, j] * 9) for i, j in expected}
    assert {(i, j): b for i, j, b in edges_min.tolist()} == {
        k: {16: 0, 8: 0, 4: 1, 2: 1}[w] for k, w in weight9.items()
    }


@pytest.mark.parametrize("seed, num_bins", [(0, 10), (1, 3), (2, 7), (3, 1), (4, 50)])
def test_bins_follow_formula(seed, num_bins):
    rng = np.random.default_rng(seed)
    a = relation_graph(random_triples(rng, 30, 6, 150), 30, 6)
    edges = binned_edges(a, num_bins)
    nnz = a.nnz
    assert edges.shape == (nnz, 3) and edges.dtype == np.int64
    w = np.asarray(a[edges[:, 0], edges[:, 1]]).ravel()
    assert np.all(w != 0)
    assert edges[:, 2].min() >= 0 and edges[:, 2].max() <= num_bins - 1
    # rank k: by weight (largest first), ties by row-major position
    order = np.lexsort((np.arange(nnz), -w))
    k = np.empty(nnz, dtype=np.int64)
    k[order] = np.arange(1, nnz + 1)
    assert edges[:, 2].tolist() == [math.ceil(x * num_bins / nnz) - 1 for x in k.tolist()]
    counts = np.bincount(edges[:, 2], minlength=num_bins)
    expected_counts = np.bincount([math.ceil(x * num_bins / nnz) - 1 for x in range(1, nnz + 1)], minlength=num_bins)
    assert counts.tolist() == expected_counts.tolist()
    if num_bins <= nnz:
        assert edges[np.argmax(w), 2] == 0  # the strongest edge is in bin 0
    # stronger never in a later bin
    assert np.all(np.diff(edges[order, 2]) >= 0)


@pytest.mark.parametrize("seed", range(3))
def test_ties_min_gives_equal_weights_equal_bins(seed):
    rng = np.random.default_rng(seed)
    a = relation_graph(random_triples(rng, 12, 4, 40), 12, 4)
    edges = binned_edges(a, 10, ties="min")
    w = np.round(np.asarray(a[edges[:, 0], edges[:, 1]]).ravel(), 12)
    for value in np.unique(w):
        assert len(set(edges[w == value, 2].tolist())) == 1
    # the bin is that of the first of the tie group: ceil(k_first · B / nnz) − 1
    nnz = len(w)
    for value in np.unique(w):
        k_first = int((w > value).sum()) + 1
        assert edges[w == value, 2][0] == math.ceil(k_first * 10 / nnz) - 1
    # A and Aᵀ weights are equal, so (i, j) and (j, i) share a bin
    bins = {(i, j): b for i, j, b in edges.tolist()}
    assert all(bins[(j, i)] == b for (i, j), b in bins.items())


def test_binning_edge_cases():
    assert binned_edges(sp.csr_matrix((4, 4)), 10).shape == (0, 3)
    with pytest.raises(ValueError):
        binned_edges(relation_graph(HAND, 4, 2), 0)
    with pytest.raises(ValueError):
        binned_edges(relation_graph(HAND, 4, 2), 4, ties="max")
    explicit_zero = sp.csr_matrix((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([0, 1]))), shape=(2, 2))
    assert binned_edges(explicit_zero, 2).tolist() == [[0, 0, 1]]  # ceil(1·2/1) − 1


# -- explanations ----------------------------------------------------------------------------


def test_explain_pair_hand_example():
    (t_head, t_tail) = sorted(explain_pair(HAND, 4, 2, 1, 3), key=lambda c: c.role)  # (q, q⁻¹) = 4/9
    assert (t_head.entity, t_head.role, t_head.count_i, t_head.count_j, t_head.degree) == (2, "head", 1, 2, 3)
    assert (t_tail.entity, t_tail.role, t_tail.count_i, t_tail.count_j, t_tail.degree) == (2, "tail", 2, 1, 3)
    assert t_head.value == pytest.approx(2 / 9) and t_tail.value == pytest.approx(2 / 9)
    [term] = explain_pair(HAND, 4, 2, 0, 3)  # (p, q⁻¹): b is tail of p twice and of q⁻¹ once
    assert (term.entity, term.role, term.count_i, term.count_j, term.degree) == (1, "tail", 2, 1, 3)
    assert explain_pair(HAND, 4, 2, 0, 2) == []
    with pytest.raises(ValueError):
        explain_pair(HAND, 4, 2, 0, 4)


@pytest.mark.parametrize("seed", range(3))
def test_explain_pair_sums_to_weight_with_right_roles(seed):
    rng = np.random.default_rng(seed)
    n, r = 15, 4
    triples = random_triples(rng, n, r, 45)
    a = relation_graph(triples, n, r).toarray()
    aug = add_inverses(triples, r)
    e_h = np.zeros((n, 2 * r))
    e_t = np.zeros((n, 2 * r))
    np.add.at(e_h, (aug[:, 0], aug[:, 1]), 1)
    np.add.at(e_t, (aug[:, 2], aug[:, 1]), 1)
    deg = e_h.sum(1)
    for i in range(2 * r):
        for j in range(2 * r):
            terms = explain_pair(triples, n, r, i, j)
            assert sum(c.value for c in terms) == pytest.approx(a[i, j], rel=1e-12, abs=1e-15)
            for c in terms:
                inc = e_h if c.role == "head" else e_t
                assert c.role in ("head", "tail")
                assert (c.count_i, c.count_j, c.degree) == (inc[c.entity, i], inc[c.entity, j], deg[c.entity])
            assert {(c.entity, c.role) for c in terms} == (
                {(e, "head") for e in np.nonzero(e_h[:, i] * e_h[:, j])[0]}
                | {(e, "tail") for e in np.nonzero(e_t[:, i] * e_t[:, j])[0]}
            )


def test_lecture_relation_graph_hand_example():
    # Lecture view: E[e, r] = 1 if e touches r (either end), relations merged with inverses.
    # a touches p, q; b touches p, q; c touches q; d touches q. Degrees (duplicates count) 3, 3, 3, 1.
    # β(p,p) = 1/9 + 1/9, β(p,q) = 1/9 + 1/9 (a and b), β(q,q) = 3 · 1/9 + 1.
    b = lecture_relation_graph(HAND, 4, 2)
    np.testing.assert_allclose(b.toarray(), [[2 / 9, 2 / 9], [2 / 9, 12 / 9]], rtol=1e-14)
    terms = explain_lecture_pair(HAND, 4, 2, 0, 1)
    assert [(c.entity, c.role, c.count_i, c.count_j, c.degree) for c in terms] == [
        (0, "either", 1, 1, 3),
        (1, "either", 1, 1, 3),
    ]
    assert sum(c.value for c in terms) == pytest.approx(2 / 9)
    assert [c.entity for c in explain_lecture_pair(HAND, 4, 2, 1, 1)] == [3, 0, 1, 2]  # 1/1 first
    with pytest.raises(ValueError):
        explain_lecture_pair(HAND, 4, 2, 0, 2)  # lecture ids are original relations only


def test_lecture_example_from_the_slides():
    # β(acted in, born in) = (1/3)² + (1/7)²: two people who acted and were born somewhere,
    # with 3 and 7 triples each.
    triples = [
        (0, 0, 2),
        (0, 1, 3),
        (0, 2, 4),  # person 0: acted in, born in, + 1 → degree 3
        (1, 0, 5),
        (1, 1, 6),
    ] + [(1, 2, 7 + k) for k in range(5)]  # person 1: degree 7
    b = lecture_relation_graph(np.array(triples), 12, 3)
    assert b[0, 1] == pytest.approx((1 / 3) ** 2 + (1 / 7) ** 2)
    assert b[0, 1] == pytest.approx(0.13, abs=0.005)


def test_labels_and_strongest_pairs():
    assert [relation_label(r, ["p", "q"]) for r in range(4)] == ["p", "q", "p⁻¹", "q⁻¹"]
    a = relation_graph(HAND, 4, 2)
    pairs = strongest_pairs(a, 3)
    assert pairs.tolist()[0] == [1, 3]  # 4/9
    assert all(i < j for i, j in pairs.tolist())
    assert [HAND_A[i, j] for i, j in pairs.tolist()] == sorted([HAND_A[i, j] for i, j in pairs.tolist()], reverse=True)
    assert strongest_pairs(a, 1, include_diagonal=True).tolist() == [[1, 1]]


def test_merge_inverses_sums_blocks():
    lecture = builtin_kg()
    R = lecture.num_relations
    a = relation_graph(lecture.triples, lecture.num_entities, R)
    m = merge_inverses(a, R)
    dense = a.toarray()
    assert m.shape == (R, R)
    np.testing.assert_allclose(m.toarray(), dense[:R, :R] + dense[:R, R:] + dense[R:, :R] + dense[R:, R:])


def test_explain_merged_pair_sums_to_the_merged_weight():
    kg = builtin_kg()
    R = kg.num_relations
    m = merge_inverses(relation_graph(kg.triples, kg.num_entities, R), R)
    for i in range(R):
        for j in range(R):
            terms = explain_merged_pair(kg.triples, kg.num_entities, R, i, j)
            assert sum(c.value for _, c in terms) == pytest.approx(m[i, j])
            assert all(a % R == i and b % R == j for (a, b), _ in terms)
    with pytest.raises(ValueError):
        explain_merged_pair(kg.triples, kg.num_entities, R, R, 0)
