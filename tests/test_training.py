"""kgviz.training.loop: the loop, loss, checkpoints, resume (spec §6)."""

import json

import numpy as np
import pytest
import torch

from kg_factory import TINY
from kgviz.models.ingram.checkpoint import load_checkpoint, load_state
from kgviz.models.ingram.network import InGramConfig
from kgviz.training.sampling import split_triples
from kgviz.training.loop import STATE_FILE, Trainer, margin_loss


@pytest.mark.slow
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

    monkeypatch.setattr("kgviz.training.loop.split_triples", spy)
    trainer.run(progress=False)
    m = len(tiny_data.train.triples)  # 618 triples over 175 entities: the forest fits in 40 %
    assert sizes == [round(0.4 * m)] * 2
    assert load_state(tmp_path / STATE_FILE)["message_ratio"] == 0.4
    with pytest.raises(ValueError, match="message_ratio"):
        Trainer(tiny_data, InGramConfig(**TINY, num_epoch=4, validation_epoch=2), tmp_path).resume()
    assert Trainer(
        tiny_data, InGramConfig(**TINY, num_epoch=4, validation_epoch=2), tmp_path, message_ratio=0.4
    ).resume()
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="strictly between"):
            Trainer(tiny_data, cfg, tmp_path / "x", message_ratio=bad)


def test_margin_loss_formula():
    pos = torch.tensor([3.0, 0.0])
    neg = torch.tensor([2.0, 1.0, 0.0, -5.0])  # two blocks of the two positives
    expected = np.mean([max(0, 2 - 3 + 2), max(0, 2 - 0 + 1), max(0, 2 - 3 + 0), max(0, 2 - 0 - 5)])
    assert margin_loss(pos, neg, 2.0).item() == pytest.approx(expected)


@pytest.mark.slow
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
