"""Adapting a model to one KG (self-supervised fine-tuning, judged on held-out facts of the KG)."""

import numpy as np
import pytest
import torch

from kg_factory import TINY as TINY_OPTIONS
from kg_factory import typed_graph
from kgviz.training.adapt import PARTS, adapt, check_adaptable
from kgviz.training.adapt_valid import CRITERION, VALID_LEAST, validation_split
from kgviz.cli.parser import main
from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
from kgviz.graph.data import KGFormatError, from_triples, read_kg
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.models.pretrained import default_checkpoint

TINY = InGramConfig(**TINY_OPTIONS)


def tiny_model(seed: int = 0) -> InGram:
    torch.manual_seed(seed)
    return InGram.from_config(TINY).eval()


def typed_kg(people: int = 60):
    """People live in cities, cities lie in countries: tails are typed, so a model can learn the KG."""
    rows = typed_graph("", np.random.default_rng(0), people=people, cities=8, countries=3)
    return from_triples(rows, source="typed.tsv")


def same_weights(a: InGram, b: InGram) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].cpu(), sb[k].cpu()) for k in sa)


def test_too_small_kgs_are_refused_with_a_reason():
    one = from_triples([("a", "r", "b")], source="one.tsv")
    with pytest.raises(KGFormatError, match="one.tsv.*too small.*1 triple"):
        check_adaptable(one)
    path = from_triples([("a", "r", "b"), ("b", "s", "c"), ("c", "t", "d")], source="path.tsv")
    with pytest.raises(KGFormatError, match="too few both to hold one out"):
        check_adaptable(path)
    cycle = from_triples([("a", "r", "b"), ("b", "r", "c"), ("c", "r", "a")], source="cycle.tsv")
    with pytest.raises(KGFormatError, match="1 — too few"):  # one spare triple: none to judge with and learn from
        check_adaptable(cycle)
    square = [("a", "r", "b"), ("b", "r", "c"), ("c", "r", "d"), ("d", "r", "a"), ("a", "r", "c")]
    assert len(check_adaptable(from_triples(square, source="square.tsv")).valid) == 1


def test_validation_facts_are_held_out_seeded_and_keep_every_entity_and_relation():
    kg = typed_kg()
    split = validation_split(kg, seed=3)
    assert len(split.valid) == max(VALID_LEAST, int(np.ceil(0.1 * kg.num_triples)))
    assert split.train.num_triples + len(split.valid) == kg.num_triples
    train, valid = set(map(tuple, split.train.triples.tolist())), set(map(tuple, split.valid.tolist()))
    assert not train & valid and train | valid == set(map(tuple, kg.triples.tolist()))
    t = split.train.triples
    assert set(t[:, 1]) == set(range(kg.num_relations)) and set(t[:, [0, 2]].ravel()) == set(range(kg.num_entities))
    np.testing.assert_array_equal(validation_split(kg, seed=3).valid, split.valid)
    assert not np.array_equal(validation_split(kg, seed=4).valid, split.valid)
    # the 14-triple lecture KG can spare 3 triples: 2 are held out, 1 stays to learn from
    assert len(validation_split(read_kg("sample_kgs/movies.tsv")).valid) == 2


def test_adapt_lowers_the_loss_and_keeps_the_original():
    kg = typed_kg()
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = adapt(model, TINY, kg, seconds=60, learning_rate=3e-3, graphs_per_step=4, on_step=lambda s, _: s < 40)
    assert result.steps == 40 and result.stopped and len(result.losses) == 40
    assert np.mean(result.losses[-10:]) < np.mean(result.losses[:10])
    for name, value in model.state_dict().items():  # the model passed in is untouched
        torch.testing.assert_close(value, before[name])
    assert result.num_valid == 25 and result.num_train == kg.num_triples - 25  # ⌈10 % of 244⌉
    assert result.history[-1].step == 40
    with pytest.raises(ValueError, match="parts"):
        adapt(model, TINY, kg, parts="bias")


def test_the_best_validation_state_is_kept_only_beyond_its_standard_error(monkeypatch):
    """Scripted validation scores (start, then after steps 1–4): the state after step 2 is best and beats the
    start by more than its standard error, so it is kept; its weights moved only in the chosen parts."""
    import kgviz.training.adapt_valid as av

    n = 2 * 25
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, n)
    script = iter([0.30, 0.20, 0.50, 0.40, 0.45])

    def scripted(self, model):
        mrr = next(script)
        return {"raw": mrr, CRITERION: mrr}, np.full(n, mrr) + noise

    monkeypatch.setattr(av.ValidationScorer, "score", scripted)
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = adapt(model, TINY, typed_kg(), parts="output", validate_every=0.0, on_step=lambda s, _: s < 4)
    assert [p.step for p in result.history] == [1, 2, 3, 4] and result.best_step == 2 and result.improved
    assert result.start_mrr[CRITERION] == 0.30 and result.best_mrr[CRITERION] == 0.50
    assert "from 0.300 to 0.500 MRR on 25 held-out facts of this KG, which it never trained on" in result.summary()
    moved = {k for k, v in result.model.state_dict().items() if not torch.equal(v, before[k])}
    assert moved and all(k.startswith(PARTS["output"]) for k in moved)
    # a gain within its standard error is not taken: the start is kept
    script = iter([0.30, 0.31, 0.305])
    wide = np.where(np.arange(n) % 2 == 0, 0.3, -0.3)  # per-query changes of ±0.3: SE ≈ 0.04

    def noisy(self, model):
        mrr = next(script)
        return {"raw": mrr, CRITERION: mrr}, np.full(n, 0.30) + (mrr - 0.30) + (wide if mrr != 0.30 else 0)

    monkeypatch.setattr(av.ValidationScorer, "score", noisy)
    kept = adapt(model, TINY, typed_kg(), validate_every=0.0, on_step=lambda s, _: s < 2)
    assert not kept.improved and same_weights(kept.model, model) and kept.best_tried == 0.31
    # fewer than 10 held-out facts (movies holds out 2): even a large gain is not accepted
    script = iter([0.30, 0.90])
    monkeypatch.setattr(
        av.ValidationScorer, "score", lambda self, m: ({"raw": (x := next(script)), CRITERION: x}, [x] * 4)
    )
    small = adapt(model, TINY, read_kg("sample_kgs/movies.tsv"), validate_every=0.0, on_step=lambda s, _: s < 1)
    assert not small.improved and same_weights(small.model, model) and small.best_tried == 0.90
    assert "could not be judged: only 2 fact(s)" in small.summary()


def test_a_harmful_setting_keeps_the_start_and_says_so():
    """A learning rate of 10 on every weight wrecks them: no state beats the start on the held-out facts, so the start
    is returned unchanged, with the verdict in words."""
    model, config, _ = load_checkpoint(default_checkpoint())
    kg = typed_kg(people=40)
    result = adapt(model, config, kg, seconds=3, learning_rate=10.0, parts="all", validate_every=0.5)
    assert result.history and all(p.mrr < result.start_mrr[CRITERION] for p in result.history)
    assert not result.improved and result.best_step == 0 and result.best_mrr == result.start_mrr
    assert same_weights(result.model, model)
    assert (
        f"Adaptation did not improve on {result.num_valid} held-out facts of this KG; the starting model is kept"
        in result.summary()
    )


def test_cli_adapt_writes_the_authors_layout(tmp_path, capsys):
    save_checkpoint(tmp_path / "start", tiny_model(), TINY)
    code = main(
        [
            "adapt",
            "--kg",
            "sample_kgs/movies.tsv",
            "--checkpoint",
            str(tmp_path / "start"),
            "--out",
            str(tmp_path / "adapted"),
            "--seconds",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    model, config, rest = load_checkpoint(tmp_path / "adapted")  # strict=True
    record = rest["adapted"]
    assert config == TINY and record["kg"].endswith("movies.tsv") and record["steps"] > 0
    assert record["held_out"] == 2 and record["trained_on"] == 12 and not record["improved"]  # too few to judge
    assert record["summary"].startswith("Adaptation could not be judged: only 2 fact(s) of this KG could be held out")
    assert record["held_out_mrr_kept"][CRITERION] >= record["held_out_mrr_start"][CRITERION]
    assert same_weights(model, tiny_model())  # the start is kept
    out = capsys.readouterr().out
    assert "could not be judged: only 2 fact(s) of this KG" in out and "the model kept is in" in out
    bad = tmp_path / "one.tsv"
    bad.write_text("a\tr\tb\n")
    assert (
        main(
            [
                "adapt",
                "--kg",
                str(bad),
                "--checkpoint",
                str(tmp_path / "start"),
                "--out",
                str(tmp_path / "x"),
                "--seconds",
                "1",
            ]
        )
        == 2
    )
    assert "too small to adapt" in capsys.readouterr().err


def test_cli_defaults_are_the_library_defaults():
    from kgviz.training.adapt import DEFAULT_LEARNING_RATE, DEFAULT_PARTS, DEFAULT_SECONDS
    from kgviz.cli.parser import build_parser

    args = build_parser().parse_args(["adapt", "--kg", "x.tsv", "--out", "o"])
    assert (args.parts, args.lr, args.seconds) == (DEFAULT_PARTS, DEFAULT_LEARNING_RATE, DEFAULT_SECONDS)


def lecture_answer_position(model: InGram) -> int:
    """Where ``actor`` stands for the lecture query (Ryan Gosling, profession, ?) on movies, as the app ranks it:
    the defaults' constraints and draws. The only place these tests use :func:`kgviz.ranking.ranks.rank_query`."""
    from kgviz.defaults import DEFAULTS
    from kgviz.models.ingram.predictor import Predictor
    from kgviz.ranking.ranks import rank_query

    kg = read_kg("sample_kgs/movies.tsv")
    predictor = Predictor(model, kg, seeds=range(DEFAULTS.draws), device="cpu")
    ranking = rank_query(predictor, "Ryan Gosling", "profession", exclude_self=True, known_side=True)
    position = ranking.position_of("actor")
    assert position is not None
    return position


@pytest.mark.slow
def test_adapting_on_movies_with_the_defaults_keeps_actor_in_the_top_3():
    from kgviz.training.adapt import DEFAULT_SECONDS

    model, config, _ = load_checkpoint(default_checkpoint())
    assert lecture_answer_position(model) <= 3
    result = adapt(model, config, read_kg("sample_kgs/movies.tsv"), seconds=DEFAULT_SECONDS, device="cpu")
    assert result.best_mrr[CRITERION] >= result.start_mrr[CRITERION]
    assert lecture_answer_position(result.model) <= 3, result.summary()
