"""Adapting a model to one KG (self-supervised fine-tuning)."""

import numpy as np
import pytest
import torch

from kg_factory import TINY as TINY_OPTIONS
from kgviz.adapt import PARTS, adapt, check_adaptable
from kgviz.cli import main
from kgviz.checkpoint import load_checkpoint, save_checkpoint
from kgviz.data import KGFormatError, from_triples, read_kg
from kgviz.model import InGram, InGramConfig

TINY = InGramConfig(**TINY_OPTIONS)


def tiny_model(seed: int = 0) -> InGram:
    torch.manual_seed(seed)
    return InGram.from_config(TINY).eval()


def test_too_small_kgs_are_refused_with_a_reason():
    one = from_triples([("a", "r", "b")], source="one.tsv")
    with pytest.raises(KGFormatError, match="one.tsv.*too small.*1 triple"):
        check_adaptable(one)
    path = from_triples([("a", "r", "b"), ("b", "s", "c"), ("c", "t", "d")], source="path.tsv")
    with pytest.raises(KGFormatError, match="none is left to learn from"):
        check_adaptable(path)
    check_adaptable(from_triples([("a", "r", "b"), ("b", "r", "c"), ("c", "r", "a")], source="cycle.tsv"))


def test_adapt_moves_only_the_chosen_parts_and_keeps_the_original():
    kg = read_kg("sample_kgs/movies.tsv")
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = adapt(model, TINY, kg, seconds=60, parts="output", on_step=lambda step, loss: step < 5)
    assert result.steps == 5 and result.stopped and len(result.losses) == 5
    assert all(np.isfinite(result.losses))
    for name, value in model.state_dict().items():  # the model passed in is untouched
        torch.testing.assert_close(value, before[name])
    moved = {n for n, v in result.model.state_dict().items() if not torch.equal(v, before[n])}
    assert moved and all(n.startswith(PARTS["output"]) for n in moved)
    with pytest.raises(ValueError, match="parts"):
        adapt(model, TINY, kg, parts="bias")


def test_adapt_lowers_the_loss_within_a_time_budget():
    rng = np.random.default_rng(0)
    rows = [(f"p{i}", "likes", f"f{rng.integers(0, 5)}") for i in range(40)]
    rows += [(f"p{i}", "lives_in", f"c{rng.integers(0, 3)}") for i in range(40)]
    kg = from_triples(rows, source="typed.tsv")
    result = adapt(tiny_model(), TINY, kg, seconds=4, learning_rate=3e-3, graphs_per_step=4)
    assert not result.stopped and result.seconds < 15
    assert np.mean(result.losses[-10:]) < np.mean(result.losses[:10])


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
    assert config == TINY and rest["adapted"]["kg"].endswith("movies.tsv") and rest["adapted"]["steps"] > 0
    assert "adapted model in" in capsys.readouterr().out
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
    from kgviz.adapt import DEFAULT_LEARNING_RATE, DEFAULT_PARTS
    from kgviz.cli import build_parser

    args = build_parser().parse_args(["adapt", "--kg", "x.tsv", "--out", "o"])
    assert (args.parts, args.lr) == (DEFAULT_PARTS, DEFAULT_LEARNING_RATE)
