"""Training on subgraphs of several graphs: the universal checkpoint's trainer."""

import json

import numpy as np
import pytest
import torch

from kg_factory import TINY, write_benchmark
from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.training.universal_examples import MixtureOptions, training_graphs
from kgviz.training.universal import UniversalTrainer
from kgviz.training.validation_graphs import small_valid_graphs

OPTS = MixtureOptions(size_range=(5, 200), graphs_per_step=2)


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    return [load_benchmark(write_benchmark(root / f"S{i}", seed=i)) for i in range(2)]


def test_training_graphs_are_deduplicated(two_sets, tmp_path):
    same = load_benchmark(write_benchmark(tmp_path / "S0copy", seed=0))
    graphs = training_graphs([*two_sets, same])
    assert [g.name for g in graphs] == ["S0", "S1"]


def test_small_valid_graphs_hold_valid_queries_only(two_sets):
    d = two_sets[0]
    graphs = small_valid_graphs(d, 5, size_range=(10, 60))
    assert graphs
    valid = {(d.inference.entities[h], d.inference.relations[r], d.inference.entities[t]) for h, r, t in d.valid}
    msg = set(d.inference.string_triples())
    for g in graphs:
        names = g.graph.string_triples()
        assert set(names) <= msg  # the known graph is cut from msg.txt
        e, r = g.graph.entities, g.graph.relations
        q = {(e[h], r[p], e[t]) for h, p, t in g.queries}
        assert q and q <= valid  # queries are valid triples, never test triples
        assert not q & set(names)


def test_run_validates_checkpoints_and_resumes(two_sets, tmp_path):
    cfg = InGramConfig(**TINY, num_epoch=6, validation_epoch=3)
    full = UniversalTrainer(
        training_graphs(two_sets),
        cfg,
        tmp_path / "full",
        options=OPTS,
        validation=two_sets,
        small_valid_per_set=3,
        snapshots=True,
    )
    result = full.run(progress=False)
    assert result["steps"] == 6 and result["best_step"] in (3, 6)
    model, config, rest = load_checkpoint(tmp_path / "full")  # authors' layout, strict=True
    assert config == cfg and rest["epoch"] == result["best_step"]
    assert rest["procedure"]["options"]["size_range"] == [5, 200]
    history = [json.loads(x) for x in (tmp_path / "full" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [3, 6]
    assert set(history[0]["valid"]["full"]) == {"S0", "S1"} and set(history[0]["valid"]["small"]) == {"S0", "S1"}
    assert 0 < history[0]["valid"]["criterion"] <= 1
    assert sorted(p.name for p in (tmp_path / "full" / "snapshots").glob("*.ckpt")) == [
        "epoch_000003.ckpt",
        "epoch_000006.ckpt",
    ]
    # stopping after 3 steps and resuming gives the same weights as the run without a stop
    UniversalTrainer(
        training_graphs(two_sets),
        InGramConfig(**TINY, num_epoch=3, validation_epoch=3),
        tmp_path / "split",
        options=OPTS,
        validation=two_sets,
        small_valid_per_set=3,
    ).run(progress=False)
    again = UniversalTrainer(
        training_graphs(two_sets), cfg, tmp_path / "split", options=OPTS, validation=two_sets, small_valid_per_set=3
    )
    again.run(resume=True, progress=False)
    for (name, a), b in zip(full.model.state_dict().items(), again.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_resume_refuses_other_options(two_sets, tmp_path):
    cfg = InGramConfig(**TINY, num_epoch=2, validation_epoch=2)
    UniversalTrainer(training_graphs(two_sets), cfg, tmp_path, options=OPTS).run(progress=False)
    other = UniversalTrainer(
        training_graphs(two_sets), cfg, tmp_path, options=MixtureOptions(size_range=(5, 100), graphs_per_step=2)
    )
    with pytest.raises(ValueError, match="other options"):
        other.resume()


def test_training_lowers_the_loss_and_starts_from_given_weights(two_sets, tmp_path):
    cfg = InGramConfig(**TINY, num_epoch=60, validation_epoch=1000)
    start = InGram.from_config(cfg)
    save_checkpoint(tmp_path / "start", start, cfg)
    trainer = UniversalTrainer(
        training_graphs(two_sets), cfg, tmp_path / "run", options=OPTS, init_from=str(tmp_path / "start")
    )
    for (name, a), b in zip(start.state_dict().items(), trainer.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    losses = [trainer.step() for _ in range(80)]
    assert np.mean(losses[-20:]) < np.mean(losses[:10])
    with pytest.raises(ValueError, match="model shape"):
        UniversalTrainer(
            training_graphs(two_sets),
            InGramConfig(**{**TINY, "num_head": 4}),
            tmp_path / "x",
            init_from=str(tmp_path / "start"),
        )


def test_time_budget_and_stop_callback(two_sets, tmp_path):
    cfg = InGramConfig(**TINY, num_epoch=10_000, validation_epoch=10_000)
    t = UniversalTrainer(training_graphs(two_sets), cfg, tmp_path / "a", options=OPTS)
    assert t.run(progress=False, seconds=0.5)["steps"] < 10_000
    calls = []
    t = UniversalTrainer(training_graphs(two_sets), cfg, tmp_path / "b", options=OPTS)
    r = t.run(progress=False, on_step=lambda step, loss: calls.append(loss) or step < 4)
    assert r["steps"] == 4 and len(calls) == 4 and all(np.isfinite(calls))


def test_resume_records_the_learning_rate_schedule(two_sets, tmp_path):
    UniversalTrainer(
        training_graphs(two_sets), InGramConfig(**TINY, num_epoch=2, validation_epoch=10), tmp_path, options=OPTS
    ).run(progress=False)
    slower = UniversalTrainer(
        training_graphs(two_sets), InGramConfig(**TINY, num_epoch=4, learning_rate=1e-4), tmp_path, options=OPTS
    )
    slower.run(resume=True, progress=False)
    assert slower.lr_schedule == [[0, 5e-4], [2, 1e-4]]
    assert [g["lr"] for g in slower.optimizer.param_groups] == [1e-4]


def test_a_run_saved_before_an_option_existed_resumes_at_its_default(two_sets, tmp_path):
    """train_state.pt of an older run has no ``other_side_negatives``: it counts as 0 (default), not another run."""
    from kgviz.models.ingram.checkpoint import atomic_torch_save, load_state
    from kgviz.training.universal import STATE_FILE

    cfg = InGramConfig(**TINY, num_epoch=2, validation_epoch=2)
    UniversalTrainer(training_graphs(two_sets), cfg, tmp_path, options=OPTS).run(progress=False)
    state = load_state(tmp_path / STATE_FILE)
    procedure = json.loads(state["procedure"])
    del procedure["options"]["other_side_negatives"]
    state["procedure"] = json.dumps(procedure)
    atomic_torch_save(state, tmp_path / STATE_FILE)
    assert UniversalTrainer(training_graphs(two_sets), cfg, tmp_path, options=OPTS).resume()
    hard = MixtureOptions(size_range=(5, 200), graphs_per_step=2, other_side_negatives=0.5)
    with pytest.raises(ValueError, match="other options"):
        UniversalTrainer(training_graphs(two_sets), cfg, tmp_path, options=hard).resume()


def test_other_side_negatives_train(two_sets, tmp_path):
    opts = MixtureOptions(size_range=(5, 200), graphs_per_step=2, other_side_negatives=0.5)
    t = UniversalTrainer(training_graphs(two_sets), InGramConfig(**TINY), tmp_path, options=opts)
    losses = [t.step() for _ in range(5)]
    assert all(np.isfinite(losses))
