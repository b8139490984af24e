"""kgviz.models.ingram.draws: a draw chosen on validation, stored in the checkpoint under the authors' keys."""

import itertools

import numpy as np
import pytest
import torch
from kg_factory import TINY as TINY_OPTIONS
from kg_factory import write_benchmark

from kgviz.models.ingram.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from kgviz.cli.parser import main
from kgviz.graph.data import from_triples, load_benchmark
from kgviz.models.ingram.draws import (
    choose_draw,
    expected_best_of,
    graph_fingerprint,
    stored_draw_entries,
    stored_features,
)
from kgviz.evaluation.benchmark import evaluate
from kgviz.ranking.ranks import rank_query
from kgviz.models.ingram.predictor import Predictor, seeded_features
from kgviz.models.ingram.network import InGram, InGramConfig

TINY = InGramConfig(**TINY_OPTIONS)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = write_benchmark(tmp_path_factory.mktemp("dr") / "DR", seed=5)
    torch.manual_seed(1)
    return folder, load_benchmark(folder), InGram.from_config(TINY).eval()


def test_expected_best_of_equals_enumeration():
    rng = np.random.default_rng(3)
    sel, tgt = rng.integers(0, 4, 8).astype(float), rng.random(8)  # ties in the selector
    for k in range(1, 9):
        brute = []
        for subset in itertools.combinations(range(8), k):
            idx = list(subset)
            # the stable order breaks ties towards the later draw, as argsort(kind="stable") + last wins
            order = sorted(idx, key=lambda i: (sel[i], i))
            brute.append(tgt[order[-1]])
        assert expected_best_of(sel, tgt, k) == pytest.approx(np.mean(brute)), k
    assert expected_best_of(sel, tgt, 1) == pytest.approx(tgt.mean())
    with pytest.raises(ValueError, match="between 1 and"):
        expected_best_of(sel, tgt, 9)


def test_choose_draw_picks_the_best_valid_draw(setup):
    _, data, model = setup
    choice = choose_draw(model, data, [0, 1, 2, 3], device="cpu")
    per = evaluate(model, data, "valid", seeds=[0, 1, 2, 3], device="cpu")["per_seed"]
    best = max(per, key=lambda s: per[s]["MRR"])
    assert choice["seed"] == int(best) and choice["valid"] == per[best]
    assert choice["pool"] == [0, 1, 2, 3] and set(choice["pool_valid_mrr"]) == {0, 1, 2, 3}


def test_stored_draw_round_trip_scores_like_its_seed(setup, tmp_path):
    _, data, model = setup
    choice = {"seed": 7, "valid": {"MRR": 0.5}, "pool": [7]}
    save_checkpoint(
        tmp_path / "ck", model, TINY, extra=stored_draw_entries(model, data.inference, choice, data_name=data.name)
    )
    loaded, _, extra = load_checkpoint(tmp_path / "ck")  # weights_only=True accepts the entries
    assert extra["inf_emb_seed"] == 7 and extra["inf_emb_graph"] == graph_fingerprint(data.inference)
    ent, rel = stored_features(extra, loaded, data.inference)
    want = seeded_features(model, data.inference, 7)
    assert torch.equal(ent, want[0]) and torch.equal(rel, want[1])
    assert rel.shape == (2 * data.inference.num_relations, TINY.dimension_relation)
    result = evaluate(loaded, data, "test", seeds=[7], device="cpu", stored=(ent, rel))
    assert result["stored_draw"]["metrics"] == result["per_seed"]["7"]


def test_stored_draw_refused_for_another_graph_or_bad_values(setup):
    _, data, model = setup
    entries = stored_draw_entries(model, data.inference, {"seed": 0, "valid": {}, "pool": [0]}, data_name=data.name)
    other = from_triples([("x", "p", "y")], source="other.tsv")
    with pytest.raises(CheckpointError, match="belongs to another graph"):
        stored_features(entries, model, other)
    no_print = {k: v for k, v in entries.items() if k != "inf_emb_graph"}  # e.g. an authors' checkpoint
    with pytest.raises(CheckpointError, match="needs"):
        stored_features(no_print, model, other)
    bad = dict(entries, inf_emb_ent=entries["inf_emb_ent"].clone())
    bad["inf_emb_ent"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        stored_features(bad, model, data.inference)
    with pytest.raises(CheckpointError, match="no stored draw"):
        stored_features({}, model, data.inference)


def test_cli_store_draw_then_evaluate(setup, tmp_path, capsys):
    folder, data, model = setup
    save_checkpoint(tmp_path / "ck", model, TINY)

    def run(command: str, *options: str) -> int:
        """``kgviz COMMAND`` on the saved checkpoint and the benchmark folder, on the CPU."""
        return main([command, "--checkpoint", str(tmp_path / "ck"), "--data", str(folder), *options, "--device", "cpu"])

    assert run("evaluate", "--stored-draw") == 2
    assert "no stored draw" in capsys.readouterr().err
    assert run("store-draw", "--seeds", "99", "100") == 2
    assert "reporting draws" in capsys.readouterr().err
    assert run("store-draw", "--seeds", "0", "1", "2") == 0
    out = capsys.readouterr().out
    _, _, extra = load_checkpoint(tmp_path / "ck")
    assert f"stored draw {extra['inf_emb_seed']}" in out and extra["inf_emb_pool"] == [0, 1, 2]
    assert run("evaluate", "--stored-draw", "--seeds", str(extra["inf_emb_seed"])) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    seed_row = next(r for r in rows if r[:1] == ["seed"])[2:]
    stored_row = next(r for r in rows if r[:1] == ["stored"])[1:]
    assert stored_row == seed_row  # the stored features are exactly that draw's
    # predict on the same graph (its msg.txt) with the stored draw: that draw's ranking
    h, r = data.inference.entities[data.inference.triples[0, 0]], data.inference.relations[data.inference.triples[0, 1]]
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(tmp_path / "ck"),
                "--kg",
                str(folder / "msg.txt"),
                "--head",
                h,
                "--relation",
                r,
                "--stored-draw",
                "--top-k",
                "3",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    drawn = Predictor(model, data.inference, seeds=[extra["inf_emb_seed"]], device="cpu")
    top = rank_query(drawn, h, r).candidates[:3]  # the defaults' constraints, as predict
    assert f"seed {extra['inf_emb_seed']}, chosen on valid" in out
    assert [line.split()[1] for line in out.splitlines()[3:6]] == [c.name for c in top]
    torch.set_num_threads(1)
