"""kgviz.models.ingram.predictor: Predictor rankings equal the model's scores; known facts; names; tie rule."""

import numpy as np
import pytest
import torch

from kgviz.graph.data import from_triples
from kgviz.models.ingram.predictor import (
    Predictor,
    UnknownNameError,
    graph_tensors,
    pick_device,
    resolve,
    seeded_features,
)
from kgviz.graph.relgraph import add_inverses, binned_edges, relation_graph

KG = from_triples(
    [
        ("Alice", "knows", "Bob"),
        ("Alice", "knows", "Carol"),
        ("Bob", "knows", "Carol"),
        ("Carol", "lives in", "Paris"),
        ("Bob", "lives in", "Berlin"),
        ("Alice", "likes", "Paris"),
        ("Dave", "knows", "Alice"),
        ("Eve", "likes", "Berlin"),
        ("Eve", "lives in", "Paris"),
    ]
)


@pytest.fixture
def predictor(small_model):
    return Predictor(small_model(0, torch.float32), KG, seeds=(0,), device="cpu")


def explicit_scores(model, kg, seed, triples):
    """``model.score`` of explicit id triples after a forward pass with draw ``seed``."""
    g = graph_tensors(kg, model.num_bin)
    with torch.no_grad():
        ent, rel = model(*seeded_features(model, kg, seed), g.triplets, g.relation_triplets)
        return model.score(ent, rel, torch.tensor(triples))


def test_graph_tensors():
    g = graph_tensors(KG, 4)
    assert torch.equal(g.triplets, torch.from_numpy(add_inverses(KG.triples, KG.num_relations)))
    a = relation_graph(KG.triples, KG.num_entities, KG.num_relations)
    assert (g.affinity != a).nnz == 0
    assert torch.equal(g.relation_triplets, torch.from_numpy(binned_edges(a, 4)))


def test_rank_tails_scores_equal_model_score(predictor):
    rows = predictor.rank_tails("Alice", "knows", top_k=None)
    assert len(rows) == KG.num_entities
    assert [c.rank for c in rows] == list(range(1, KG.num_entities + 1))
    h, r = KG.entity_index["Alice"], KG.relation_index["knows"]
    expected = explicit_scores(predictor.model, KG, 0, [[h, r, c.entity] for c in rows])
    np.testing.assert_allclose([c.score for c in rows], expected.numpy(), rtol=1e-5, atol=1e-6)
    assert [c.score for c in rows] == sorted((c.score for c in rows), reverse=True)
    assert [c.name for c in rows] == [KG.entities[c.entity] for c in rows]
    assert (
        len(predictor.rank_tails("Alice", "knows")) == min(10, KG.num_entities)
        and len(predictor.rank_tails("Alice", "knows", 3)) == 3
    )


def test_rank_heads_scores_equal_model_score(predictor):
    rows = predictor.rank_heads("lives in", "Paris", top_k=None)
    r, t = KG.relation_index["lives in"], KG.entity_index["Paris"]
    expected = explicit_scores(predictor.model, KG, 0, [[c.entity, r, t] for c in rows])
    np.testing.assert_allclose([c.score for c in rows], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_known_flag_and_filter(predictor):
    rows = predictor.rank_tails("Alice", "knows", top_k=None)
    assert {c.name for c in rows if c.known} == {"Bob", "Carol"}
    filtered = predictor.rank_tails("Alice", "knows", top_k=None, filter_known=True)
    assert [c.name for c in filtered] == [c.name for c in rows if not c.known]
    assert [c.rank for c in filtered] == list(range(1, len(filtered) + 1))
    assert not any(c.known for c in filtered)
    heads = predictor.rank_heads("lives in", "Paris", top_k=None)
    assert {c.name for c in heads if c.known} == {"Carol", "Eve"}
    assert {c.name for c in predictor.rank_heads("lives in", "Paris", None, filter_known=True)} == (
        set(KG.entities) - {"Carol", "Eve"}
    )


def test_seeds_average(small_model):
    model = small_model(1, torch.float32)
    pred = Predictor(model, KG, seeds=(3, 4, 5), device="cpu")
    rows = pred.rank_tails("Bob", "lives in", top_k=None)
    h, r = KG.entity_index["Bob"], KG.relation_index["lives in"]
    ids = [c.entity for c in rows]
    per_seed = torch.stack([explicit_scores(model, KG, s, [[h, r, e] for e in ids]) for s in (3, 4, 5)])
    np.testing.assert_allclose([c.score for c in rows], per_seed.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        [c.score_std for c in rows], per_seed.std(0, unbiased=False).numpy(), rtol=1e-4, atol=1e-6
    )
    assert all(len(c.seed_ranks) == 3 for c in rows)
    single = Predictor(model, KG, seeds=(3,), device="cpu").rank_tails("Bob", "lives in", top_k=None)
    assert [c.score for c in single] != [c.score for c in rows]  # the draws differ
    with pytest.raises(ValueError):
        Predictor(model, KG, seeds=(), device="cpu")


def test_unknown_names_list_close_matches(predictor):
    with pytest.raises(UnknownNameError) as info:
        predictor.rank_tails("Alise", "knows")
    err = info.value
    assert isinstance(err, KeyError) and err.kind == "entity" and err.name == "Alise"
    assert "Alice" in err.suggestions and "'Alice'" in str(err)
    with pytest.raises(UnknownNameError, match="'lives in'") as info:
        predictor.rank_heads("live in", "Paris")
    assert info.value.kind == "relation"
    with pytest.raises(UnknownNameError):
        predictor.rank_tails("Alice", 99)
    # exact, case-insensitive and id look-ups
    assert resolve(" alice ", KG.entity_index, "entity") == 0
    assert resolve(np.int64(2), KG.entity_index, "entity") == 2
    assert predictor.rank_tails(0, 0, None)[0].score == predictor.rank_tails("Alice", "knows", None)[0].score


def tie_rule_rank(scores, target, removed=()):
    """Spec §7 written out: 1 + #higher + ⌊#equal (itself excluded) / 2⌋ over the kept candidates."""
    s = scores[target]
    others = [x for e, x in enumerate(scores) if e != target and e not in removed]
    return 1 + sum(x > s for x in others) + sum(x == s for x in others) // 2


def test_rank_of_follows_tie_rule(predictor, monkeypatch):
    n = KG.num_entities  # 7: Alice Bob Carol Paris Berlin Dave Eve
    crafted = torch.tensor([[5.0, 3.0, 3.0, 3.0, 3.0, 9.0, 3.0]])
    monkeypatch.setattr(predictor.scorer, "draw_scores", lambda g, a, r, d: crafted.unsqueeze(1))
    known = {KG.entity_index["Bob"], KG.entity_index["Carol"]}  # known tails of (Alice, knows, ?)
    for target in range(n):
        name = KG.entities[target]
        assert predictor.rank_of("Alice", "knows", name, filtered=False) == tie_rule_rank(crafted[0].tolist(), target)
        assert predictor.rank_of("Alice", "knows", name) == tie_rule_rank(crafted[0].tolist(), target, known - {target})
    # e.g. Berlin (3.0): higher are 9 and 5; equal are 4 others → 1 + 2 + 2 = 5; filtered: 2 others → 4
    assert predictor.rank_of("Alice", "knows", "Berlin", filtered=False) == 5
    assert predictor.rank_of("Alice", "knows", "Berlin") == 4


def test_seed_ranks_follow_tie_rule(predictor, monkeypatch):
    n = KG.num_entities
    crafted = torch.tensor([[2.0] * n, [float(n - e) for e in range(n)]])  # seed 1: all tied; seed 2: strict
    monkeypatch.setattr(predictor.scorer, "draw_scores", lambda g, a, r, d: crafted.unsqueeze(1))
    rows = predictor.rank_tails("Alice", "knows", top_k=None)
    for c in rows:
        assert c.seed_ranks == [tie_rule_rank(crafted[0].tolist(), c.entity), c.entity + 1]
        assert (c.rank_min, c.rank_max) == (min(c.seed_ranks), max(c.seed_ranks))


def test_attention_of_a_seed(predictor):
    att = predictor.attention()
    assert len(att["relation"]) == 2 and len(att["entity"]) == 2
    m = 2 * KG.num_triples
    assert att["entity"][0].alpha.shape == (m + KG.num_entities, 2)


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            pick_device("cuda")


def test_rank_of_heads_uses_head_scores_and_known_heads(predictor):
    # (?, lives in, Paris): known heads Carol and Eve; rank of Carol with Eve filtered out
    scores = predictor.scores(KG.entity_index["Paris"], KG.relation_index["lives in"], "head")[0].tolist()
    carol, eve = KG.entity_index["Carol"], KG.entity_index["Eve"]
    assert predictor.rank_of("Paris", "lives in", "Carol", "head") == tie_rule_rank(scores, carol, {eve})
    assert predictor.rank_of("Paris", "lives in", "Carol", "head", filtered=False) == tie_rule_rank(scores, carol)
    heads = predictor.rank_heads("lives in", "Paris", top_k=None)
    assert [c.entity for c in heads] == sorted(range(KG.num_entities), key=lambda e: -scores[e])
