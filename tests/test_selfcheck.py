"""kgviz.evaluation.selfcheck: folds over a disjoint union equal separate runs; ranks against brute force."""

import json

import numpy as np
import pytest
import torch

from conftest import SMALL_CONFIG, randomize
from kgviz.models.ingram.checkpoint import save_checkpoint
from kgviz.cli.parser import main
from kgviz.graph.data import KnowledgeGraph, from_triples
from kgviz.evaluation.benchmark import embed
from kgviz.models.counting_scores import relation_frequency
from kgviz.models.ingram.network import InGram
from kgviz.ranking.ranks import filtered_rank
from kgviz.evaluation.selfcheck import LOO_LIMIT, fold_embeddings, held_out_triples, make_folds, self_check

CPU = torch.device("cpu")


def random_kg(seed: int, n: int = 15, r: int = 4, m: int = 40) -> KnowledgeGraph:
    rng = np.random.default_rng(seed)
    rows = {(f"e{rng.integers(n)}", f"r{rng.integers(r)}", f"e{rng.integers(n)}") for _ in range(m)}
    return from_triples(sorted(rows), source=f"random{seed}")


@pytest.fixture
def model():
    return randomize(InGram.from_config(SMALL_CONFIG), 1).float().eval()


def test_union_of_fold_graphs_gives_each_fold_its_own_embeddings(model):
    kg = random_kg(0)
    # fold 0 drops every triple of one relation, fold 1 isolates an entity, fold 2 drops one triple
    rel0 = kg.triples[:, 1] == kg.triples[0, 1]
    ent = kg.triples[-1, 0]
    isolate = (kg.triples[:, 0] == ent) | (kg.triples[:, 2] == ent)
    drops = [rel0, isolate, np.arange(kg.num_triples) == 3]
    graphs = [KnowledgeGraph(kg.entities, kg.relations, kg.triples[~d]) for d in drops]
    union = fold_embeddings(model, graphs, 7, CPU)
    for g, (ent_u, rel_u) in zip(graphs, union):
        ent_s, rel_s = embed(model, g, [7], CPU)[0]
        torch.testing.assert_close(ent_u, ent_s, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(rel_u, rel_s, atol=1e-5, rtol=1e-5)
        assert torch.isfinite(ent_u).all()


def test_protocol_leave_one_out_or_a_seeded_sample_and_bounded_folds():
    small = random_kg(1)
    held, how = held_out_triples(small)
    assert held.tolist() == list(range(small.num_triples)) and "every triple" in how
    big = from_triples([(f"a{i}", f"r{i % 7}", f"b{(i * 13) % 200}") for i in range(LOO_LIMIT + 50)])
    held, how = held_out_triples(big, seed=3)
    assert len(held) == 35 and "10 %" in how
    assert held.tolist() == held_out_triples(big, seed=3)[0].tolist() != held_out_triples(big, seed=4)[0].tolist()
    for draws, work in ((1, 10**9), (10, 80_000), (10, 1)):
        fold = make_folds(len(held), big, draws, work)
        sizes = np.bincount(fold)
        assert sizes.max() <= 0.1 * big.num_triples and sizes.min() >= 1
    assert make_folds(len(held), big, 1, 10**9).max() + 1 == len(held)  # budget allows leave-one-out
    with pytest.raises(ValueError, match="at least 2 triples"):
        held_out_triples(from_triples([("a", "r", "b")]))


def test_ranks_match_a_fold_by_fold_brute_force(model):
    kg = random_kg(2, m=30)
    seeds = [3, 4]
    calls = []
    res = self_check(kg, model, seeds=seeds, max_work=1, device="cpu", progress=lambda f, msg: calls.append(f))
    # the least folds that keep each within 10 % of the 29 triples (2 triples): 15, not leave-one-out
    assert res.num_folds == 15 and np.bincount(res.fold).max() == 2 and len(res.held_out) == kg.num_triples
    assert calls == sorted(calls) and calls[-1] == pytest.approx(1.0)
    n = kg.num_entities
    for f in range(res.num_folds):
        idx = np.flatnonzero(res.fold == f)
        keep = np.ones(kg.num_triples, dtype=bool)
        keep[idx] = False  # every triple is held out: held-out index i is triple i
        g = KnowledgeGraph(kg.entities, kg.relations, kg.triples[keep])
        embs = embed(model, g, seeds, CPU)
        for i in idx:
            h, r, t = kg.triples[i]
            for direction, anchor, answer in (("tail", h, t), ("head", t, h)):
                s = sum(model.score_all_tails(e, z, torch.tensor([anchor]), torch.tensor([r])) for e, z in embs) / 2
                mask = torch.zeros(1, n, dtype=torch.bool)
                side, other = (0, 2) if direction == "tail" else (2, 0)
                known = kg.triples[(kg.triples[:, side] == anchor) & (kg.triples[:, 1] == r), other]
                mask[0, known] = True
                assert res.ranks["InGram"][direction][i] == filtered_rank(s, torch.tensor([answer]), mask)[0]
                freq = relation_frequency(g.triples, n, kg.num_relations, [r], direction)
                assert (
                    res.ranks["relation-tail frequency"][direction][i]
                    == filtered_rank(freq, torch.tensor([answer]), mask)[0]
                )
    assert set(res.metrics) >= {
        "InGram",
        "InGram + both constraints",
        "relation-tail frequency",
        "personalized PageRank",
    }
    row = res.rows()[0]
    assert row["head"] == kg.entities[kg.triples[0, 0]] and "InGram: tail rank" in row


def test_baselines_only_and_cli(tmp_path, model, capsys):
    kg = random_kg(3)
    res = self_check(kg, None)
    assert "InGram" not in res.metrics and res.seeds == []
    path = tmp_path / "kg.tsv"
    path.write_text(kg.to_tsv())
    save_checkpoint(tmp_path / "ckpt", model, SMALL_CONFIG)
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "selfcheck",
                "--kg",
                str(path),
                "--checkpoint",
                str(tmp_path / "ckpt"),
                "--seeds",
                "2",
                "--no-progress",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "every triple held out" in text and "InGram + both constraints" in text
    saved = json.loads(out.read_text())
    assert len(saved["held_out"]) == kg.num_triples and saved["seeds"] == [100, 101]
    one = tmp_path / "one.tsv"
    one.write_text("a\tr\tb\n")
    assert main(["selfcheck", "--kg", str(one), "--baselines-only", "--no-progress"]) == 2
    assert "at least 2 triples" in capsys.readouterr().err
