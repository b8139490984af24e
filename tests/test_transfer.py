"""kgviz.evaluation.transfer and `kgviz transfer` on a tiny folder against a hand-computed table."""

import json

import numpy as np
import pytest
import torch

from conftest import SMALL_CONFIG, randomize
from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
from kgviz.cli.parser import main
from kgviz.graph.data import load_benchmark
from kgviz.evaluation.benchmark import embed, evaluate, query_scores
from kgviz.models.ingram.network import InGram
from kgviz.evaluation.transfer import transfer
from kgviz.evaluation.transfer_ranks import CONSTRAINTS, ensemble_seeds, transfer_task

# Entities a0 b1 c2 d3 e4, relations likes0 knows1. Undirected: a-b, c-b, d-c, a-d, e-a.
MSG = "a\tlikes\tb\nc\tlikes\tb\nd\tlikes\tc\na\tknows\td\ne\tknows\ta\n"
VALID = "c\tknows\ta\n"
TEST = "d\tlikes\tb\ne\tlikes\tc\n"
# Queries (tails first): (d, likes, ?) → b, (e, likes, ?) → c, (?, likes, b) → d, (?, likes, c) → e.
# Relation-side frequency: likes tails b 2, c 1; likes heads a 1, c 1, d 1.
#   (d,likes,?): c filtered (known), b = 2 best → 1.  (e,likes,?): b (2) above c (1) → 2.
#   (?,likes,b): a, c filtered; d = 1 above b, e (0) → 1.  (?,likes,c): d filtered; a, c (1) above e (0),
#   b ties with e (0): 1 + 2 + ⌊1/2⌋ = 3.
# Degree: a 3, b 2, c 2, d 2, e 1.
#   b (2): a above, d ties → 1 + 1 + 0 = 2.  c (2): a above, b and d tie → 1 + 1 + 1 = 3.
#   d (2): b ties, e below → 1.  e (1): a, b, c above → 4.
HAND = {"relation-tail frequency": [1, 2, 1, 3], "global degree": [2, 3, 1, 4]}
# Degree with the own entity last (the rule InGram gets, given to the baseline): only (?, likes, c) → e moves,
# c (its anchor, degree 2) leaves the candidates above e: a, b above → 3.
HAND_OWN_ENTITY = {"global degree": [2, 3, 1, 3]}


def expected(ranks):
    r = np.array(ranks, dtype=float)
    return {
        "MR": r.mean(),
        "MRR": (1 / r).mean(),
        "Hits@1": (r <= 1).mean(),
        "Hits@3": (r <= 3).mean(),
        "Hits@10": (r <= 10).mean(),
    }


@pytest.fixture
def tiny(tmp_path):
    d = tmp_path / "TINY"
    d.mkdir()
    for name, text in (("msg", MSG), ("valid", VALID), ("test", TEST)):
        (d / f"{name}.txt").write_text(text)
    model = randomize(InGram.from_config(SMALL_CONFIG), 3)
    save_checkpoint(tmp_path / "ckpt", model, SMALL_CONFIG)
    return d, tmp_path / "ckpt"


def test_baselines_match_the_hand_computed_table(tiny):
    data, ckpt = tiny
    result = transfer([ckpt], [data], seeds=[5, 6], ensemble=3, device="cpu", progress=False)
    rows = {(r["method"], r["constraints"]): r for r in result["results"][0]["rows"]}
    for name, ranks in HAND.items():
        for k, v in expected(ranks).items():
            assert rows[name, "none"]["metrics"][k] == pytest.approx(v), (name, k)
    for name, ranks in HAND_OWN_ENTITY.items():
        for k, v in expected(ranks).items():
            assert rows[name, "own entity excluded"]["metrics"][k] == pytest.approx(v), (name, k)
    for name in ("relation-tail frequency", "global degree", "personalized PageRank"):  # every rule, every baseline
        assert {c for m, c in rows if m == name} == set(CONSTRAINTS)
    assert result["results"][0]["num_queries"] == 2
    assert result["ensemble_seeds"] == [5, 6, 7] == ensemble_seeds([5, 6], 3)
    # PageRank from d reaches c and a first: b (answer of (d, likes, ?)) sits behind them (c filtered)
    assert 0 < rows["personalized PageRank", "none"]["metrics"]["MRR"] <= 1


def test_ingram_rows_agree_with_evaluate_and_the_constraints_by_hand(tiny):
    data, ckpt = tiny
    result = transfer([ckpt], [data], seeds=[5, 6], ensemble=3, device="cpu", progress=False)
    rows = [r for r in result["results"][0]["rows"] if r["kind"] == "ingram"]
    assert [r["constraints"] for r in rows] == list(CONSTRAINTS)
    model, _, _ = load_checkpoint(ckpt)
    ds = load_benchmark(data)
    ref = evaluate(model, ds, "test", seeds=[5, 6], ensemble=3, device="cpu")
    raw = rows[0]
    for k in ("MRR", "Hits@1", "Hits@10"):
        assert raw["single"]["mean"][k] == pytest.approx(ref["mean"][k])
        assert raw["metrics"][k] == pytest.approx(ref["ensemble"]["metrics"][k])
    # Both constraints by hand. Known side: likes tails {b, c}, likes heads {a, c, d}; own entity last.
    task = transfer_task(ds)
    s = query_scores(model, embed(model, ds.inference, [5, 6, 7], torch.device("cpu")), task.queries, slice(0, 4))
    b, c, e = 1, 2, 4  # entity ids (a is 0)
    ranks = [
        1,  # (d, likes, ?) → b: c filtered, a d e never a tail of likes
        1 + int(s[1, b] > s[1, c]),  # (e, likes, ?) → c: only b on the same side
        1,  # (?, likes, b) → d: a, c filtered; b, e never heads of likes
        2 + int(s[3, b] > s[3, e]),
    ]  # (?, likes, c) → e: a before (tier 0), then e and b (tier 1)
    assert s[1, b] != s[1, c] and s[3, b] != s[3, e]
    both = rows[-1]["metrics"]
    for k, v in expected(ranks).items():
        assert both[k] == pytest.approx(v), k


def test_untrained_row_and_cli_json(tiny, tmp_path, capsys):
    data, ckpt = tiny
    out = tmp_path / "t.json"
    assert (
        main(
            [
                "transfer",
                "--checkpoint",
                str(ckpt),
                "--data",
                str(data),
                "--seeds",
                "0",
                "1",
                "--ensemble",
                "2",
                "--device",
                "cpu",
                "--json",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "TINY: test split, 2 queries" in text and "relation-tail frequency" in text
    assert "+ both constraints" in text and "untrained InGram (ckpt shape, 3 weight seeds)" in text
    saved = json.loads(out.read_text())
    assert saved["results"][0]["data"] == "TINY" and len(saved["results"][0]["rows"]) == 4 * (1 + 3 + 1)
    assert main(["transfer", "--checkpoint", str(ckpt), "--data", str(tmp_path / "nowhere"), "--no-progress"]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_directed_task_matches_query_set_in_both_directions(tmp_path):
    from kg_factory import write_benchmark
    from kgviz.evaluation.transfer_ranks import directed_task

    ds = load_benchmark(write_benchmark(tmp_path / "B"))
    both = transfer_task(ds)
    known = np.concatenate([ds.inference.triples, ds.valid, ds.test])
    q = len(ds.test)
    one = directed_task("B", ds.inference, np.concatenate([ds.test, ds.test]), np.arange(2 * q) < q, known)
    for field in ("anchors", "relations", "answers", "mask"):
        assert torch.equal(getattr(one.queries, field), getattr(both.queries, field)), field
    assert one.queries.num_tail_queries == q and one.is_tail.tolist() == both.is_tail.tolist()
