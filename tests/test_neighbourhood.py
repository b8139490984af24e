"""Neighbourhoods of large KGs (kgviz.neighbourhood)."""
import numpy as np

from kgviz.catalog import LECTURE_TRIPLES, builtin_kg
from kgviz.data import from_triples
from kgviz.neighbourhood import default_centre, neighbourhood_entities, triples_among


def neighbourhood(kg, centres, max_nodes):
    return triples_among(kg, neighbourhood_entities(kg, centres, max_nodes))


def test_neighbourhood_is_bounded():
    rng = np.random.default_rng(0)
    triples = [(f"e{a}", f"r{b}", f"e{c}") for a, b, c in zip(rng.integers(0, 500, 2000),
                                                               rng.integers(0, 5, 2000),
                                                               rng.integers(0, 500, 2000))]
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
