"""How far to trust a ranking (kgviz.trust): ensemble size, constrained ranking, stability, verdicts."""

import numpy as np
import pytest
import torch

from kgviz.data import from_triples, read_kg
from kgviz.inference import Predictor
from kgviz.model import InGram
from kgviz.ranking import filtered_rank
from kgviz.trust import (
    ENSEMBLE_LEAST,
    ENSEMBLE_MOST,
    ensemble_size,
    forward_seconds,
    rank_query,
    self_check_verdict,
    stability,
)

from conftest import SMALL_CONFIG


@pytest.fixture(scope="module")
def movies():
    return read_kg("sample_kgs/movies.tsv")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(3)
    return InGram.from_config(SMALL_CONFIG).eval()


def test_ensemble_size_fits_the_budget_within_bounds(movies, model):
    assert ensemble_size(0.1, budget=0.5) == 5
    assert ensemble_size(0.001, budget=0.5) == ENSEMBLE_MOST
    assert ensemble_size(1.0, budget=0.5) == ENSEMBLE_LEAST
    assert ensemble_size(0.0) == ENSEMBLE_MOST
    t = forward_seconds(model, movies, "cpu")
    assert 0 < t < 5


def test_rank_query_orders_by_tier_then_mean_score(movies, model):
    pred = Predictor(model, movies, seeds=range(5), device="cpu")
    q = rank_query(pred, "Ryan Gosling", "profession")
    names = [c.name for c in q.candidates]
    assert len(names) == movies.num_entities and names[-1] == "Ryan Gosling"  # own entity excluded: last
    assert q.candidates[-1].tier == 2 and q.candidates[-1].probability == 0
    # only actor and director are ever tails of 'profession': they lead, the rest are marked
    assert set(names[:2]) == {"actor", "director"}
    assert all(c.tier == 1 and c.note == "other side only" for c in q.candidates[2:-1])
    mean = pred.scores(movies.entity_index["Ryan Gosling"], movies.relation_index["profession"]).mean(0).double()
    first = [c for c in q.candidates if c.tier == 0]
    assert [c.score for c in first] == sorted((c.score for c in first), reverse=True)
    assert first[0].score == pytest.approx(float(mean[first[0].entity]))
    # softmax over the front tier: sums to 1 there, follows the score order
    probs = np.array([c.probability for c in first])
    assert probs.sum() == pytest.approx(1.0) and (np.diff(probs) <= 0).all()
    assert all(c.probability == 0 for c in q.candidates if c.tier > 0)
    # per-draw ranks use the same tiers: the own entity is last under every draw
    assert q.candidates[-1].seed_ranks == [movies.num_entities] * 5
    for c in q.candidates:
        assert len(c.seed_ranks) == 5 and c.rank_min <= c.rank_max
    # frequency: actor and director are tails of 'profession' once each
    assert {c.name: c.frequency_count for c in first} == {"actor": 1, "director": 1}
    assert all(c.frequency_rank == 1 for c in first)
    assert "relation-tail frequency" in q.frequency.verdict


def test_rank_query_without_constraints_is_the_plain_ranking(movies, model):
    pred = Predictor(model, movies, seeds=range(3), device="cpu")
    q = rank_query(pred, "Ryan Gosling", "profession", exclude_self=False, known_side=False)
    plain = pred.rank_tails("Ryan Gosling", "profession", None)
    assert [c.name for c in q.candidates] == [c.name for c in plain]
    assert [c.seed_ranks for c in q.candidates] == [c.seed_ranks for c in plain]
    assert sum(c.probability for c in q.candidates) == pytest.approx(1.0)
    # rank_of agrees with the spec's filtered rank on the mean scores
    a, r = movies.entity_index["Ryan Gosling"], movies.relation_index["profession"]
    mean = pred.scores(a, r).mean(0, keepdim=True)
    for e in (0, 5, 10):
        assert q.rank_of(e, filtered=False) == int(filtered_rank(mean, torch.tensor([e]))[0])


def test_self_loops_keep_the_own_entity_and_filter_drops_known(model):
    kg = from_triples([("a", "likes", "a"), ("a", "likes", "b"), ("b", "likes", "c"), ("c", "knows", "a")])
    pred = Predictor(model, kg, seeds=[0, 1], device="cpu")
    q = rank_query(pred, "a", "likes")
    assert next(c for c in q.candidates if c.name == "a").tier == 0  # a self-loop of 'likes' exists
    filtered = rank_query(pred, "a", "likes", filter_known=True)
    assert {c.name for c in filtered.candidates} == {"c"}  # (a, likes, a) and (a, likes, b) are known
    heads = rank_query(pred, "c", "likes", "head")
    assert {c.name for c in heads.candidates if c.tier == 0} == {"a", "b"}  # heads of 'likes'


def test_stability_in_words_and_figures(movies, model):
    pred = Predictor(model, movies, seeds=range(8), device="cpu")
    q = rank_query(pred, "Ryan Gosling", "profession", exclude_self=False, known_side=False)
    s = stability(q, k=5)
    ranks = np.array([c.seed_ranks for c in q.candidates])
    assert s.top1_share == pytest.approx((ranks[0] == 1).mean())
    assert s.overlap == pytest.approx((ranks[:5] <= 5).sum(0).mean() / 5)
    assert s.stable == (s.top1_share >= 0.5 and s.overlap >= 0.6)
    assert f"of {s.draws} draws" in s.message and q.candidates[0].name in s.message
    assert ("Unstable" in s.message) != s.stable
    assert (
        stability(rank_query(Predictor(model, movies, seeds=[0], device="cpu"), "Ryan Gosling", "profession")) is None
    )


def test_self_check_verdict():
    m = {
        "InGram + both constraints": {"MRR": 0.5},
        "relation-tail frequency": {"MRR": 0.3},
        "global degree": {"MRR": 0.6},
    }
    assert "better than relation-tail frequency" in self_check_verdict(
        m
    ) and "global degree (0.600)" in self_check_verdict(m)
    m["InGram + both constraints"]["MRR"] = 0.1
    assert "worse than relation-tail frequency" in self_check_verdict(m)
    assert "baselines only" in self_check_verdict({"global degree": {"MRR": 0.2}})
