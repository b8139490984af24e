"""ULTRA's relation graph: the sparse construction against set intersections, and the authors' movies graph."""

import numpy as np
import pytest
from kg_factory import random_triples
from ultra_shared import MOVIES, fixture

from kgviz.graph.data import KnowledgeGraph, read_kg
from kgviz.models.ultra.graph import (
    augmented_edges,
    build_ultra_graph,
    inverse_name,
    named_relation_graph,
    relation_graph,
)


def brute_force_relation_graph(edge_index: np.ndarray, edge_type: np.ndarray, num_relations: int) -> list:
    """``[i, j, type]`` by set intersections, in the order hh, tt, ht, th, each block by (i, j)."""
    heads = [set() for _ in range(num_relations)]
    tails = [set() for _ in range(num_relations)]
    for u, v, r in zip(edge_index[0].tolist(), edge_index[1].tolist(), edge_type.tolist()):
        heads[r].add(u)
        tails[r].add(v)
    pairs = ((heads, heads), (tails, tails), (heads, tails), (tails, heads))
    return [
        [i, j, k]
        for k, (a, b) in enumerate(pairs)
        for i in range(num_relations)
        for j in range(num_relations)
        if a[i] & b[j]
    ]


def test_augmented_edges_are_triples_then_inverses():
    triples = np.array([[0, 1, 2], [3, 0, 1]])
    edge_index, edge_type = augmented_edges(triples, num_relations=2)
    assert edge_index.tolist() == [[0, 3, 2, 1], [2, 1, 0, 3]]
    assert edge_type.tolist() == [1, 0, 3, 2]


@pytest.mark.parametrize(
    "entities, relations, triples, seed",
    [(5, 2, 6, 0), (30, 6, 80, 1), (200, 20, 600, 2), (1000, 40, 3000, 3), (50, 30, 40, 4)],
)
def test_sparse_relation_graph_equals_set_intersections(entities, relations, triples, seed):
    t = random_triples(entities, relations, triples, seed)
    kg = KnowledgeGraph(tuple(map(str, range(entities))), tuple(map(str, range(relations))), t)
    g = build_ultra_graph(kg)
    expected = brute_force_relation_graph(g.edge_index.numpy(), g.edge_type.numpy(), 2 * relations)
    got = np.concatenate([g.relation_edge_index.numpy(), g.relation_edge_type.numpy()[None]]).T.tolist()
    assert got == expected
    assert g.edge_index.shape == (2, 2 * len(t)) and g.num_relations == 2 * relations


def test_relation_graph_of_relations_without_edges():
    """A relation no triple uses has no relation-graph edge (not even a self-loop)."""
    edge_index, edge_type = augmented_edges(np.array([[0, 0, 1]]), num_relations=2)
    rel_index, rel_type = relation_graph(edge_index, edge_type, num_entities=2, num_relations=4)
    assert set(rel_index.ravel().tolist()) <= {0, 2}
    assert len(rel_type) == 8  # hh and tt: (0,0), (2,2); ht and th: (0,2), (2,0)
    assert np.stack([*rel_index, rel_type]).T.tolist() == brute_force_relation_graph(edge_index, edge_type, 4)


def test_movies_relation_graph_equals_the_authors():
    fx = fixture("movies_ultra_3g.json")
    kg = read_kg(MOVIES)
    assert list(kg.relations) == fx["relations"]  # same numbering rule: names in first-seen order
    g = build_ultra_graph(kg)
    got = np.concatenate([g.relation_edge_index.numpy(), g.relation_edge_type.numpy()[None]]).T.tolist()
    assert got == fx["relation_graph"]["edges"]
    assert len(got) == 144


def test_named_relation_graph_on_movies():
    kg = read_kg(MOVIES)
    named = named_relation_graph(kg)
    g = build_ultra_graph(kg)
    assert len(named) == g.relation_edge_type.numel()
    names = set(kg.relations) | {inverse_name(r) for r in kg.relations}
    assert {e.source for e in named} | {e.target for e in named} <= names
    assert {e.kind for e in named} == {"hh", "tt", "ht", "th"}
    # Emma Stone heads 'acted in' and 'profession': an hh edge both ways; 'acted in⁻¹' has her as tail.
    pairs = {(e.source, e.target, e.kind) for e in named}
    assert ("acted in", "profession", "hh") in pairs and ("profession", "acted in", "hh") in pairs
    assert ("acted in⁻¹", "profession", "th") in pairs
