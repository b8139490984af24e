"""ULTRA in the CLI (issue 28 §2): `kgviz predict --model ultra-3g` against the authors' fixture scores (through its
JSON), `kgviz transfer --model` and `kgviz selfcheck --model` against ranks computed by hand from the scorer,
`kgviz compare` with an ULTRA column."""

import json

import numpy as np
import pytest
import torch

from kgviz.cli.parser import main
from kgviz.graph.data import KnowledgeGraph, load_benchmark, read_kg
from kgviz.models.registry import resolve_scorer
from kgviz.models.pretrained import pretrained_dir
from kgviz.ranking.ranks import filtered_rank, known_mask
from kgviz.evaluation.transfer_ranks import CONSTRAINTS
from ultra_shared import MOVIES, fixture

pytestmark = pytest.mark.skipif(
    not (pretrained_dir() / "ultra-3g" / "weights.pt").is_file(), reason="pretrained/ultra-3g is not shipped"
)
MSG = "a\tlikes\tb\nc\tlikes\tb\nd\tlikes\tc\na\tknows\td\ne\tknows\ta\nb\tknows\te\n"
VALID = "c\tknows\ta\n"
TEST = "d\tlikes\tb\ne\tlikes\tc\na\tknows\tc\n"


def test_predict_json_equals_the_fixture_scores_and_ranks_actor_first(tmp_path, capsys):
    fx = fixture("movies_ultra_3g.json")
    out = tmp_path / "p.json"
    checked = 0
    for q in fx["queries"]:
        flag, anchor = ("--head", q["head"]) if q["direction"] == "tail" else ("--tail", q["tail"])
        argv = ["predict", "--model", "ultra-3g", "--kg", str(MOVIES), flag, anchor, "--relation", q["relation"]]
        assert main(argv + ["--raw", "--top-k", "12", "--device", "cpu", "--json", str(out)]) == 0
        doc = json.loads(out.read_text())
        assert doc["model"] == "ULTRA 3g" and doc["settings"]["draws"] == 0
        ours = {c["name"]: c["score"] for c in doc["candidates"]}
        assert len(ours) == len(fx["entities"]) == 12
        theirs = dict(zip(fx["entities"], q["scores"]))
        assert max(abs(ours[n] - theirs[n]) for n in theirs) < 1e-4, q
        if (q["direction"], q.get("head"), q["relation"]) == ("tail", "Ryan Gosling", "profession"):
            assert doc["candidates"][0]["name"] == "actor"
            checked += 1
    assert checked == 1 and len(fx["queries"]) == 120
    capsys.readouterr()


def _folder(tmp_path, name: str):
    d = tmp_path / name
    d.mkdir()
    for part, text in (("msg", MSG), ("valid", VALID), ("test", TEST)):
        (d / f"{part}.txt").write_text(text)
    return d


def _hand_ranks(scorer, data) -> np.ndarray:
    """Filtered raw ranks of every test query (tails, then heads), from the scorer's scores and the tie rule."""
    g = data.inference
    known = np.concatenate([g.triples, data.valid, data.test])
    t = data.test
    out = []
    for direction, anchors, answers, key_col, ans_col in (
        ("tail", t[:, 0], t[:, 2], 0, 2),
        ("head", t[:, 2], t[:, 0], 2, 0),
    ):
        s = scorer.scores(g, torch.from_numpy(anchors), torch.from_numpy(t[:, 1].copy()), direction)
        mask = known_mask(
            anchors * g.num_relations + t[:, 1],
            known[:, key_col] * g.num_relations + known[:, 1],
            known[:, ans_col],
            g.num_entities,
        )
        out.append(filtered_rank(s, torch.from_numpy(answers), mask).numpy())
    return np.concatenate(out)


def test_transfer_model_rows_equal_hand_ranks_and_50g_is_marked_on_fb(tmp_path, capsys):
    data_dir = _folder(tmp_path, "FB-TINY")
    out = tmp_path / "t.json"
    argv = ["transfer", "--model", "ultra-3g", "ultra-50g", "--data", str(data_dir), "--device", "cpu"]
    assert main(argv + ["--json", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "ULTRA 3g" in text and "ULTRA 50g (may not be zero-shot)" in text and "relation-tail frequency" in text
    rows = json.loads(out.read_text())["results"][0]["rows"]
    ultra = [r for r in rows if r["method"] == "ULTRA 3g"]
    assert [r["constraints"] for r in ultra] == list(CONSTRAINTS) and all(r["kind"] == "scorer" for r in ultra)
    assert "note" not in ultra[0] and all(
        r["note"] == "may not be zero-shot" for r in rows if r["method"] == "ULTRA 50g"
    )
    ranks = _hand_ranks(resolve_scorer("ultra-3g", device="cpu"), load_benchmark(data_dir))
    assert ultra[0]["metrics"]["MRR"] == pytest.approx((1 / ranks).mean())
    assert ultra[0]["metrics"]["MR"] == pytest.approx(ranks.mean())
    assert {r["method"] for r in rows} >= {"ULTRA 3g", "ULTRA 50g", "relation-tail frequency", "global degree"}
    assert not any(r["kind"] == "ingram" for r in rows)  # no --checkpoint: no InGram rows
    assert main(["transfer", "--data", str(data_dir), "--no-progress"]) == 2
    assert "--checkpoint or --model" in capsys.readouterr().err


def test_selfcheck_model_ranks_each_triple_from_the_kg_without_it(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["selfcheck", "--model", "ultra-3g", "--kg", str(MOVIES), "--json", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "ULTRA 3g + both constraints" in text and "no random draws" in text
    doc = json.loads(out.read_text())
    assert doc["model"] == "ULTRA 3g" and doc["folds"] == 14  # every triple held out, one per fold
    kg, scorer = read_kg(MOVIES), resolve_scorer("ultra-3g", device="cpu")
    for row in doc["held_out"]:
        h, r, t = kg.entity_index[row["head"]], kg.relation_index[row["relation"]], kg.entity_index[row["tail"]]
        rest = kg.triples[~((kg.triples[:, 0] == h) & (kg.triples[:, 1] == r) & (kg.triples[:, 2] == t))]
        g = KnowledgeGraph(kg.entities, kg.relations, rest, source="without")
        s = scorer.scores(g, torch.tensor([h]), torch.tensor([r]), "tail")
        mask = torch.zeros_like(s, dtype=torch.bool)
        others = kg.triples[(kg.triples[:, 0] == h) & (kg.triples[:, 1] == r), 2]
        mask[0, torch.from_numpy(others)] = True  # the other known tails are filtered
        assert int(filtered_rank(s, torch.tensor([t]), mask)[0]) == row["ULTRA 3g: tail rank"], row


def test_compare_has_an_ultra_column(capsys):
    argv = ["compare", "--kg", str(MOVIES), "--head", "Ryan Gosling", "--relation", "profession"]
    assert main(argv + ["--models", "ultra-3g", "--no-progress", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "ULTRA 3g: (Ryan Gosling, profession, ?)" in text
    assert text.split("ULTRA 3g: (Ryan Gosling, profession, ?)")[1].lstrip().startswith("1. actor")
