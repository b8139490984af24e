"""Baselines and constraints of kgviz.models.counting_scores against brute force on small random graphs."""

import numpy as np
import pytest
import torch

from conftest import SMALL_CONFIG, random_triples
from kgviz.ranking.constraints import constraint_tiers, demote, self_loop_relations, tiered_rank
from kgviz.models.counting_scores import (
    Baselines,
    degree_scores,
    personalized_pagerank,
    relation_frequency,
    tail_flags,
    untrained_ingram_scores,
)
from kgviz.models.ingram.predictor import graph_tensors
from kgviz.graph.data import KnowledgeGraph
from kgviz.ranking.ranks import filtered_rank


def small_graph(seed: int, n: int = 9, r: int = 3, m: int = 25) -> np.ndarray:
    return np.unique(random_triples(np.random.default_rng(seed), n, r, m), axis=0)


def queries(seed: int, n: int, r: int, q: int = 12):
    rng = np.random.default_rng(seed + 100)
    return rng.integers(0, n, q), rng.integers(0, r, q), rng.random(q) < 0.5


@pytest.mark.parametrize("seed", range(4))
def test_relation_frequency_and_degree_match_counting(seed):
    n, r = 9, 3
    t = small_graph(seed, n, r)
    anchors, rels, is_tail = queries(seed, n, r)
    freq = relation_frequency(t, n, r, rels, is_tail)
    deg = degree_scores(t, n, len(rels))
    for q in range(len(rels)):
        for e in range(n):
            side = 2 if is_tail[q] else 0
            assert freq[q, e] == sum(1 for x in t if x[1] == rels[q] and x[side] == e)
            assert deg[q, e] == sum(int(x[0] == e) + int(x[2] == e) for x in t)
    assert torch.equal(Baselines(t, n, r).scores("relation-tail frequency", anchors, rels, is_tail), freq)


@pytest.mark.parametrize("seed", range(4))
def test_personalized_pagerank_solves_its_linear_system(seed):
    n = 10  # entity 9 has no triple: a dangling node that returns its mass to the anchor
    t = small_graph(seed, 9, 3)
    anchors = np.array([0, 3, 3, 9, 5])
    pi = personalized_pagerank(t, n, anchors, tol=1e-13, dtype=np.float64).numpy()
    fast = personalized_pagerank(t, n, anchors).numpy()  # float32, L1 error ≤ 1e-6
    adj = np.zeros((n, n))
    for h, _, tl in t:
        adj[h, tl] += 1
        adj[tl, h] += 1
    deg = adj.sum(1)
    walk = np.divide(adj, deg[:, None], out=np.zeros_like(adj), where=deg[:, None] > 0)
    dangling = (deg == 0).astype(float)
    for q, a in enumerate(anchors):
        s = np.zeros(n)
        s[a] = 1
        system = np.eye(n) - 0.85 * (walk.T + np.outer(s, dangling))
        expect = np.linalg.solve(system, 0.15 * s)
        np.testing.assert_allclose(pi[q], expect, atol=1e-12)
        assert np.abs(fast[q] - expect).sum() < 2e-6
        assert abs(pi[q].sum() - 1) < 1e-9


def test_tail_flags_checks_its_input():
    assert tail_flags("head", 3).tolist() == [False] * 3
    with pytest.raises(ValueError, match="direction"):
        tail_flags("sideways", 3)
    with pytest.raises(ValueError, match="shape"):
        tail_flags([True, False], 3)


def brute_force_rank(scores, tiers, target, filtered):
    """1 + #(kept others better by (tier, score)) + ⌊#(kept others of equal tier and score) / 2⌋."""
    better = equal = 0
    for e in range(len(scores)):
        if e == target or e in filtered:
            continue
        key, own = (-tiers[e], scores[e]), (-tiers[target], scores[target])
        better += key > own
        equal += key == own
    return 1 + better + equal // 2


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exclude_self,known_side", [(True, True), (True, False), (False, True), (False, False)])
def test_constrained_rank_matches_brute_force_with_ties(seed, exclude_self, known_side):
    n, r = 9, 3
    t = small_graph(seed, n, r)
    if seed % 2:  # a self-loop of relation 1: its queries keep their own entity
        t = np.unique(np.concatenate([t, [[4, 1, 4]]]), axis=0)
    rng = np.random.default_rng(seed)
    anchors, rels, is_tail = queries(seed, n, r, q=20)
    targets = rng.integers(0, n, len(rels))
    scores = torch.from_numpy(rng.integers(0, 4, (len(rels), n)).astype(np.float64))  # many ties
    mask = torch.from_numpy(rng.random((len(rels), n)) < 0.2)
    tiers = constraint_tiers(t, n, r, anchors, rels, is_tail, exclude_self=exclude_self, known_side=known_side)
    loops = {int(x[1]) for x in t if x[0] == x[2]}
    assert self_loop_relations(t, r).tolist() == [k in loops for k in range(r)]
    ranks = tiered_rank(scores, torch.from_numpy(targets), mask, tiers)
    via_keys = filtered_rank(demote(scores, tiers), torch.from_numpy(targets), mask)
    for q in range(len(rels)):
        side = 2 if is_tail[q] else 0
        seen = {int(x[side]) for x in t if x[1] == rels[q]}
        expect_tiers = [
            (
                2
                if exclude_self and e == anchors[q] and rels[q] not in loops
                else 1
                if known_side and e not in seen
                else 0
            )
            for e in range(n)
        ]
        assert tiers[q].tolist() == expect_tiers
        filtered = set(np.flatnonzero(mask[q].numpy()).tolist())
        expect = brute_force_rank(scores[q].tolist(), expect_tiers, int(targets[q]), filtered)
        assert ranks[q] == expect
        assert via_keys[q] == expect
    if not (exclude_self or known_side):
        assert torch.equal(ranks, filtered_rank(scores, torch.from_numpy(targets), mask))


def test_untrained_ingram_is_a_mean_over_weight_seeds_and_leaves_the_global_rng_alone():
    t = small_graph(0, 12, 3, 40)
    kg = KnowledgeGraph(tuple(f"e{i}" for i in range(12)), ("a", "b", "c"), t)
    g = graph_tensors(kg, SMALL_CONFIG.num_bin)
    anchors, rels = torch.tensor([0, 5, 7]), torch.tensor([0, 2, 1])
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    one = [
        untrained_ingram_scores(
            SMALL_CONFIG, (g.triplets, g.relation_triplets), 12, 3, anchors, rels, weight_seeds=(s,)
        )
        for s in (0, 1, 2)
    ]
    assert torch.equal(torch.rand(1), before)
    mean = untrained_ingram_scores(SMALL_CONFIG, (g.triplets, g.relation_triplets), 12, 3, anchors, rels)
    assert mean.shape == (3, 12)
    torch.testing.assert_close(mean, sum(one) / 3)
    assert not torch.allclose(one[0], one[1])


def test_compare_with_frequency_ranks_counts_and_verdicts():
    from kgviz.graph.data import from_triples
    from kgviz.models.counting_scores import compare_with_frequency

    kg = from_triples([("a", "likes", "x"), ("b", "likes", "x"), ("c", "likes", "y"), ("a", "knows", "b")])
    ids = kg.entity_index
    order = [ids[n] for n in ("x", "y", "a", "b", "c")]  # InGram's order
    agree = compare_with_frequency(kg, kg.relation_index["likes"], "tail", order, 2)
    assert agree.counts == {ids["x"]: 2, ids["y"]: 1, ids["a"]: 0, ids["b"]: 0, ids["c"]: 0}
    # tie rule: the three zeros share ranks 3 + ⌊2/2⌋ = 4
    assert agree.ranks == {ids["x"]: 1, ids["y"]: 2, ids["a"]: 4, ids["b"]: 4, ids["c"]: 4}
    assert agree.agree and "agrees with relation-tail frequency" in agree.verdict and "'x' is also" in agree.verdict
    differ = compare_with_frequency(kg, kg.relation_index["likes"], "tail", [ids[n] for n in "abxyc"], 2)
    assert not differ.agree
    assert "'a' (InGram #1, 0× a tail), 'b' (InGram #2, 0× a tail)" in differ.verdict
    assert "first choice 'x' (2× a tail of 'likes') is InGram's #3" in differ.verdict
    heads = compare_with_frequency(kg, kg.relation_index["knows"], "head", [ids[n] for n in "bxa"], 1)
    assert "relation-head frequency" in heads.verdict and "'a' (1× a head of 'knows') is InGram's #3" in heads.verdict
    none = compare_with_frequency(kg, kg.relation_index["knows"], "head", [ids["x"], ids["y"]], 1)
    assert "nothing to say" in none.verdict
