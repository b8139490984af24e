"""ULTRA's path explanations: gradients checked by finite differences, paths checked against the KG."""

import pytest
import torch
from ultra_shared import MOVIES, ROOT

from kgviz.graph.data import from_triples, read_kg
from kgviz.models.ultra.network import Ultra, UltraScorer, load_ultra
from kgviz.models.ultra.graph import build_ultra_graph
from kgviz.models.ultra.paths import beam_search_paths, edge_gradients, explain_paths

TINY = (("a", "p", "b"), ("b", "q", "c"), ("c", "p", "d"), ("a", "q", "d"), ("d", "r", "b"))


def test_edge_gradients_match_finite_differences():
    torch.manual_seed(0)
    model = Ultra().double().eval()
    for p in model.parameters():  # larger than the default init, so the gradients are not all tiny
        p.data.mul_(3.0)
    kg = from_triples(TINY)
    graph = build_ultra_graph(kg)
    anchor, relation, candidate = kg.entity_index["a"], kg.relation_index["p"], kg.entity_index["c"]
    for head in (False, True):
        gradient = edge_gradients(model, graph, anchor, relation, candidate, head)
        assert gradient.shape == (2 * kg.num_triples,)
        assert gradient.abs().max() > 1e-6
        eps = 1e-6
        for e in range(2 * kg.num_triples):
            weights = torch.ones(2 * kg.num_triples, dtype=torch.float64)
            with torch.no_grad():
                weights[e] += eps
                up = model(graph, torch.tensor([anchor]), torch.tensor([relation]), head, weights)[0, candidate]
                weights[e] -= 2 * eps
                down = model(graph, torch.tensor([anchor]), torch.tensor([relation]), head, weights)[0, candidate]
            assert abs((up - down).item() / (2 * eps) - gradient[e].item()) < 1e-6


def test_beam_search_finds_the_best_walks():
    # 0 → 1 → 3 and 0 → 2 → 3 (edge e goes edge_index[1, e] → edge_index[0, e]), and 0 → 3 directly.
    edge_index = torch.tensor([[1, 3, 2, 3, 3], [0, 1, 0, 2, 0]])
    gradients = torch.tensor([1.0, 3.0, 0.5, 0.5, 1.5])
    found = beam_search_paths(edge_index, gradients, source=0, target=3, max_length=2, beam=4)
    assert [edges for edges, _ in found] == [[0, 1], [4], [2, 3]]
    assert [w for _, w in found] == [2.0, 1.5, 0.5]


@pytest.fixture(scope="module")
def ultra_3g() -> UltraScorer:
    return load_ultra(ROOT / "pretrained" / "ultra-3g", device="cpu")


@pytest.mark.parametrize("direction", ["tail", "head"])
def test_movies_paths_are_real_paths_sorted_by_weight(ultra_3g, direction):
    kg = read_kg(MOVIES)
    triples = {(kg.entities[h], kg.relations[r], kg.entities[t]) for h, r, t in kg.triples.tolist()}
    if direction == "tail":  # (Ryan Gosling, profession, actor)
        anchor, relation, candidate = "Ryan Gosling", "profession", "actor"
    else:  # (?, acted in, La La Land): why Emma Stone?
        anchor, relation, candidate = "La La Land", "acted in", "Emma Stone"
    paths = explain_paths(
        ultra_3g,
        kg,
        kg.entity_index[anchor],
        kg.relation_index[relation],
        kg.entity_index[candidate],
        direction,
        k=5,
    )
    assert paths, "no path found"
    weights = [p.weight for p in paths]
    assert weights == sorted(weights, reverse=True)
    for path in paths:
        assert 1 <= len(path.steps) <= 3
        walked = [anchor]
        for step in path.steps:
            assert (step.head, step.relation, step.tail) in triples
            start, end = (step.tail, step.head) if step.inverse else (step.head, step.tail)
            assert start == walked[-1]
            walked.append(end)
        assert walked[-1] == candidate and len(set(walked)) == len(walked)
    if direction == "tail":  # Ryan Gosling is linked to 'actor' only through Emma Stone
        assert any(s.head == "Emma Stone" for s in paths[0].steps)


def test_explain_paths_checks_its_arguments(ultra_3g):
    kg = read_kg(MOVIES)
    with pytest.raises(ValueError, match="max_length"):
        explain_paths(ultra_3g, kg, 0, 0, 1, "tail", max_length=7)
    with pytest.raises(ValueError, match="candidate id"):
        explain_paths(ultra_3g, kg, 0, 0, kg.num_entities, "tail")
