"""Filtered ranking and metrics (spec §7) against brute-force references."""

import numpy as np
import pytest
import torch

from kg_factory import write_benchmark
from kgviz.graph.data import load_benchmark
from kgviz.evaluation.benchmark import evaluate, format_metrics, query_set
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.ranking.ranks import filtered_rank, known_mask, metrics


def brute_rank(scores, target, removed):
    """1 + #higher + ⌊#equal / 2⌋ over the entities that are neither the target nor removed."""
    s = scores[target]
    others = [e for e in range(len(scores)) if e != target and e not in removed]
    higher = sum(scores[e] > s for e in others)
    equal = sum(scores[e] == s for e in others)
    return 1 + higher + equal // 2


def test_filtered_rank_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    scores = torch.tensor(rng.integers(0, 4, (200, 12)), dtype=torch.float32)  # many ties
    targets = torch.tensor(rng.integers(0, 12, 200))
    mask = torch.tensor(rng.random((200, 12)) < 0.3)
    ranks = filtered_rank(scores, targets, mask)
    for q in range(200):
        removed = set(np.nonzero(mask[q].numpy())[0].tolist()) - {int(targets[q])}
        assert ranks[q] == brute_rank(scores[q].tolist(), int(targets[q]), removed)


def test_tie_rule_examples():
    scores = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]])
    # target 0 ties with three others: 1 + 0 + ⌊3/2⌋ = 2
    assert filtered_rank(scores, torch.tensor([0])).item() == 2
    # filtering two of them leaves one tie: 1 + ⌊1/2⌋ = 1
    assert filtered_rank(scores, torch.tensor([0]), torch.tensor([[True, True, True, False, False]])).item() == 1


def test_metrics_of_known_ranks():
    m = metrics(torch.tensor([1, 2, 4, 20]))
    assert m["MR"] == pytest.approx(27 / 4)
    assert m["MRR"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 20) / 4)
    assert (m["Hits@1"], m["Hits@3"], m["Hits@10"]) == (0.25, 0.5, 0.75)
    with pytest.raises(ValueError):
        metrics(torch.tensor([]))


def test_known_mask_matches_sets():
    rng = np.random.default_rng(1)
    known = np.unique(rng.integers(0, 6, (60, 3)), axis=0)
    keys = rng.integers(0, 40, 25)
    mask = known_mask(keys, known[:, 0] * 7 + known[:, 1], known[:, 2], 6)
    for q, k in enumerate(keys):
        expected = {t for h, r, t in known.tolist() if h * 7 + r == k}
        assert set(np.nonzero(mask[q].numpy())[0].tolist()) == expected


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    data = load_benchmark(write_benchmark(tmp_path_factory.mktemp("ev") / "EV", seed=3))
    torch.manual_seed(0)
    model = InGram.from_config(InGramConfig(num_layer_ent=1, num_layer_rel=1)).eval()
    return data, model


def test_evaluate_matches_per_triple_loop(setup):
    """The batched evaluation equals the authors' per-triple loop over explicit corrupted triples."""
    data, model = setup
    result = evaluate(model, data, "test", seeds=[0, 1], ensemble=2, device="cpu")
    known = {tuple(x) for x in np.concatenate([data.inference.triples, data.valid, data.test]).tolist()}
    n = data.inference.num_entities
    for seed in (0, 1):
        p = Predictor(model, data.inference, seeds=[seed], device="cpu")
        ent, rel = p.embeddings[0]
        ranks = []
        for h, r, t in data.test.tolist():
            cand = torch.tensor([[h, r, e] for e in range(n)])
            s = model.score(ent, rel, cand).tolist()
            ranks.append(brute_rank(s, t, {e for e in range(n) if (h, r, e) in known}))
        for h, r, t in data.test.tolist():
            cand = torch.tensor([[e, r, t] for e in range(n)])
            s = model.score(ent, rel, cand).tolist()
            ranks.append(brute_rank(s, h, {e for e in range(n) if (e, r, t) in known}))
        expected = metrics(torch.tensor(ranks))
        for k, v in expected.items():
            assert result["per_seed"][str(seed)][k] == pytest.approx(v, rel=1e-6), (seed, k)
    assert result["ensemble"]["k"] == 2 and set(result["ensemble"]["metrics"]) == set(expected)
    assert result["mean"]["MRR"] == pytest.approx(np.mean([result["per_seed"][s]["MRR"] for s in ("0", "1")]))
    text = format_metrics(result)
    assert "mean" in text and "ens. K=2" in text


def test_query_set_has_both_directions(setup):
    data, _ = setup
    qs = query_set(data.inference, data.test, np.concatenate([data.inference.triples, data.valid, data.test]))
    q = len(data.test)
    assert qs.num_tail_queries == q and len(qs.answers) == 2 * q
    assert (qs.answers[:q].numpy() == data.test[:, 2]).all() and (qs.answers[q:].numpy() == data.test[:, 0]).all()
    assert qs.mask[torch.arange(2 * q), qs.answers].all()  # the true answer is a known triple


def test_empty_split_is_a_clear_error(setup, tmp_path):
    _, model = setup
    d = tmp_path / "EMPTY"
    d.mkdir()
    (d / "msg.txt").write_text("a\tp\tb\nb\tq\tc\n")
    (d / "valid.txt").write_text("")
    (d / "test.txt").write_text("a\tq\tc\n")
    with pytest.raises(ValueError, match="EMPTY: the valid split holds no triples"):
        evaluate(model, load_benchmark(d), "valid", seeds=[0], device="cpu")
