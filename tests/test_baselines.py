"""kgviz.models.baselines: training, ranking, the filtered protocol, "cannot score", the Why-InGram split, the CLI."""

from pathlib import Path

import numpy as np
import pytest
import torch

from kgviz.models.baselines import (
    MODEL_NAMES,
    TRAINED_MODELS,
    NoEmbeddingError,
    TrainedModel,
    TrainOptions,
    evaluate_queries,
    get_model,
    parse_model_names,
    answer_query,
)
from kgviz.models.baselines.common import TrainingInfo, candidate_ranks
from kgviz.models.baselines.split import GROUPS, score_model, score_split, why_ingram_split
from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT
from kgviz.cli.parser import main
from kgviz.graph.data import KnowledgeGraph, from_triples, read_kg
from kgviz.ranking.ranks import filtered_rank

MOVIES = Path(__file__).resolve().parents[1] / "sample_kgs" / "movies.tsv"
# heads and tails apart, one tail per (head, relation): every model can fit it exactly
TINY = [(f"h{i}", "r0", f"t{i}") for i in range(5)] + [(f"h{i}", "r1", f"t{(i + 2) % 5}") for i in range(5)]


def fixed(epochs: int = 200, seed: int = 0) -> TrainOptions:
    """A fixed number of epochs and no time limit: the run is deterministic."""
    return TrainOptions(max_epochs=epochs, time_budget_s=float("inf"), seed=seed, progress_bar=False)


@pytest.fixture(scope="module")
def tiny() -> KnowledgeGraph:
    return from_triples(TINY, source="<tiny>")


@pytest.mark.parametrize("name", TRAINED_MODELS)
def test_each_model_ranks_memorised_triples_first(tiny, name):
    model = get_model(name, tiny, fixed())
    ranks = [answer_query(model, tiny, h, r, expected=t).expected_rank for h, r, t in TINY]
    assert ranks.count(1) >= 9, ranks
    first = answer_query(model, tiny, "h0", "r0", top_k=3, filter_known=False)
    assert first.top[0].name == "t0" and first.top[0].known
    assert model.info.epochs == 200 and not model.info.stopped_by_budget


def test_same_seed_same_model_other_seed_differs(tiny):
    scores = [
        get_model("transe", tiny, fixed(30, seed)).scores(tiny, torch.tensor([0]), torch.tensor([0]))
        for seed in (0, 0, 1)
    ]
    assert torch.equal(scores[0], scores[1])
    assert not torch.equal(scores[0], scores[2])


def test_time_budget_stops_training_and_reports_progress(tiny):
    seen = []
    options = TrainOptions(max_epochs=10**6, time_budget_s=0.5, progress_bar=False)
    model = get_model("rgcn", tiny, options, progress=seen.append)
    assert model.info.stopped_by_budget and 0.5 <= model.info.seconds < 5
    assert seen and seen[-1].epoch == model.info.epochs and seen[-1].model == "RGCN"
    assert [p.epoch for p in seen] == sorted(p.epoch for p in seen)


class FixedScores(TrainedModel):
    """Scores from a table ``(N, N)`` per direction; entity ``missing`` has no vector."""

    name = "fixed"

    def __init__(self, table: torch.Tensor, missing: int | None = None):
        self.table, self.missing, self.info = table, missing, TrainingInfo()

    def entity_map(self, known):
        ids = torch.arange(known.num_entities)
        if self.missing is not None:
            ids[self.missing] = -1
        return ids

    def relation_map(self, known):
        return torch.arange(known.num_relations)

    def _scores(self, known, anchors, relations, direction):
        return self.table[anchors].clone()


def test_evaluation_is_the_filtered_protocol_with_the_spec_tie_rule():
    kg = from_triples([("a", "r", "b"), ("a", "r", "c"), ("b", "r", "d"), ("c", "r", "e")])  # a b c d e
    table = torch.tensor([[0.0, 5.0, 9.0, 5.0, 5.0]] * 5)  # every query: c 9, then b d e tied at 5
    model = FixedScores(table)
    queries = np.array([[0, 0, 1]])  # (a, r, b): tail query a → b, head query b → a
    ev = evaluate_queries(model, kg, queries)
    # tail: c is a known answer of (a, r, ?) and filtered; b ties with d, e: 1 + 0 + ⌊2/2⌋ = 2
    # head (?, r, b): a scores 0, below c 9, b, d, e 5 (b is no known head of b): 1 + 4 = 5
    assert ev.ranks.tolist() == [2, 5]
    expect = filtered_rank(table[:1], torch.tensor([1]), torch.tensor([[False, False, True, False, False]]))
    assert int(expect[0]) == 2
    assert ev.metrics["MRR"] == pytest.approx((1 / 2 + 1 / 5) / 2)
    # a candidate without a vector ranks last instead of tying
    ev_missing = evaluate_queries(FixedScores(table, missing=3), kg, np.array([[0, 0, 1]]))
    assert ev_missing.ranks.tolist() == [1, 4]


def test_cannot_score_an_entity_or_relation_never_trained(tiny):
    known = from_triples(TINY + [("h_new", "r0", "t1"), ("h0", "r_new", "t3")], source="<known>")
    model = get_model("transe", tiny, fixed(20))
    out = answer_query(model, known, "h_new", "r0", expected="t1")
    assert out.cannot_score == "cannot score: no embedding for ⟨h_new⟩"
    assert out.top == [] and out.expected_rank is None
    assert answer_query(model, known, "h0", "r_new").cannot_score == "cannot score: no embedding for ⟨r_new⟩"
    with pytest.raises(NoEmbeddingError) as exc:
        model.scores(known, torch.tensor([known.entity_index["h_new"]]), torch.tensor([0]))
    assert exc.value.name == "h_new" and exc.value.kind == "entity"
    # a known anchor with an unknown expected answer: ranked, the expected one cannot be
    out = answer_query(model, known, "t1", "r0", direction="head", expected="h_new")
    assert out.top and "h_new" not in [c.name for c in out.top]
    assert out.expected_cannot_score == "cannot score: no embedding for ⟨h_new⟩"
    ev = evaluate_queries(model, known, known.triples[-2:])
    assert ev.num_scored == 0 and ev.metrics is None and set(ev.missing) == {"r_new", "h_new"}
    assert ev.cannot_score.startswith("cannot score: no embedding for ⟨r_new⟩")


def test_rgcn_scores_new_entities_but_not_new_relations(tiny):
    known = from_triples(TINY + [("h_new", "r0", "t1"), ("h0", "r_new", "t3")], source="<known>")
    model = get_model("rgcn", tiny, fixed(20))
    out = answer_query(model, known, "h_new", "r0", expected="t1")
    assert out.cannot_score is None and out.expected_rank is not None
    assert all(np.isfinite(c.score) for c in out.top)
    assert answer_query(model, known, "h0", "r_new").cannot_score == "cannot score: no embedding for ⟨r_new⟩"


def test_untrained_ingram_scores_everything(tiny):
    known = from_triples(TINY + [("h_new", "r_new", "t_new")], source="<known>")
    model = get_model("ingram-untrained", tiny, fixed())
    ev = evaluate_queries(model, known, known.triples)
    assert ev.num_scored == ev.num_queries == 2 * known.num_triples and ev.cannot_score is None


def test_parse_model_names():
    assert parse_model_names(" TransE, rgcn,transe ") == ["transe", "rgcn"]
    with pytest.raises(ValueError, match="unknown model"):
        parse_model_names("transe,bert")
    assert set(TRAINED_MODELS) < set(MODEL_NAMES)


def test_why_ingram_split_groups_on_movies():
    kg = read_kg(MOVIES)
    for seed in range(5):
        s = why_ingram_split(kg, seed)
        assert all(len(s.groups[g]) for g in GROUPS)
        train_e, train_r = set(s.train.entities), set(s.train.relations)
        for g, rows in s.groups.items():
            for h, r, t in rows:
                names = kg.entities[h], kg.relations[r], kg.entities[t]
                seen_rel, seen_ent = names[1] in train_r, names[0] in train_e and names[2] in train_e
                assert (g, seen_rel, seen_ent) in {
                    ("a", True, True),
                    ("b", True, False),
                    ("c", False, True),
                    ("c", False, False),
                }
        # train, context and the groups partition the KG
        parts = [tuple(x) for x in np.concatenate([s.known.triples] + [s.groups[g] for g in GROUPS]).tolist()]
        assert sorted(parts) == sorted(map(tuple, kg.triples.tolist()))
        assert s.known.entities == kg.entities and s.known.num_triples == s.train.num_triples + len(s.context)
    again = why_ingram_split(kg, 3)
    assert all(np.array_equal(again.groups[g], why_ingram_split(kg, 3).groups[g]) for g in GROUPS)


def test_why_ingram_split_scores_on_movies():
    split = why_ingram_split(read_kg(MOVIES), 0)
    options = TrainOptions(max_epochs=30, time_budget_s=float("inf"), progress_bar=False)
    rows = {r.model: r for r in score_split(split, ("transe", "rgcn", "ingram"), options)}
    shallow, rgcn, ingram = rows["TransE"], rows["RGCN"], rows[f"InGram ({DEFAULT_CHECKPOINT.name})"]
    assert shallow.groups["a"].metrics is not None
    for g in ("b", "c"):
        assert shallow.groups[g].cannot_score.startswith("cannot score: no embedding for ⟨")
    assert rgcn.groups["b"].metrics is not None
    assert rgcn.groups["c"].cannot_score.startswith("cannot score: no embedding for ⟨")
    for g in GROUPS:
        assert ingram.groups[g].metrics is not None and np.isfinite(ingram.groups[g].metrics["MRR"])


def test_split_refuses_a_kg_too_small():
    with pytest.raises(ValueError, match="too small"):
        why_ingram_split(from_triples([("a", "r", "b"), ("b", "r", "c")]))


def test_cli_compare_query_and_errors(capsys):
    code = main(
        [
            "compare",
            "--kg",
            str(MOVIES),
            "--head",
            "Emma Stone",
            "--relation",
            "profession",
            "--expected",
            "actor",
            "--models",
            "transe,ingram-untrained",
            "--max-epochs",
            "20",
            "--top-k",
            "3",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "TransE: (Emma Stone, profession, ?)" in out and "expected actor: filtered rank" in out
    assert "InGram (untrained)" in out
    assert (
        main(["compare", "--kg", str(MOVIES), "--head", "Emma Stone", "--relation", "profession", "--models", "bert"])
        == 2
    )
    assert "unknown model" in capsys.readouterr().err
    assert main(["compare", "--kg", str(MOVIES), "--relation", "profession", "--models", "transe"]) == 2


def test_cli_compare_data_table(tmp_path, capsys):
    rows = [(f"e{i % 40}", f"r{i % 3}", f"e{(i * 7 + 1) % 40}") for i in range(120)]  # distinct triples
    for name, part in (("msg.txt", rows[:110]), ("valid.txt", rows[110:115]), ("test.txt", rows[115:])):
        (tmp_path / name).write_text("".join("\t".join(t) + "\n" for t in part))
    assert (
        main(["compare", "--data", str(tmp_path), "--models", "distmult,rgcn", "--max-epochs", "5", "--no-progress"])
        == 0
    )
    out = capsys.readouterr().out
    assert "DistMult" in out and "RGCN" in out and "MRR" in out and "/10" in out


def test_candidate_ranks_raw_and_filtered():
    kg = from_triples([("a", "r", "b"), ("a", "r", "c"), ("b", "r", "d"), ("c", "r", "e")])  # a b c d e
    model = FixedScores(torch.tensor([[0.0, 5.0, 9.0, 5.0, 5.0]] * 5))
    # raw: c first; b, d, e tie at 5 (rank 2 + ⌊2/2⌋ = 3); a last
    assert candidate_ranks(model, kg, 0, 0, [2, 1, 3, 4, 0]) == [1, 3, 3, 3, 5]
    # filtered: the known answers b, c of (a, r, ?) are removed from the others' comparisons
    # (d ties with e only: 1 + ⌊1/2⌋ = 1; b, itself an answer, ties with d and e: 2)
    assert candidate_ranks(model, kg, 0, 0, [2, 1, 3, 0], filter_known=True) == [1, 2, 1, 3]
    assert candidate_ranks(model, kg, 0, 0, []) == []
    assert candidate_ranks(FixedScores(model.table, missing=3), kg, 0, 0, [1, 3]) == [2, None]
    known = from_triples(TINY + [("h_new", "r0", "t1")])
    with pytest.raises(NoEmbeddingError, match="h_new"):
        candidate_ranks(get_model("transe", from_triples(TINY), fixed(5)), known, known.entity_index["h_new"], 0, [0])


def test_score_model_takes_a_given_model_and_states_cpu_time():
    split = why_ingram_split(read_kg(MOVIES), 0)
    trained = score_model(split, "transe", TrainOptions(max_epochs=20, time_budget_s=float("inf"), progress_bar=False))
    assert trained.model == "TransE" and trained.epochs == 20 and trained.cpu_seconds > 0
    assert trained.groups["b"].cannot_score and trained.groups["a"].metrics is not None
    given = score_model(split, "anything", model=FixedScores(torch.zeros(split.kg.num_entities, split.kg.num_entities)))
    assert given.model == "fixed" and given.epochs == 0
    assert all(given.groups[g].num_scored == given.groups[g].num_queries for g in GROUPS)
