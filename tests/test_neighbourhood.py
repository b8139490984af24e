"""Neighbourhoods of large KGs (kgviz.graph.neighbourhood)."""

import numpy as np

from kgviz.catalog import LECTURE_TRIPLES, builtin_kg
from kgviz.graph.data import from_triples
from kgviz.graph.neighbourhood import default_centre, neighbourhood_entities, triples_among


def neighbourhood(kg, centres, max_nodes):
    return triples_among(kg, neighbourhood_entities(kg, centres, max_nodes))


def test_neighbourhood_is_bounded():
    rng = np.random.default_rng(0)
    triples = [
        (f"e{a}", f"r{b}", f"e{c}")
        for a, b, c in zip(rng.integers(0, 500, 2000), rng.integers(0, 5, 2000), rng.integers(0, 500, 2000))
    ]
    kg = from_triples(triples)
    ids = neighbourhood(kg, [0], 50)
    ents = set(kg.triples[ids][:, [0, 2]].ravel().tolist())
    assert 0 in ents and len(ents) <= 50 and len(ids) > 0
    assert len(neighbourhood(builtin_kg(), [0], 50)) == len(LECTURE_TRIPLES)


def test_neighbourhood_order_and_fallbacks():
    kg = from_triples([("a", "r", "b"), ("b", "r", "c"), ("c", "r", "d"), ("x", "s", "y"), ("y", "s", "x")])
    assert neighbourhood_entities(kg, [0], 3) == [0, 1, 2]  # a, then b, then c: nearest first
    assert neighbourhood_entities(kg, [], 2) == [1, 2]  # no centre: highest degree first (b, c)
    assert neighbourhood_entities(kg, [4], 10) == list(range(6))  # small KG: everything
    assert triples_among(kg, [0, 1, 2]).tolist() == [0, 1]
    assert default_centre(kg, None, 1) == [4, 5] and default_centre(kg, 3, None) == [3]


def test_neighbours_of_a_hub_come_by_degree():
    # hub 0 with leaves 1..5; leaf 5 also links to 6, 7: it is the best-connected neighbour
    kg = from_triples([("h", "r", f"l{k}") for k in range(1, 6)] + [("l5", "s", "x"), ("l5", "s", "y")])
    ids = neighbourhood_entities(kg, [kg.entity_index["h"]], 3)
    assert [kg.entities[e] for e in ids] == ["h", "l5", "l1"]


def test_top_relations_keep_the_selection_and_the_strongest():
    import scipy.sparse as sp

    from kgviz.graph.neighbourhood import relation_strength, top_relations, weight_share

    a = np.zeros((8, 8))
    a[0, 1] = a[1, 0] = 5.0  # strongest pair
    a[2, 3] = a[3, 2] = 3.0
    a[6, 7] = a[7, 6] = 0.1  # weak pair; 7 is selected below
    a[4, 5] = a[5, 4] = 1.0
    np.fill_diagonal(a, 100.0)  # self-affinities do not count as strength
    m = sp.csr_matrix(a)
    assert relation_strength(m).tolist() == [5, 5, 3, 3, 1, 1, 0.1, 0.1]
    assert top_relations(m, 4) == [0, 1, 2, 3]
    assert top_relations(m, 4, selected=[7]) == [0, 1, 6, 7]  # 7, its neighbour 6, then the strongest
    assert top_relations(m, 20) == list(range(8))
    assert abs(weight_share(m, [0, 1]) - 10 / 18.2) < 1e-9


def test_cluster_order_groups_similar_relations():
    import scipy.sparse as sp

    from kgviz.graph.neighbourhood import cluster_order

    # two blocks {0, 2, 4} and {1, 3, 5}, interleaved in id order
    a = np.zeros((6, 6))
    for block in ([0, 2, 4], [1, 3, 5]):
        for i in block:
            for j in block:
                a[i, j] = 1.0 + (i == j)
    order = cluster_order(sp.csr_matrix(a), range(6))
    assert sorted(order) == list(range(6))
    assert {frozenset(order[:3]), frozenset(order[3:])} == {frozenset([0, 2, 4]), frozenset([1, 3, 5])}
    assert cluster_order(sp.csr_matrix(np.zeros((4, 4))), [3, 1, 2, 0]) != []  # no weight: still an order


def test_short_labels_are_short_distinct_and_drop_the_shared_prefix():
    from kgviz.graph.neighbourhood import short_labels

    names = [
        "concept:athleteplaysinleague",
        "concept:athleteplaysinleague⁻¹",
        "concept:agentcreated",
        "concept:agriculturalproductcookedwithagriculturalproduct",
        "concept:agriculturalproductcookedwithagriculturalproduct⁻¹",
    ]
    short = short_labels(names, max_len=20)
    assert short[0] == "athleteplaysinleague" and short[2] == "agentcreated"
    assert len(set(short)) == len(names)
    assert all(len(s) <= 20 for s in short[:4]) and short[4].endswith("⁻¹")
    assert short_labels(["a", "b"]) == ["a", "b"] and short_labels(["x:1"]) == ["x:1"]
