"""The per-KG leaderboard: protocol (no fact scored by what trained on it), metrics, calibration, choice, JSON."""

import json

import numpy as np
import pytest
import torch

from kg_factory import typed_graph, write_benchmark
from kgviz.graph.data import KnowledgeGraph, from_triples
from kgviz.evaluation.leaderboard import COUNTING, SCENARIOS, Cancelled, ScorerSpec, leaderboard
from kgviz.evaluation.leaderboard.calibration import expected_calibration_error, fit_temperature, reliability_bins
from kgviz.evaluation.leaderboard.metrics import bootstrap_interval
from kgviz.evaluation.leaderboard.protocol import make_split, score_held_out, variant_ranks
from kgviz.evaluation.leaderboard.scorers import counting_spec, pagerank_spec
from kgviz.models.base import Capabilities, Needs


def _kg(seed: int = 0, people: int = 60) -> KnowledgeGraph:
    return from_triples(typed_graph("", np.random.default_rng(seed), people=people), source=f"typed {seed}")


class Memoriser:
    """Scores 1 for every fact of the graph it was fit on, 0 otherwise: MRR 1 on any fact it saw."""

    capabilities = Capabilities()

    def __init__(self, name: str, needs: Needs, facts: np.ndarray):
        self.name, self.needs = name, needs
        self.facts = {tuple(t) for t in facts.tolist()}

    def scores(self, graph, anchors, relations, direction):
        out = torch.zeros(len(anchors), graph.num_entities)
        for q, (a, r) in enumerate(zip(anchors.tolist(), relations.tolist())):
            for e in range(graph.num_entities):
                if ((a, r, e) if direction == "tail" else (e, r, a)) in self.facts:
                    out[q, e] = 1.0
        return out


def _memoriser_spec(kg: KnowledgeGraph | None = None) -> ScorerSpec:
    """Fit on the known graph it is given, or (leaky) on ``kg`` whatever it is given."""
    return ScorerSpec(
        "memoriser",
        Needs.TRAINING,
        lambda known, budget, hook: Memoriser("memoriser", Needs.TRAINING, (kg or known).triples),
    )


@pytest.mark.parametrize("people", [30, 600])  # k folds (small KG) and one split (≥ 2,000 triples)
def test_a_fact_is_never_scored_by_a_scorer_that_trained_on_it(people):
    kg = _kg(1, people)
    split = make_split(kg)
    assert split.num_folds == (5 if people == 30 else 1) and (kg.num_triples < 2000) == (people == 30)
    honest = score_held_out(kg, [_memoriser_spec()], split, budget_s=0)
    leaky = score_held_out(kg, [_memoriser_spec(kg)], split, budget_s=0)  # the same scorer fit on everything
    mrr = lambda held: float((1.0 / variant_ranks(held, held.scores["memoriser"])[""].double()).mean())  # noqa: E731
    assert mrr(leaky) == 1.0  # the check can fail: a scorer that saw the facts ranks them first
    assert mrr(honest) < 0.2
    # every query is asked from a graph without its fact: the honest memoriser scores no answer above 0
    q = torch.arange(len(honest.answers))
    assert (honest.scores["memoriser"][q, honest.answers] == 0).all()
    # validation and test are disjoint facts, each fact asked both ways in the same part
    facts = {tuple(f): v for f, v in zip(honest.facts.tolist(), honest.validation)}
    assert all(facts[tuple(f)] == v for f, v in zip(honest.facts.tolist(), honest.validation))
    assert 0 < honest.validation.mean() < 1


def test_bootstrap_interval_contains_the_mean_and_shrinks_with_more_facts():
    rng = np.random.default_rng(0)
    small = 1.0 / rng.integers(1, 20, 100)
    large = 1.0 / rng.integers(1, 20, 1600)
    lo_s, hi_s = bootstrap_interval(small, seed=3)
    lo_l, hi_l = bootstrap_interval(large, seed=3)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < 0.5 * (hi_s - lo_s)  # width ~ 1/√n: 4× narrower for 16× the facts
    assert bootstrap_interval(small, seed=3) == (lo_s, hi_s)


def test_temperature_fit_recovers_a_known_temperature():
    gen = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(4000, 30, generator=gen, dtype=torch.float64)
    for true_t in (0.5, 2.5):
        targets = torch.multinomial(torch.softmax(logits / true_t, 1), 1, generator=gen).squeeze(1)
        assert fit_temperature(logits, targets) == pytest.approx(true_t, rel=0.1)


def test_ece_is_near_zero_for_calibrated_predictions_and_large_for_overconfident_ones():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0, 1, 50_000)
    correct = rng.uniform(0, 1, 50_000) < conf
    assert expected_calibration_error(conf, correct) < 0.01
    assert expected_calibration_error(conf, np.zeros_like(correct)) == pytest.approx(conf.mean(), abs=0.01)
    bins = reliability_bins(conf, correct)
    assert sum(b["count"] for b in bins) == len(conf) and len(bins) == 10


def test_half_link_scenarios_match_brute_force():
    kg = _kg(2, 25)
    split = make_split(kg, seed=4)
    held = score_held_out(kg, [counting_spec()], split, budget_s=0)
    for i, ((h, r, t), tail, f) in enumerate(zip(held.facts.tolist(), held.is_tail, held.fold)):
        known = {tuple(x) for x in np.delete(kg.triples, split.held[split.fold == f], axis=0).tolist()}
        hr = any(k[0] == h and k[1] == r for k in known)
        rt = any(k[1] == r and k[2] == t for k in known)
        anchor_seen, answer_seen = (hr, rt) if tail else (rt, hr)
        expected = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[(anchor_seen, answer_seen)]
        assert held.scenario[i] == expected, SCENARIOS[expected]
    assert len(set(held.scenario.tolist())) >= 2  # the groups are not all one


def _noisy_spec(seed: int) -> ScorerSpec:
    """Counting plus noise: partly right, so it may help in a combination."""
    counting = counting_spec().make(None, 0, None)  # type: ignore[arg-type]

    class Noisy:
        name, needs, capabilities = "noisy counting", Needs.NOTHING, Capabilities()

        def scores(self, graph, anchors, relations, direction):
            s = counting.scores(graph, anchors, relations, direction)
            gen = torch.Generator().manual_seed(seed)
            return s + 3.0 * torch.randn(s.shape, generator=gen)

    return ScorerSpec("noisy counting", Needs.NOTHING, lambda known, budget, hook: Noisy())


def test_recommendation_is_at_least_every_single_scorer_on_validation_and_says_so():
    kg = _kg(3, 80)
    seen = []
    board = leaderboard(
        kg, [counting_spec(), pagerank_spec(), _noisy_spec(1)], budget_s=0, progress=lambda f, m: seen.append(f)
    )
    val = {r["method"]: r["mrr"] for r in board.rows if r["split"] == "validation"}
    assert len(val) == 3 * 3 + 1
    assert all(val["recommended"] >= m - 1e-9 for m in val.values())
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert f"{board.validation_facts} held-out validation facts" in board.sentence
    assert board.validation_facts + board.test_facts == len(make_split(kg).held)
    for name in (COUNTING, "personalized PageRank"):
        assert board.calibration[name]["temperature"] > 0 and 0 <= board.calibration[name]["test_ece"] <= 1
    _check_rows(json.loads(json.dumps(board.to_json())))
    assert board.to_json()["recommended"] == board.recommendation.name
    groups = board.scenarios["recommended"]["test"]
    assert sum(g["queries"] for g in groups.values()) == 2 * board.test_facts


def test_nothing_beats_counting_when_counting_is_best():
    class Constant:
        name, needs, capabilities = "constant", Needs.NOTHING, Capabilities()

        def scores(self, graph, anchors, relations, direction):
            return torch.zeros(len(anchors), graph.num_entities)

    constant = ScorerSpec("constant", Needs.NOTHING, lambda known, budget, hook: Constant())
    board = leaderboard(_kg(4, 60), [constant, counting_spec()], budget_s=0)
    assert board.recommendation.counting_only
    assert board.sentence.startswith("Nothing beats counting on this KG")
    assert board.row("constant", "test")["mrr"] < board.row(COUNTING, "test")["mrr"]


def test_cancel_stops_the_run():
    with pytest.raises(Cancelled):
        leaderboard(_kg(0, 30), [counting_spec()], budget_s=0, cancel=lambda: True)


ROW_KEYS = {"method": str, "split": str, "mrr": float, "hits1": float, "hits10": float}


def _check_rows(result: dict) -> None:
    assert isinstance(result["recommended"], str)
    for row in result["rows"]:
        assert all(isinstance(row[k], t) for k, t in ROW_KEYS.items())


@pytest.mark.slow
def test_cli_json_formats(tmp_path, capsys):
    from kgviz.cli.parser import main

    kg_file = tmp_path / "kg.tsv"
    kg_file.write_text(_kg(5, 25).to_tsv(), encoding="utf-8")
    out = tmp_path / "self.json"
    assert (
        main(["selfcheck", "--kg", str(kg_file), "--leaderboard", "--budget", "1", "--json", str(out), "--no-progress"])
        == 0
    )
    board = json.loads(out.read_text())
    _check_rows(board)
    printed = capsys.readouterr().out
    assert "half-link scenarios, recommended, test facts:" in printed and "ECE (test)" in printed
    assert all(f"{name}: trained 5× on the folds" in printed for name in ("DistMult", "RotatE", "R-GCN"))
    assert any(r["method"] == "ULTRA 3g" for r in board["rows"]) or "ULTRA 3g" in board["skipped"]
    folders = [write_benchmark(tmp_path / n, seed=i) for i, n in enumerate(("A", "B"))]
    out = tmp_path / "transfer.json"
    argv = [
        "transfer",
        "--data",
        *map(str, folders),
        "--recommend",
        "--budget",
        "1",
        "--json",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert set(result["kgs"]) == {"A", "B"}
    for kg in result["kgs"].values():
        _check_rows(kg)
        assert [r for r in kg["rows"] if r["method"] == "recommended" and r["split"] == "test.txt"]


def test_spec_of_takes_ready_scorers_and_refuses_ones_that_must_train():
    from kgviz.evaluation.leaderboard import spec_of

    counting = counting_spec().make(None, 0, None)  # type: ignore[arg-type]
    spec = spec_of(counting)
    assert spec.name == counting.name and not spec.trains and counting_spec().name == COUNTING
    with pytest.raises(ValueError, match="needs training"):
        spec_of(Memoriser("memoriser", Needs.TRAINING, np.zeros((0, 3), dtype=np.int64)))


def test_benchmark_choice_uses_msg_alone_and_reports_a_recommended_test_row(tmp_path):
    from kgviz.graph.data import load_benchmark
    from kgviz.evaluation.leaderboard import recommend_on_benchmark

    folder = write_benchmark(tmp_path / "kg", seed=3)
    specs = [counting_spec(), pagerank_spec(), _noisy_spec(5)]
    _, first = recommend_on_benchmark(load_benchmark(folder), specs, budget_s=0)
    _check_rows(first)
    assert {r["split"] for r in first["rows"]} == {"validation", "test", "test.txt"}
    recommended = [r for r in first["rows"] if r["method"] == "recommended" and r["split"] == "test.txt"]
    assert len(recommended) == 1 and recommended[0]["queries"] == 2 * len(load_benchmark(folder).test)
    # valid.txt and test.txt play no part in the choice: halve them and the folds' rows stay the same
    for name in ("valid.txt", "test.txt"):
        lines = (folder / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[: len(lines) // 2]))
    _, second = recommend_on_benchmark(load_benchmark(folder), specs, budget_s=0)
    fold_rows = lambda result: [r for r in result["rows"] if r["split"] != "test.txt"]  # noqa: E731
    assert fold_rows(first) == fold_rows(second) and first["recommended"] == second["recommended"]


def test_cli_says_what_is_missing(tmp_path, capsys):
    from kgviz.cli.parser import main

    folder = write_benchmark(tmp_path / "kg")
    assert main(["transfer", "--data", str(folder), "--no-progress"]) == 2
    assert "transfer needs --checkpoint or --model (or --recommend)" in capsys.readouterr().err
    kg_file = tmp_path / "kg.tsv"
    kg_file.write_text(_kg(0, 20).to_tsv(), encoding="utf-8")
    assert main(["selfcheck", "--kg", str(kg_file), "--leaderboard", "--budget", "-1", "--no-progress"]) == 2
    assert "--budget must be ≥ 0 seconds" in capsys.readouterr().err


def test_recommended_scorer_scores_are_the_weighted_sum_of_normalised_member_scores():
    from kgviz.evaluation.leaderboard.recommend import normalise
    from kgviz.evaluation.leaderboard.recommended import RecommendedScorer
    from kgviz.ranking.ranks import rank_query

    kg = _kg(3, 40)
    counting, pagerank = counting_spec().make(kg, 0, None), pagerank_spec().make(kg, 0, None)
    weights = {"counting": 1.0, "pagerank": 0.5}
    scorer = RecommendedScorer({"counting": counting, "pagerank": pagerank}, weights, " + both constraints", 0.7)
    anchors, relations = torch.from_numpy(kg.triples[:50, 0]), torch.from_numpy(kg.triples[:50, 1])
    for direction in ("tail", "head"):
        got = scorer.scores(kg, anchors, relations, direction)
        c = counting.scores(kg, anchors, relations, direction).double()
        p = pagerank.scores(kg, anchors, relations, direction).double()
        z = lambda s: (s - s.mean(1, keepdim=True)) / s.std(1, unbiased=False, keepdim=True)  # noqa: E731
        assert got.shape == (50, kg.num_entities) and got.dtype == torch.float32
        assert torch.allclose(got.double(), 1.0 * z(c) + 0.5 * z(p), atol=1e-4)
        assert torch.equal(got, (1.0 * normalise(c) + 0.5 * normalise(p)).float())
    # one member: its raw scores; it ranks through rank_query like any model, with its variant and temperature
    single = RecommendedScorer({"counting": counting}, {"counting": 1.0})
    assert torch.equal(single.scores(kg, anchors, relations, "tail"), counting.scores(kg, anchors, relations, "tail"))
    h, r = kg.entities[kg.triples[0, 0]], kg.relations[kg.triples[0, 1]]
    hot = rank_query(scorer, h, r, graph=kg, exclude_self=scorer.exclude_self, known_side=scorer.known_side)
    cold = rank_query(scorer, h, r, graph=kg, exclude_self=True, known_side=True, temperature=scorer.temperature)
    assert [c.entity for c in hot.candidates] == [c.entity for c in cold.candidates]
    front = [c for c in cold.candidates if c.tier == cold.candidates[0].tier]
    expected = torch.softmax(torch.tensor([c.score for c in front], dtype=torch.float64) / 0.7, 0)
    assert [c.probability for c in front] == pytest.approx(expected.tolist())
    assert [c.probability for c in hot.candidates[: len(front)]] != pytest.approx(expected.tolist())


def test_default_scorers_come_from_the_registry_and_ultra_keeps_its_scoring_budget():
    from kgviz.evaluation.leaderboard import default_specs
    from kgviz.evaluation.leaderboard.scorers import ultra_spec
    from kgviz.models.registry import available_scorers

    specs = default_specs()
    registered = {i.name.lower() for i in available_scorers()}
    assert all(s.key in registered for s in specs if s.key is not None)
    assert {"frequency", "pagerank", "distmult", "rotate", "rgcn"} <= {s.key for s in specs}
    adapted = [s for s in specs if s.key is None]  # the first shipped checkpoint, adapted on each fold
    assert [s.name for s in adapted] == [f"InGram {specs[2].name.removeprefix('InGram ')} adapted"]
    assert adapted[0].trains
    if not any(i.name == "ultra-3g" and i.available for i in available_scorers()):
        pytest.skip("ULTRA 3g is not shipped")
    assert "ultra-3g" in {s.key for s in specs}
    kg = _kg(5, 30)
    board = leaderboard(kg, [counting_spec(), ultra_spec(max_scoring_s=0.0)], budget_s=0)
    assert "ULTRA 3g" in board.skipped and "scoring budget" in board.skipped["ULTRA 3g"]
    assert not any(r["method"].startswith("ULTRA") for r in board.rows)
    board = leaderboard(kg, [counting_spec(), ultra_spec(max_scoring_s=300.0)], budget_s=0)
    assert not board.skipped and any(r["method"] == "ULTRA 3g" for r in board.rows)


@pytest.mark.parametrize("people", [8, 12, 60])
def test_a_combination_is_chosen_only_when_it_gains_one_query_s_worth_on_validation(people):
    kg = _kg(6, people)
    board = leaderboard(kg, [counting_spec(), pagerank_spec(), _noisy_spec(2)], budget_s=0)
    rec = board.recommendation
    val = {r["method"]: r["mrr"] for r in board.rows if r["split"] == "validation" and r["method"] != "recommended"}
    queries = 2 * board.validation_facts
    if len(rec.weights) > 1:
        assert rec.validation_mrr >= max(val.values()) + max(0.005, 1 / queries) - 1e-9
    else:
        assert rec.validation_mrr == pytest.approx(max(val.values()))


def test_adapted_ingram_trains_on_the_fold_only_and_reports_its_steps():
    """The adapted row fine-tunes a shipped checkpoint on each fold's known facts (never the held-out ones) and
    the leaderboard says how long it trained."""
    from kgviz.evaluation.leaderboard.scorers import adapted_spec
    from kgviz.models.pretrained import DEFAULT_MODELS, pretrained_dir

    shipped = [m for m in DEFAULT_MODELS if (pretrained_dir() / m / "config.json").is_file()]
    if not shipped:
        pytest.skip("no InGram checkpoint is shipped")
    kg = _kg(7, 60)
    board = leaderboard(kg, [counting_spec(), adapted_spec(shipped[0], seeds=(100,), device="cpu")], budget_s=2)
    name = f"InGram {shipped[0]} adapted"
    assert any(r["method"] == name for r in board.rows)
    assert name in board.trained and all(seconds >= 0 for seconds, _ in board.trained[name])
