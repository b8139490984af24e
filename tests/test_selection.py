"""kgviz.training.snapshot_selection: snapshots re-validated on more draws, weight averages, held-out draws."""

import json

import numpy as np
import pytest
import torch

from kg_factory import TINY, write_benchmark
from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
from kgviz.cli.parser import main
from kgviz.graph.data import load_benchmark
from kgviz.evaluation.benchmark import REPORT_SEEDS, evaluate, holdout_check, selection_draws_reused
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.training.release import averaging_sentence
from kgviz.training.snapshot_selection import average_weights, select_by_criterion, select_snapshot
from kgviz.training.loop import Trainer


def test_snapshots_and_selection_with_more_draws(tiny_data, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), run, snapshots=True).run(progress=False)
    assert sorted(p.name for p in (run / "snapshots").glob("*.ckpt")) == [
        "epoch_00004.ckpt",
        "epoch_00008.ckpt",
        "epoch_00012.ckpt",
    ]
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2, 3, 4), progress=False)
    assert [s.epoch for s in result.snapshots] == [4, 8, 12]
    best = max(result.snapshots, key=lambda s: s.valid["MRR"])
    assert result.selected_epoch == best.epoch
    model, _, rest = load_checkpoint(run)
    snap, _, _ = load_checkpoint(run / "snapshots" / f"epoch_{best.epoch:05d}.ckpt")
    assert rest["epoch"] == best.epoch and rest["valid_seeds"] == [0, 1, 2, 3, 4]
    for (k, a), b in zip(model.state_dict().items(), snap.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    # the score is the mean over the draws: recompute it for the selected epoch
    again = evaluate(snap, tiny_data, "valid", seeds=[0, 1, 2, 3, 4])
    assert abs(again["mean"]["MRR"] - best.valid["MRR"]) < 1e-9
    assert json.loads((run / "selection.json").read_text())["selected_epoch"] == best.epoch
    top = select_snapshot(run, tiny_data, seeds=(0,), top=1, progress=False)
    assert len(top.snapshots) == 1


def test_selection_without_snapshots_is_a_clear_error(tiny_data, tmp_path):
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=2, validation_epoch=2), tmp_path).run(progress=False)
    with pytest.raises(ValueError, match="no snapshots"):
        select_snapshot(tmp_path, tiny_data, seeds=(0,))


def test_average_weights_is_the_elementwise_mean():
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(3)}
    out = average_weights([a, b])
    torch.testing.assert_close(out["w"], torch.tensor([2.0, 4.0]))
    assert out["n"].item() == 3 and out["w"].dtype == torch.float32
    with pytest.raises(ValueError, match="different architectures"):
        average_weights([a, {"w": torch.zeros(3), "n": torch.tensor(3)}])
    with pytest.raises(ValueError, match="no weights"):
        average_weights([])


def test_selection_with_averaged_snapshots(tiny_data, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=16, validation_epoch=4), run, snapshots=True).run(progress=False)
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2), average=2, progress=False)
    avg = result.average
    ranked = sorted(result.snapshots, key=lambda s: -s.valid["MRR"])
    assert avg.epochs == sorted(s.epoch for s in ranked[:2])
    snaps = [load_checkpoint(run / "snapshots" / f"epoch_{e:05d}.ckpt")[0] for e in avg.epochs]
    mean_model = snaps[0]
    mean_model.load_state_dict(average_weights([m.state_dict() for m in snaps]))
    again = evaluate(mean_model, tiny_data, "valid", seeds=[0, 1, 2])
    assert abs(again["mean"]["MRR"] - avg.valid["MRR"]) < 1e-9
    assert avg.selected == (avg.valid["MRR"] > ranked[0].valid["MRR"])
    model, _, rest = load_checkpoint(run)
    expected = (
        mean_model if avg.selected else load_checkpoint(run / "snapshots" / f"epoch_{ranked[0].epoch:05d}.ckpt")[0]
    )
    for (k, a), b in zip(model.state_dict().items(), expected.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    assert ("averaged_epochs" in rest) == avg.selected
    if avg.selected:
        assert rest["selected_by"] == averaging_sentence("average", avg.epochs, 3)


def test_selection_with_a_greedy_soup(tiny_data, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=20, validation_epoch=4), run, snapshots=True).run(progress=False)
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2), greedy=True, progress=False)
    soup = result.greedy
    ranked = sorted(result.snapshots, key=lambda s: -s.valid["MRR"])
    # walked best to worst; the soup starts from the best snapshot and only keeps non-lowering additions
    assert [t.epoch for t in soup.tried] == [s.epoch for s in ranked[1:]]
    assert ranked[0].epoch in soup.epochs
    assert sorted([ranked[0].epoch] + [t.epoch for t in soup.tried if t.kept]) == soup.epochs
    running = ranked[0].valid["MRR"]
    for t in soup.tried:
        assert t.kept == (t.mrr >= running)
        running = t.mrr if t.kept else running
    assert soup.valid["MRR"] == pytest.approx(running) and soup.valid["MRR"] >= ranked[0].valid["MRR"]
    members = [load_checkpoint(run / "snapshots" / f"epoch_{e:05d}.ckpt")[0] for e in soup.epochs]
    mean_model = members[0]
    mean_model.load_state_dict(average_weights([m.state_dict() for m in members]))
    again = evaluate(mean_model, tiny_data, "valid", seeds=[0, 1, 2])
    assert abs(again["mean"]["MRR"] - soup.valid["MRR"]) < 1e-9
    model, _, rest = load_checkpoint(run)
    assert soup.selected == (len(soup.epochs) > 1 and soup.valid["MRR"] > ranked[0].valid["MRR"])
    if soup.selected:
        assert rest["averaged_epochs"] == soup.epochs and rest["averaged_by"] == "greedy"
        assert rest["selected_by"] == averaging_sentence("greedy", soup.epochs, 3)
        for (k, a), b in zip(model.state_dict().items(), mean_model.state_dict().values()):
            torch.testing.assert_close(a, b, msg=k)
    else:
        assert "averaged_epochs" not in rest


def test_selection_rescored_on_held_out_draws_paired_with_a_reference(tiny_data, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), run, snapshots=True).run(progress=False)
    ref_path = run / "snapshots" / "epoch_00004.ckpt"
    result = select_snapshot(run, tiny_data, seeds=(0, 1), holdout=(5, 6, 7), against=ref_path, progress=False)
    held = result.holdout
    model, _, rest = load_checkpoint(run)
    ref = load_checkpoint(ref_path)[0]
    mine = evaluate(model, tiny_data, "valid", seeds=[5, 6, 7])
    theirs = evaluate(ref, tiny_data, "valid", seeds=[5, 6, 7])
    assert held.seeds == [5, 6, 7] and rest["holdout"]["seeds"] == [5, 6, 7]
    assert held.valid["MRR"] == pytest.approx(mine["mean"]["MRR"], abs=1e-9)
    assert held.against.valid["MRR"] == pytest.approx(theirs["mean"]["MRR"], abs=1e-9)
    diffs = [mine["per_seed"][s]["MRR"] - theirs["per_seed"][s]["MRR"] for s in ("5", "6", "7")]
    assert held.against.mrr_difference == pytest.approx(np.mean(diffs), abs=1e-9)
    assert held.against.standard_error == pytest.approx(np.std(diffs, ddof=1) / np.sqrt(3), abs=1e-9)
    assert json.loads((run / "selection.json").read_text())["holdout"]["against"]["checkpoint"] == str(ref_path)
    # a model against itself: no difference
    same = holdout_check(ref, tiny_data, (5, 6), "cpu", against=load_checkpoint(ref_path)[0])
    assert same.against.mrr_difference == 0 and same.against.standard_error == 0
    with pytest.raises(ValueError, match=r"held-out draws \[1\] are also selection draws"):
        select_snapshot(run, tiny_data, seeds=(0, 1), holdout=(1, 9), progress=False)


def test_selection_draws_are_flagged_when_reused_for_figures(tmp_path, capsys):
    data = str(write_benchmark(tmp_path / "TINY"))
    dataset, run = load_benchmark(data), tmp_path / "run"
    Trainer(dataset, InGramConfig(**TINY, num_epoch=8, validation_epoch=4), run, snapshots=True).run(progress=False)
    select_snapshot(run, dataset, seeds=(0, 1, 2, 3), progress=False)
    _, _, rest = load_checkpoint(run)
    assert selection_draws_reused(rest, [3, 4, 5]) == [3]
    assert selection_draws_reused(rest, REPORT_SEEDS) == []
    assert main(["evaluate", "--checkpoint", str(run), "--data", data, "--split", "valid", "--seeds", "2", "7"]) == 0
    assert "draws [2] chose this checkpoint" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", str(run), "--data", data, "--split", "valid"]) == 0
    assert "chose this checkpoint" not in capsys.readouterr().err


def test_select_by_criterion_soups_what_helps(tmp_path):
    """Three snapshots; the score rewards weights near the mean of the first two: the soup of those wins."""
    cfg = InGramConfig(
        dimension_entity=4,
        dimension_relation=4,
        hidden_dimension_ratio_entity=2,
        hidden_dimension_ratio_relation=2,
        num_head=2,
        num_layer_ent=1,
        num_layer_rel=1,
        num_bin=2,
    )
    models = {}
    for epoch, seed in ((3, 0), (6, 1), (9, 2)):
        torch.manual_seed(seed)
        models[epoch] = InGram.from_config(cfg)
        save_checkpoint(
            tmp_path / "snapshots", models[epoch], cfg, filename=f"epoch_{epoch:06d}.ckpt", extra={"epoch": epoch}
        )
    (tmp_path / "history.jsonl").write_text(
        "".join(json.dumps({"epoch": e, "valid": {"criterion": c}}) + "\n" for e, c in ((3, 0.5), (6, 0.4), (9, 0.1)))
    )
    target = {k: (models[3].state_dict()[k] + models[6].state_dict()[k]) / 2 for k in models[3].state_dict()}

    def score(m) -> float:
        return -float(sum(((v - target[k]) ** 2).sum() for k, v in m.state_dict().items()))

    result = select_by_criterion(tmp_path, score, top=3, progress=False)
    assert result.chosen_epochs == [3, 6]
    assert result.criterion == pytest.approx(0.0, abs=1e-9)
    assert [t.kept for t in result.greedy.tried] == [True, False]
    model, _, extra = load_checkpoint(tmp_path)
    assert extra["selected_by"] == "greedy soup" and extra["averaged_epochs"] == [3, 6]
    assert score(model) == pytest.approx(0.0, abs=1e-9)
    assert json.loads((tmp_path / "selection.json").read_text())["chosen_epochs"] == [3, 6]
    only_top = select_by_criterion(tmp_path, score, top=1, progress=False)
    assert only_top.chosen_epochs == [3]
