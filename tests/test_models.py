"""kgviz.models: every scorer behind one interface, the registry, and the one ranking path (kgviz.ranking.ranks)."""

import importlib.util

import numpy as np
import pytest
import torch

from conftest import SMALL_CONFIG, randomize
from kg_factory import random_triples
from kgviz.models.baselines.common import TrainedModel, TrainingInfo
from kgviz.models.ingram.checkpoint import save_checkpoint
from kgviz.graph.data import KnowledgeGraph, read_kg
from kgviz.defaults import DEFAULTS
from kgviz.evaluation.benchmark import embed
from kgviz.models.counting_scores import degree_scores, personalized_pagerank, relation_frequency
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram
from kgviz.models.base import DrawScorer, Needs, Scorer
from kgviz.models.counting import CountingScorer
from kgviz.models.ingram.scorer import InGramScorer
from kgviz.models.registry import UnknownScorerError, available_scorers, resolve_scorer
from kgviz.models.trained import TrainingScorer
from kgviz.ranking.ranks import rank_query

MOVIES = "sample_kgs/movies.tsv"


@pytest.fixture(scope="module")
def movies():
    return read_kg(MOVIES)


@pytest.fixture(scope="module")
def model():
    return randomize(InGram.from_config(SMALL_CONFIG), 4).eval()


def test_available_scorers_say_what_each_needs():
    rows = {r.name: r for r in available_scorers()}
    for name, needs in (
        ("frequency", Needs.NOTHING),
        ("degree", Needs.NOTHING),
        ("pagerank", Needs.NOTHING),
        ("untrained-ingram", Needs.NOTHING),
        ("transe", Needs.TRAINING),
        ("rgcn", Needs.TRAINING),
        ("ingram", Needs.WEIGHTS),
        ("ultra-3g", Needs.WEIGHTS),
    ):
        assert rows[name].needs == needs, name


@pytest.mark.parametrize("name", ["frequency", "degree", "pagerank", "untrained-ingram", "ingram"])
def test_registered_scorers_satisfy_the_protocol(name, movies):
    if name == "ingram" and not any(r.name == "ingram" and r.available for r in available_scorers()):
        pytest.skip("no InGram checkpoint is shipped")
    scorer = resolve_scorer(name, seeds=(0, 1), device="cpu")
    assert isinstance(scorer, Scorer) and scorer.needs == next(r.needs for r in available_scorers() if r.name == name)
    anchors, relations = torch.tensor([0, 3, 5]), torch.tensor([0, 1, 2])
    for direction in ("tail", "head"):
        s = scorer.scores(movies, anchors, relations, direction)
        assert s.shape == (3, movies.num_entities) and s.dtype == torch.float32 and s.device.type == "cpu"
    assert isinstance(scorer, DrawScorer) == scorer.capabilities.draws
    if scorer.capabilities.draws:
        draws = scorer.draw_scores(movies, anchors, relations, "tail")
        assert draws.shape == (2, 3, movies.num_entities)
        assert torch.allclose(scorer.scores(movies, anchors, relations, "tail"), draws.mean(0))


def test_counting_scorers_are_the_heuristics(movies):
    t, n, r = movies.triples, movies.num_entities, movies.num_relations
    anchors, rels = torch.tensor([0, 4, 7]), torch.tensor([1, 0, 2])
    for direction in ("tail", "head"):
        got = CountingScorer("frequency").scores(movies, anchors, rels, direction)
        assert torch.equal(got, relation_frequency(t, n, r, rels, direction).float())
    assert torch.equal(CountingScorer("degree").scores(movies, anchors, rels, "tail"), degree_scores(t, n, 3).float())
    pr = CountingScorer("pagerank").scores(movies, anchors, rels, "tail")
    assert torch.allclose(pr, personalized_pagerank(t, n, anchors).float())
    with pytest.raises(ValueError, match="unknown counting baseline"):
        CountingScorer("popularity")


def test_ingram_scorer_is_the_forward_pass_of_predictor_and_evaluate(movies, model):
    scorer = InGramScorer(model, seeds=(3, 5), device="cpu")
    pred = Predictor(model, movies, seeds=(3, 5), device="cpu")
    a, r = movies.entity_index["Ryan Gosling"], movies.relation_index["profession"]
    draws = scorer.draw_scores(movies, torch.tensor([a]), torch.tensor([r]), "tail")[:, 0]
    assert torch.allclose(draws, pred.scores(a, r).float(), atol=1e-6)
    ent, rel = embed(model, movies, [5], torch.device("cpu"))[0]
    by_hand = model.score_all_tails(ent, rel, torch.tensor([a]), torch.tensor([r]))[0]
    assert torch.allclose(draws[1], by_hand.float(), atol=1e-6)
    # head queries score f(e, r, a) = f(a, r, e)
    heads = scorer.draw_scores(movies, torch.tensor([a]), torch.tensor([r]), "head")
    assert torch.equal(heads[:, 0], draws)
    # the embeddings are kept per graph content: an equal KG reuses them, another KG does not
    assert scorer.embeddings(read_kg(MOVIES)) is scorer.embeddings(movies)


def test_resolve_a_checkpoint_folder_and_unknown_names(tmp_path, movies, model):
    save_checkpoint(tmp_path / "mine", model, SMALL_CONFIG)
    scorer = resolve_scorer(tmp_path / "mine", seeds=(0,), device="cpu")
    assert isinstance(scorer, InGramScorer) and scorer.name == "mine" and scorer.seeds == (0,)
    assert resolve_scorer("untrained-ingram", device="cpu").seeds == DEFAULTS.seeds()  # the default draws
    with pytest.raises(UnknownScorerError, match="unknown model 'bogus'.*frequency"):
        resolve_scorer("bogus")


@pytest.mark.skipif(importlib.util.find_spec("kgviz.models.ultra.network") is not None, reason="ULTRA is installed")
def test_ultra_names_say_ultra_is_not_installed():
    with pytest.raises(UnknownScorerError, match="ULTRA is not installed in this build"):
        resolve_scorer("ultra-3g")


class _Lookup(TrainedModel):
    """A 'trained' model that knows entities 0…k−1 and scores e by its id (higher id, higher score)."""

    name = "lookup"

    def __init__(self, k: int):
        self.k, self.info = k, TrainingInfo()

    def entity_map(self, known: KnowledgeGraph) -> torch.Tensor:
        ids = torch.arange(known.num_entities)
        return torch.where(ids < self.k, ids, -1)

    def relation_map(self, known: KnowledgeGraph) -> torch.Tensor:
        return torch.arange(known.num_relations)

    def _scores(self, known, anchors, relations, direction):
        return torch.arange(known.num_entities, dtype=torch.float32).expand(len(anchors), -1)


def test_training_scorer_wraps_a_trained_model(movies):
    scorer = TrainingScorer("lookup", model=_Lookup(5))
    assert isinstance(scorer, Scorer) and scorer.needs == Needs.TRAINING
    s = scorer.scores(movies, torch.tensor([0]), torch.tensor([0]), "tail")
    assert s[0, :5].tolist() == [0, 1, 2, 3, 4] and torch.isinf(s[0, 5:]).all()
    ranked = rank_query(scorer, 0, 0, graph=movies, exclude_self=False, known_side=False)
    assert [c.entity for c in ranked.candidates[:5]] == [4, 3, 2, 1, 0]
    with pytest.raises(ValueError, match="unknown trained model"):
        TrainingScorer("word2vec")


class _Fixed:
    """A scorer with given scores (no draws)."""

    name, needs = "fixed", Needs.NOTHING

    def __init__(self, scores: torch.Tensor):
        from kgviz.models.base import Capabilities

        self.capabilities, self._s = Capabilities(), scores

    def scores(self, graph, anchors, relations, direction):
        return self._s.expand(len(anchors), -1).float()


@pytest.mark.parametrize("num_entities", [127, 128, 255, 256, 1000])
@pytest.mark.parametrize("direction", ["tail", "head"])
def test_display_order_is_tier_then_score_at_every_size(num_entities, direction):
    """Regression for the int8 tier overflow (issue 26): order = brute-force sort by (tier, −score)."""
    rng = np.random.default_rng(num_entities)
    triples = random_triples(num_entities, 3, 3 * num_entities, seed=num_entities)
    names = [f"e{i}" for i in range(num_entities)]
    kg = KnowledgeGraph(names, ["r0", "r1", "r2"], triples, source="synthetic")
    scores = torch.from_numpy(rng.standard_normal(num_entities)).float()
    anchor, rel = int(triples[0, 0]), int(triples[0, 1])
    ranked = rank_query(_Fixed(scores), anchor, rel, direction, graph=kg)
    side = triples[triples[:, 1] == rel, 2 if direction == "tail" else 0]
    tier = np.where(np.isin(np.arange(num_entities), side), 0, 1)
    tier[anchor] = 2  # no self-loop of r (random triples may hold one: then the anchor keeps its tier)
    if ((triples[:, 0] == triples[:, 2]) & (triples[:, 1] == rel)).any():
        tier[anchor] = 0 if anchor in side else 1
    brute = sorted(range(num_entities), key=lambda e: (tier[e], -float(scores[e])))
    assert [c.entity for c in ranked.candidates] == brute
    assert [c.tier for c in ranked.candidates] == sorted(tier.tolist())
    assert all(c.marks == ([] if c.tier == 0 else [c.note]) for c in ranked.candidates)
