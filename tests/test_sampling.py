"""kgviz.training.sampling: the message/supervision split and corruptions (spec §6)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from kg_factory import random_triples
from kgviz.training.sampling import (
    FANOUT_CHOICES,
    IncidenceIndex,
    breadth_first_forest,
    compact,
    RelationSides,
    corrupt,
    log_uniform_size,
    sample_subgraph,
    split_triples,
)
from kgviz.training.universal_examples import MixtureOptions, TrainGraph, draw_example


def components(triples, n):
    g = sp.csr_matrix((np.ones(len(triples)), (triples[:, 0], triples[:, 2])), shape=(n, n))
    present = np.zeros(n, bool)
    present[triples[:, [0, 2]].ravel()] = True
    _, labels = connected_components(g, directed=False)
    return len(set(labels[present]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_keeps_spanning_forest_relations_and_ratio(seed):
    n, r = 80, 7
    t = random_triples(n, r, 200, seed)
    # A relation with a single triple must land in the message set.
    t = np.concatenate([t, [[0, r, 1]]])
    msg = split_triples(t, n, r + 1, np.random.default_rng(seed))
    assert msg.dtype == bool and msg.shape == (len(t),)
    assert msg.sum() == round(0.75 * len(t))
    assert set(t[msg, 1]) == set(range(r + 1))
    assert components(t[msg], n) == components(t, n)


def test_split_is_random_per_draw():
    t = random_triples(50, 4, 150, 3)
    rng = np.random.default_rng(0)
    a, b = split_triples(t, 50, 4, rng), split_triples(t, 50, 4, rng)
    assert (a != b).any()


def test_split_when_forest_exceeds_ratio():
    # A path graph: the spanning forest alone needs every triple.
    t = np.array([[i, 0, i + 1] for i in range(20)])
    msg = split_triples(t, 21, 1, np.random.default_rng(0))
    assert msg.all()


def reference_bfs_forest(triples, n):
    """igraph's unweighted spanning tree, written out: BFS from each unreached entity in id order,
    neighbours in id order (edges undirected); each tree edge in the direction of its first triple."""
    from collections import deque

    nbrs = [set() for _ in range(n)]
    for h, _, t in triples.tolist():
        if h != t:
            nbrs[h].add(t)
            nbrs[t].add(h)
    first = {}
    for h, _, t in triples.tolist():
        first.setdefault(frozenset((h, t)), (h, t))
    seen, keys = [False] * n, set()
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in sorted(nbrs[u]):
                if not seen[v]:
                    seen[v] = True
                    queue.append(v)
                    h, t = first[frozenset((u, v))]
                    keys.add(h * n + t)
    return keys


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_breadth_first_forest_matches_the_authors_tree(seed):
    n = 60
    t = random_triples(n, 3, 70, seed)  # sparse: several components, isolated entities, parallel triples
    t = np.concatenate([t, [[5, 0, 5]], t[:5, ::-1]])  # a self-loop and reversed duplicates
    keys = breadth_first_forest(t, n)
    assert set(keys.tolist()) == reference_bfs_forest(t, n)
    assert (
        len(keys)
        == n
        - connected_components(sp.csr_matrix((np.ones(len(t)), (t[:, 0], t[:, 2])), shape=(n, n)), directed=False)[0]
    )


def test_split_with_the_authors_fixed_tree():
    n, r = 80, 5
    t = random_triples(n, r, 220, 4)
    t = np.concatenate([t, t[:30] * [1, 0, 1] + [0, r, 0]])  # parallel triples under a new relation r
    tree = breadth_first_forest(t, n)
    rng = np.random.default_rng(0)
    masks = [split_triples(t, n, r + 1, rng, tree=tree) for _ in range(20)]
    key = t[:, 0] * n + t[:, 2]
    for msg in masks:
        assert set(tree.tolist()) <= set(key[msg].tolist())  # every tree pair, every epoch
        assert components(t[msg], n) == components(t, n)
        assert set(t[msg, 1]) == set(range(r + 1)) and msg.sum() == round(0.75 * len(t))
    # which parallel triple stands for a tree pair is drawn anew each epoch
    parallel = np.isin(key, tree) & (
        np.bincount(np.unique(key, return_inverse=True)[1])[np.unique(key, return_inverse=True)[1]] > 1
    )
    assert parallel.any() and len({m[parallel].tobytes() for m in masks}) > 1


def test_corruptions_differ_from_positive_in_exactly_one_entity():
    g = torch.Generator().manual_seed(0)
    pos = torch.tensor(random_triples(30, 3, 100, 1))
    neg = corrupt(pos, 30, 10, g)
    assert neg.shape == (10 * len(pos), 3)
    rep = pos.repeat(10, 1)
    head_changed = neg[:, 0] != rep[:, 0]
    tail_changed = neg[:, 2] != rep[:, 2]
    assert (neg[:, 1] == rep[:, 1]).all()
    assert (head_changed ^ tail_changed).all()  # exactly one side replaced, never by itself
    assert 0.4 < head_changed.float().mean() < 0.6
    assert neg.min() >= 0 and neg[:, [0, 2]].max() < 30


def test_corruptions_cover_all_other_entities():
    g = torch.Generator().manual_seed(0)
    pos = torch.tensor([[0, 0, 1]]).repeat(4000, 1)
    neg = corrupt(pos, 5, 1, g)
    heads = set(neg[neg[:, 2] == 1, 0].tolist())
    assert heads == {1, 2, 3, 4}  # uniform over the *other* entities


def random_graph(rng: np.random.Generator, n: int = 300, r: int = 12, m: int = 2000) -> np.ndarray:
    t = np.stack([rng.integers(0, n, m), rng.integers(0, r, m), rng.integers(0, n, m)], axis=1)
    return np.unique(t, axis=0)


def num_components(triples: np.ndarray, n: int) -> int:
    a = sp.csr_matrix((np.ones(len(triples)), (triples[:, 0], triples[:, 2])), shape=(n, n))
    used = np.unique(triples[:, [0, 2]])
    k, labels = connected_components(a, directed=False)
    return len(np.unique(labels[used]))


@pytest.mark.parametrize("fanout", FANOUT_CHOICES)
@pytest.mark.parametrize("closure", [False, True])
def test_subgraph_connected_and_sized(fanout, closure):
    rng = np.random.default_rng(fanout)
    triples = random_graph(rng)
    index = IncidenceIndex.of(triples, 300)
    for size in (1, 5, 37, 400):
        ids = sample_subgraph(index, size, rng, fanout=fanout, closure=closure)
        assert len(ids) == len(np.unique(ids))
        assert 1 <= len(ids) <= (2 * size if closure else size)
        if not closure:
            assert len(ids) == size  # the graph is one big component: the size is reached
        assert num_components(triples[ids], 300) == 1


def test_subgraph_stops_at_component_and_respects_relations():
    # two components: a path 0-1-2-3 (relation 0) and 10-11 (relation 1); a triple of relation 2 at 3-4
    triples = np.array([[0, 0, 1], [1, 0, 2], [2, 0, 3], [10, 1, 11], [3, 2, 4]])
    index = IncidenceIndex.of(triples, 12)
    rng = np.random.default_rng(0)
    ids = sample_subgraph(index, 100, rng, seed_entity=0)
    assert sorted(ids.tolist()) == [0, 1, 2, 4]
    keep = np.array([True, True, False])
    ids = sample_subgraph(index, 100, rng, seed_entity=0, relation_mask=keep)
    assert sorted(ids.tolist()) == [0, 1, 2]


def test_fanout_limits_each_round():
    star = np.array([[0, 0, k] for k in range(1, 21)])  # a hub with 20 leaves
    index = IncidenceIndex.of(star, 21)
    ids = sample_subgraph(index, 20, np.random.default_rng(0), fanout=3, seed_entity=0)
    assert len(ids) == 20  # capped per round, the hub stays in the frontier until the size is reached


def test_compact_renumbers_densely():
    t = np.array([[5, 7, 9], [9, 3, 5], [5, 7, 2]])
    out, n, r = compact(t, np.random.default_rng(0))
    assert (n, r) == (3, 2)
    assert out[:, [0, 2]].max() == 2 and out[:, 1].max() == 1
    # same structure: triples 0 and 2 share head and relation
    assert out[0, 0] == out[2, 0] and out[0, 1] == out[2, 1] and out[0, 2] == out[1, 0]


def test_log_uniform_size_in_range():
    rng = np.random.default_rng(0)
    sizes = [log_uniform_size(rng, 10, 10000) for _ in range(2000)]
    assert min(sizes) >= 10 and max(sizes) <= 10000
    assert 0.2 < np.mean(np.array(sizes) < 100) < 0.45  # a third of the mass below 100 on a log scale


def test_examples_keep_split_constraints():
    rng = np.random.default_rng(1)
    triples = random_graph(rng)
    g = TrainGraph("g", triples, 300, 12)
    opts = MixtureOptions(size_range=(10, 500))
    for _ in range(50):
        ex = draw_example([g], np.array([1.0]), opts, rng)
        assert len(ex.supervision) >= 1
        every = np.concatenate([ex.message, ex.supervision])
        assert num_components(every, ex.num_entities) == 1
        assert set(np.unique(every[:, [0, 2]]).tolist()) == set(range(ex.num_entities))
        # every relation of the supervision set occurs in the message set
        assert set(ex.supervision[:, 1].tolist()) <= set(ex.message[:, 1].tolist())
        assert len(every) <= 2 * 500


def test_mixture_options_refuse_bad_values():
    with pytest.raises(ValueError, match="size range"):
        MixtureOptions(size_range=(100, 10))
    with pytest.raises(ValueError, match="message ratio"):
        MixtureOptions(message_ratio=(0.5, 1.0))
    with pytest.raises(ValueError, match="mixture"):
        MixtureOptions(mixture="zipf")


def test_other_side_corruptions_come_from_the_other_side_of_the_relation():
    """With share 1, a replaced tail is a head of the relation, a replaced head a tail of it."""
    known = np.array([[0, 0, 1], [2, 0, 3], [4, 1, 5], [5, 1, 6]])
    sides = RelationSides.of(known, 2)
    heads = {0: {0, 2}, 1: {4, 5}}
    tails = {0: {1, 3}, 1: {5, 6}}
    pos = torch.tensor([[0, 0, 1], [4, 1, 5], [2, 0, 3]])
    neg = corrupt(pos, 7, 200, torch.Generator().manual_seed(0), other_side=sides, other_side_share=1.0)
    rep = pos.repeat(200, 1)
    tail_changed = neg[:, 0] == rep[:, 0]
    for (h, r, t), was_tail in zip(neg.tolist(), tail_changed.tolist()):
        assert (t in heads[r]) if was_tail else (h in tails[r])
    # both members of each side occur
    assert {t for (h, r, t), w in zip(neg.tolist(), tail_changed.tolist()) if w and r == 0} == {0, 2}


def test_other_side_share_zero_is_the_uniform_corruption():
    pos = torch.tensor([[0, 0, 1], [2, 0, 3]])
    sides = RelationSides.of(pos.numpy(), 1)
    a = corrupt(pos, 9, 5, torch.Generator().manual_seed(3))
    b = corrupt(pos, 9, 5, torch.Generator().manual_seed(3), other_side=sides, other_side_share=0.0)
    assert torch.equal(a, b)


def test_relation_sides_lists_distinct_entities_per_side():
    sides = RelationSides.of(np.array([[0, 1, 2], [0, 1, 3], [4, 1, 2]]), 3)
    assert sides.counts.tolist() == [[0, 2, 0], [0, 2, 0]]
    p = int(sides.pointers[0, 1])
    assert sorted(sides.entities[p : p + 2].tolist()) == [0, 4]
    p = int(sides.pointers[1, 1])
    assert sorted(sides.entities[p : p + 2].tolist()) == [2, 3]
