"""Training: the message/supervision split, corruptions, loss, resume (spec §6)."""
import json

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from kg_factory import random_triples, write_benchmark
from kgviz.checkpoint import load_checkpoint, load_state
from kgviz.data import load_benchmark
from kgviz.model import InGramConfig
from kgviz.training import (STATE_FILE, Trainer, averaging_sentence, breadth_first_forest, corrupt, margin_loss,
                            select_snapshot, split_triples)

TINY = dict(dimension_entity=8, dimension_relation=8, hidden_dimension_ratio_entity=2,
            hidden_dimension_ratio_relation=2, num_head=2, num_layer_ent=1, num_layer_rel=1, num_bin=3)


def components(triples, n):
    g = sp.csr_matrix((np.ones(len(triples)), (triples[:, 0], triples[:, 2])), shape=(n, n))
    present = np.zeros(n, bool)
    present[triples[:, [0, 2]].ravel()] = True
    _, labels = connected_components(g, directed=False)
    return len(set(labels[present]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_keeps_spanning_forest_relations_and_ratio(seed):
    n, r = 80, 7
    t = random_triples(n, r, 200, seed)
    # A relation with a single triple must land in the message set.
    t = np.concatenate([t, [[0, r, 1]]])
    msg = split_triples(t, n, r + 1, np.random.default_rng(seed))
    assert msg.dtype == bool and msg.shape == (len(t),)
    assert msg.sum() == round(0.75 * len(t))
    assert set(t[msg, 1]) == set(range(r + 1))
    assert components(t[msg], n) == components(t, n)


def test_split_is_random_per_draw():
    t = random_triples(50, 4, 150, 3)
    rng = np.random.default_rng(0)
    a, b = split_triples(t, 50, 4, rng), split_triples(t, 50, 4, rng)
    assert (a != b).any()


def test_split_when_forest_exceeds_ratio():
    # A path graph: the spanning forest alone needs every triple.
    t = np.array([[i, 0, i + 1] for i in range(20)])
    msg = split_triples(t, 21, 1, np.random.default_rng(0))
    assert msg.all()


def reference_bfs_forest(triples, n):
    """igraph's unweighted spanning tree, written out: BFS from each unreached entity in id order,
    neighbours in id order (edges undirected); each tree edge in the direction of its first triple."""
    from collections import deque
    nbrs = [set() for _ in range(n)]
    for h, _, t in triples.tolist():
        if h != t:
            nbrs[h].add(t)
            nbrs[t].add(h)
    first = {}
    for h, _, t in triples.tolist():
        first.setdefault(frozenset((h, t)), (h, t))
    seen, keys = [False] * n, set()
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in sorted(nbrs[u]):
                if not seen[v]:
                    seen[v] = True
                    queue.append(v)
                    h, t = first[frozenset((u, v))]
                    keys.add(h * n + t)
    return keys


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_breadth_first_forest_matches_the_authors_tree(seed):
    n = 60
    t = random_triples(n, 3, 70, seed)  # sparse: several components, isolated entities, parallel triples
    t = np.concatenate([t, [[5, 0, 5]], t[:5, ::-1]])  # a self-loop and reversed duplicates
    keys = breadth_first_forest(t, n)
    assert set(keys.tolist()) == reference_bfs_forest(t, n)
    assert len(keys) == n - connected_components(
        sp.csr_matrix((np.ones(len(t)), (t[:, 0], t[:, 2])), shape=(n, n)), directed=False)[0]


def test_split_with_the_authors_fixed_tree():
    n, r = 80, 5
    t = random_triples(n, r, 220, 4)
    t = np.concatenate([t, t[:30] * [1, 0, 1] + [0, r, 0]])  # parallel triples under a new relation r
    tree = breadth_first_forest(t, n)
    rng = np.random.default_rng(0)
    masks = [split_triples(t, n, r + 1, rng, tree=tree) for _ in range(20)]
    key = t[:, 0] * n + t[:, 2]
    for msg in masks:
        assert set(tree.tolist()) <= set(key[msg].tolist())  # every tree pair, every epoch
        assert components(t[msg], n) == components(t, n)
        assert set(t[msg, 1]) == set(range(r + 1)) and msg.sum() == round(0.75 * len(t))
    # which parallel triple stands for a tree pair is drawn anew each epoch
    parallel = np.isin(key, tree) & (np.bincount(np.unique(key, return_inverse=True)[1])[
        np.unique(key, return_inverse=True)[1]] > 1)
    assert parallel.any() and len({m[parallel].tobytes() for m in masks}) > 1


def test_trainer_with_the_authors_tree_and_resume_check(tiny_data, tmp_path):
    torch.set_num_threads(1)
    cfg = InGramConfig(**TINY, num_epoch=4, validation_epoch=2)
    Trainer(tiny_data, cfg, tmp_path, spanning="authors").run(progress=False)
    assert load_state(tmp_path / STATE_FILE)["spanning"] == "authors"
    other = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=6, validation_epoch=2), tmp_path)
    with pytest.raises(ValueError, match="spanning"):
        other.resume()
    with pytest.raises(ValueError, match="spanning must be"):
        Trainer(tiny_data, cfg, tmp_path / "x", spanning="bfs")


def test_trainer_with_a_sparser_message_set_and_resume_check(tiny_data, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    cfg = InGramConfig(**TINY, num_epoch=2, validation_epoch=2)
    trainer = Trainer(tiny_data, cfg, tmp_path, message_ratio=0.4)
    sizes = []
    real_split = split_triples

    def spy(*args, **kwargs):
        mask = real_split(*args, **kwargs)
        sizes.append(int(mask.sum()))
        return mask

    monkeypatch.setattr("kgviz.training.split_triples", spy)
    trainer.run(progress=False)
    m = len(tiny_data.train.triples)  # 618 triples over 175 entities: the forest fits in 40 %
    assert sizes == [round(0.4 * m)] * 2
    assert load_state(tmp_path / STATE_FILE)["message_ratio"] == 0.4
    with pytest.raises(ValueError, match="message_ratio"):
        Trainer(tiny_data, InGramConfig(**TINY, num_epoch=4, validation_epoch=2), tmp_path).resume()
    assert Trainer(tiny_data, InGramConfig(**TINY, num_epoch=4, validation_epoch=2), tmp_path,
                   message_ratio=0.4).resume()
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="strictly between"):
            Trainer(tiny_data, cfg, tmp_path / "x", message_ratio=bad)


def test_corruptions_differ_from_positive_in_exactly_one_entity():
    g = torch.Generator().manual_seed(0)
    pos = torch.tensor(random_triples(30, 3, 100, 1))
    neg = corrupt(pos, 30, 10, g)
    assert neg.shape == (10 * len(pos), 3)
    rep = pos.repeat(10, 1)
    head_changed = neg[:, 0] != rep[:, 0]
    tail_changed = neg[:, 2] != rep[:, 2]
    assert (neg[:, 1] == rep[:, 1]).all()
    assert (head_changed ^ tail_changed).all()  # exactly one side replaced, never by itself
    assert 0.4 < head_changed.float().mean() < 0.6
    assert neg.min() >= 0 and neg[:, [0, 2]].max() < 30


def test_corruptions_cover_all_other_entities():
    g = torch.Generator().manual_seed(0)
    pos = torch.tensor([[0, 0, 1]]).repeat(4000, 1)
    neg = corrupt(pos, 5, 1, g)
    heads = set(neg[neg[:, 2] == 1, 0].tolist())
    assert heads == {1, 2, 3, 4}  # uniform over the *other* entities


def test_margin_loss_formula():
    pos = torch.tensor([3.0, 0.0])
    neg = torch.tensor([2.0, 1.0, 0.0, -5.0])  # two blocks of the two positives
    expected = np.mean([max(0, 2 - 3 + 2), max(0, 2 - 0 + 1), max(0, 2 - 3 + 0), max(0, 2 - 0 - 5)])
    assert margin_loss(pos, neg, 2.0).item() == pytest.approx(expected)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return load_benchmark(write_benchmark(tmp_path_factory.mktemp("tiny") / "TINY"))


def test_loss_decreases_and_best_checkpoint_loads(tiny_data, tmp_path):
    # Default sizes, one layer of each kind: the loss starts near the margin (scores ≈ 0) and
    # falls as the model learns which entity types fit each relation's tail.
    trainer = Trainer(tiny_data, InGramConfig(num_layer_ent=1, num_layer_rel=1), tmp_path, seed=0)
    losses = [trainer.step() for _ in range(100)]
    assert np.mean(losses[-20:]) < 0.95 * np.mean(losses[:10])
    trainer = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=20, validation_epoch=10), tmp_path / "run")
    state = trainer.run(progress=False)
    assert state.epoch == 20 and state.best_epoch in (10, 20)
    model, config, rest = load_checkpoint(tmp_path / "run")
    assert config == trainer.config and rest["epoch"] == state.best_epoch
    history = [json.loads(x) for x in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [10, 20]
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]  # no temp files left


def test_resume_continues_where_it_stopped(tiny_data, tmp_path):
    torch.set_num_threads(1)
    full = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), tmp_path / "full")
    full.run(progress=False)
    first = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=8, validation_epoch=4), tmp_path / "split")
    first.run(progress=False)
    second = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), tmp_path / "split")
    assert second.resume() and second.state.epoch == 8
    second.run(resume=True, progress=False)
    assert second.state.epoch == 12
    for (name, a), b in zip(full.model.state_dict().items(), second.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_resume_refuses_other_model_options(tiny_data, tmp_path):
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=2, validation_epoch=2), tmp_path).run(progress=False)
    other = Trainer(tiny_data, InGramConfig(**{**TINY, "num_head": 4}, num_epoch=4), tmp_path)
    with pytest.raises(ValueError, match="num_head"):
        other.resume()


def test_resume_may_lower_the_learning_rate(tiny_data, tmp_path):
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=2, validation_epoch=2), tmp_path).run(progress=False)
    slower = Trainer(tiny_data, InGramConfig(**TINY, num_epoch=4, validation_epoch=2, learning_rate=1e-4), tmp_path)
    assert slower.resume()
    assert [g["lr"] for g in slower.optimizer.param_groups] == [1e-4]


def test_resume_records_the_learning_rate_schedule(tiny_data, tmp_path):
    cfg = lambda epochs, lr: InGramConfig(**TINY, num_epoch=epochs, validation_epoch=2, learning_rate=lr)  # noqa: E731
    Trainer(tiny_data, cfg(2, 1e-3), tmp_path).run(progress=False)
    Trainer(tiny_data, cfg(4, 1e-3), tmp_path).run(resume=True, progress=False)  # same rate: no new stretch
    changed = Trainer(tiny_data, cfg(4, 2e-4), tmp_path)  # changed, then changed again before an epoch ran
    assert changed.resume() and changed.lr_schedule == [[0, 1e-3], [4, 2e-4]]
    changed.save_state()
    t = Trainer(tiny_data, cfg(6, 5e-4), tmp_path)
    t.run(resume=True, progress=False)
    assert t.lr_schedule == [[0, 1e-3], [4, 5e-4]]
    assert json.loads(load_state(tmp_path / STATE_FILE)["lr_schedule"]) == [[0, 1e-3], [4, 5e-4]]


def test_snapshots_and_selection_with_more_draws(tiny_data, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), run, snapshots=True).run(progress=False)
    assert sorted(p.name for p in (run / "snapshots").glob("*.ckpt")) == [
        "epoch_00004.ckpt", "epoch_00008.ckpt", "epoch_00012.ckpt"]
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2, 3, 4), progress=False)
    assert [s["epoch"] for s in result["snapshots"]] == [4, 8, 12]
    best = max(result["snapshots"], key=lambda s: s["valid"]["MRR"])
    assert result["selected_epoch"] == best["epoch"]
    model, _, rest = load_checkpoint(run)
    snap, _, _ = load_checkpoint(run / "snapshots" / f"epoch_{best['epoch']:05d}.ckpt")
    assert rest["epoch"] == best["epoch"] and rest["valid_seeds"] == [0, 1, 2, 3, 4]
    for (k, a), b in zip(model.state_dict().items(), snap.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    # the score is the mean over the draws: recompute it for the selected epoch
    from kgviz.evaluation import evaluate
    again = evaluate(snap, tiny_data, "valid", seeds=[0, 1, 2, 3, 4])
    assert abs(again["mean"]["MRR"] - best["valid"]["MRR"]) < 1e-9
    assert json.loads((run / "selection.json").read_text())["selected_epoch"] == best["epoch"]
    top = select_snapshot(run, tiny_data, seeds=(0,), top=1, progress=False)
    assert len(top["snapshots"]) == 1


def test_selection_without_snapshots_is_a_clear_error(tiny_data, tmp_path):
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=2, validation_epoch=2), tmp_path).run(progress=False)
    with pytest.raises(ValueError, match="no snapshots"):
        select_snapshot(tmp_path, tiny_data, seeds=(0,))


def test_average_weights_is_the_elementwise_mean():
    from kgviz.training import average_weights
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
    from kgviz.evaluation import evaluate
    from kgviz.training import average_weights
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=16, validation_epoch=4), run, snapshots=True).run(progress=False)
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2), average=2, progress=False)
    avg = result["average"]
    ranked = sorted(result["snapshots"], key=lambda s: -s["valid"]["MRR"])
    assert avg["epochs"] == sorted(s["epoch"] for s in ranked[:2])
    snaps = [load_checkpoint(run / "snapshots" / f"epoch_{e:05d}.ckpt")[0] for e in avg["epochs"]]
    mean_model = snaps[0]
    mean_model.load_state_dict(average_weights([m.state_dict() for m in snaps]))
    again = evaluate(mean_model, tiny_data, "valid", seeds=[0, 1, 2])
    assert abs(again["mean"]["MRR"] - avg["valid"]["MRR"]) < 1e-9
    assert avg["selected"] == (avg["valid"]["MRR"] > ranked[0]["valid"]["MRR"])
    model, _, rest = load_checkpoint(run)
    expected = mean_model if avg["selected"] else load_checkpoint(
        run / "snapshots" / f"epoch_{ranked[0]['epoch']:05d}.ckpt")[0]
    for (k, a), b in zip(model.state_dict().items(), expected.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    assert ("averaged_epochs" in rest) == avg["selected"]
    if avg["selected"]:
        assert rest["selected_by"] == averaging_sentence("average", avg["epochs"], 3)


def test_averaging_sentence_reads_whole():
    # the model card quotes it
    assert averaging_sentence("average", [1800, 2000], 30) == (
        "weights averaged over the 2 snapshots with the best mean valid MRR over 30 draws (epochs 1800, 2000)")
    assert averaging_sentence("greedy", [200, 2200], 30) == (
        "weights averaged over a greedy soup of snapshots (each kept if it did not lower the mean valid MRR over "
        "30 draws; epochs 200, 2200)")


def test_selection_with_a_greedy_soup(tiny_data, tmp_path):
    from kgviz.evaluation import evaluate
    from kgviz.training import average_weights
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=20, validation_epoch=4), run, snapshots=True).run(progress=False)
    result = select_snapshot(run, tiny_data, seeds=(0, 1, 2), greedy=True, progress=False)
    soup = result["greedy"]
    ranked = sorted(result["snapshots"], key=lambda s: -s["valid"]["MRR"])
    # walked best to worst; the soup starts from the best snapshot and only keeps non-lowering additions
    assert [t["epoch"] for t in soup["tried"]] == [s["epoch"] for s in ranked[1:]]
    assert ranked[0]["epoch"] in soup["epochs"]
    assert sorted([ranked[0]["epoch"]] + [t["epoch"] for t in soup["tried"] if t["kept"]]) == soup["epochs"]
    running = ranked[0]["valid"]["MRR"]
    for t in soup["tried"]:
        assert t["kept"] == (t["MRR"] >= running)
        running = t["MRR"] if t["kept"] else running
    assert soup["valid"]["MRR"] == pytest.approx(running) and soup["valid"]["MRR"] >= ranked[0]["valid"]["MRR"]
    members = [load_checkpoint(run / "snapshots" / f"epoch_{e:05d}.ckpt")[0] for e in soup["epochs"]]
    mean_model = members[0]
    mean_model.load_state_dict(average_weights([m.state_dict() for m in members]))
    again = evaluate(mean_model, tiny_data, "valid", seeds=[0, 1, 2])
    assert abs(again["mean"]["MRR"] - soup["valid"]["MRR"]) < 1e-9
    model, _, rest = load_checkpoint(run)
    assert soup["selected"] == (len(soup["epochs"]) > 1 and soup["valid"]["MRR"] > ranked[0]["valid"]["MRR"])
    if soup["selected"]:
        assert rest["averaged_epochs"] == soup["epochs"] and rest["averaged_by"] == "greedy"
        assert rest["selected_by"] == averaging_sentence("greedy", soup["epochs"], 3)
        for (k, a), b in zip(model.state_dict().items(), mean_model.state_dict().values()):
            torch.testing.assert_close(a, b, msg=k)
    else:
        assert "averaged_epochs" not in rest


def test_selection_rescored_on_held_out_draws_paired_with_a_reference(tiny_data, tmp_path):
    from kgviz.evaluation import evaluate
    run = tmp_path / "run"
    Trainer(tiny_data, InGramConfig(**TINY, num_epoch=12, validation_epoch=4), run, snapshots=True).run(progress=False)
    ref_path = run / "snapshots" / "epoch_00004.ckpt"
    result = select_snapshot(run, tiny_data, seeds=(0, 1), holdout=(5, 6, 7), against=ref_path, progress=False)
    held = result["holdout"]
    model, _, rest = load_checkpoint(run)
    ref = load_checkpoint(ref_path)[0]
    mine = evaluate(model, tiny_data, "valid", seeds=[5, 6, 7])
    theirs = evaluate(ref, tiny_data, "valid", seeds=[5, 6, 7])
    assert held["seeds"] == [5, 6, 7] and rest["holdout"]["seeds"] == [5, 6, 7]
    assert held["valid"]["MRR"] == pytest.approx(mine["mean"]["MRR"], abs=1e-9)
    assert held["against"]["valid"]["MRR"] == pytest.approx(theirs["mean"]["MRR"], abs=1e-9)
    diffs = [mine["per_seed"][s]["MRR"] - theirs["per_seed"][s]["MRR"] for s in ("5", "6", "7")]
    assert held["against"]["mrr_difference"] == pytest.approx(np.mean(diffs), abs=1e-9)
    assert held["against"]["standard_error"] == pytest.approx(np.std(diffs, ddof=1) / np.sqrt(3), abs=1e-9)
    assert json.loads((run / "selection.json").read_text())["holdout"]["against"]["checkpoint"] == str(ref_path)
    # a model against itself: no difference
    from kgviz.training import holdout_check
    same = holdout_check(ref, tiny_data, (5, 6), "cpu", against=load_checkpoint(ref_path)[0])
    assert same["against"]["mrr_difference"] == 0 and same["against"]["standard_error"] == 0
    with pytest.raises(ValueError, match=r"held-out draws \[1\] are also selection draws"):
        select_snapshot(run, tiny_data, seeds=(0, 1), holdout=(1, 9), progress=False)


def test_selection_draws_are_flagged_when_reused_for_figures(tmp_path, capsys):
    from kgviz.cli import main
    from kgviz.evaluation import REPORT_SEEDS, selection_draws_reused
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
