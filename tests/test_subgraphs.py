"""The subgraph sampler and the training examples of the universal checkpoint."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from kgviz.subgraphs import FANOUT_CHOICES, IncidenceIndex, compact, log_uniform_size, sample_subgraph
from kgviz.universal import MixtureOptions, TrainGraph, draw_example


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
