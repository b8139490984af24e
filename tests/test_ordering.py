"""The displayed order of a ranking is (tier ascending, score descending) at every KG size (issue 26).

``kgviz.ranking.constraints.demote`` once multiplied the number of candidates by an int8 tier tensor, which
overflows from 128 candidates on (1709 × 1 → −83): candidates the constraints put last came first.
Every check here compares with a brute-force sort written in the test.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from kgviz.config import InGramConfig
from kgviz.ranking.constraints import constraint_tiers, demote
from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram
from kgviz.ranking.ranks import rank_query

SIZES = [127, 128, 255, 256, 32_767, 32_768, 100_000]


def brute_force_order(scores: np.ndarray, tiers: np.ndarray) -> list[int]:
    """Candidates sorted by (tier ascending, score descending), ties by id: Python's stable sort."""
    return sorted(range(len(scores)), key=lambda e: (int(tiers[e]), -float(scores[e])))


def brute_force_tiers(triples: np.ndarray, n: int, anchor: int, relation: int, direction: str) -> np.ndarray:
    """0 kept, 1 never on the query's side of the relation, 2 the anchor (no self-loop of the relation)."""
    side = 2 if direction == "tail" else 0
    seen = {int(x) for x in triples[triples[:, 1] == relation, side]}
    tiers = np.array([0 if e in seen else 1 for e in range(n)], dtype=np.int64)
    loops = ((triples[:, 0] == triples[:, 2]) & (triples[:, 1] == relation)).any()
    if not loops:
        tiers[anchor] = 2
    return tiers


@pytest.mark.parametrize("n", SIZES)
def test_demote_orders_by_tier_then_score_at_every_size(n):
    rng = np.random.default_rng(n)
    scores = torch.from_numpy(rng.integers(-50, 50, size=(2, n)).astype(np.float64) / 7)  # many ties
    tiers = torch.from_numpy(rng.integers(0, 3, size=(2, n)))
    key = demote(scores, tiers)
    for row in range(2):
        shown = torch.argsort(key[row], descending=True, stable=True).tolist()
        assert shown == brute_force_order(scores[row].numpy(), tiers[row].numpy())


@pytest.mark.parametrize("n", SIZES)
def test_constraint_tiers_hold_any_number_of_candidates(n):
    rng = np.random.default_rng(n)
    triples = np.unique(
        np.stack([rng.integers(0, n, 400), rng.integers(0, 3, 400), rng.integers(0, n, 400)], 1), axis=0
    )
    anchors, rels = triples[:4, 0], triples[:4, 1]
    for direction in ("tail", "head"):
        tiers = constraint_tiers(triples, n, 3, anchors, rels, direction)
        assert tiers.dtype == torch.int64
        for q in range(4):
            want = brute_force_tiers(triples, n, int(anchors[q]), int(rels[q]), direction)
            assert torch.equal(tiers[q], torch.from_numpy(want))


def synthetic_kg(n: int, seed: int = 0) -> KnowledgeGraph:
    """``n`` entities, each the head of one triple; half the tails among a tenth of the entities."""
    rng = np.random.default_rng(seed)
    heads = rng.permutation(n)
    tails = np.where(rng.random(n) < 0.5, rng.integers(0, max(n // 10, 2), n), rng.integers(0, n, n))
    triples = np.unique(np.stack([heads, rng.integers(0, 4, n), tails], 1), axis=0)
    return KnowledgeGraph(tuple(f"e{i}" for i in range(n)), ("r0", "r1", "r2", "r3"), triples, f"synthetic-{n}")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("direction", ["tail", "head"])
def test_rank_query_shows_candidates_in_tier_then_score_order(n, direction):
    kg = synthetic_kg(n)
    torch.manual_seed(0)
    model = InGram.from_config(InGramConfig()).eval()
    pred = Predictor(model, kg, seeds=[0], device="cpu")
    anchor = int(kg.triples[0, 0] if direction == "tail" else kg.triples[0, 2])
    relation = int(kg.triples[0, 1])
    ranking = rank_query(pred, anchor, relation, direction)
    tiers = brute_force_tiers(kg.triples, kg.num_entities, anchor, relation, direction)
    scores = pred.scores(anchor, relation, direction).double().mean(0).numpy()
    shown = [c.entity for c in ranking.candidates]
    assert shown == brute_force_order(scores, tiers)
    assert [c.tier for c in ranking.candidates] == sorted(c.tier for c in ranking.candidates)
    assert [c.rank for c in ranking.candidates] == list(range(1, kg.num_entities + 1))


def test_no_narrow_integer_types_in_the_package():
    """Counts, ids and offsets are int64: no int8/int16/uint8/uint16 dtype anywhere in kgviz/ (the
    one byte view that hashes weights, ``view(torch.uint8)``, reads bytes, not numbers)."""
    import re
    from pathlib import Path

    narrow = re.compile(r"\b(?:np|torch)\.u?int(?:8|16)\b|['\"]u?int(?:8|16)['\"]")
    root = Path(__file__).resolve().parents[1] / "kgviz"
    hits = [
        f"{p.relative_to(root)}:{i}: {line.strip()}"
        for p in sorted(root.rglob("*.py"))
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if narrow.search(line) and ".view(torch.uint8)" not in line
    ]
    assert not hits, hits


def query_of(kg: KnowledgeGraph, direction: str) -> tuple[str, str]:
    """The anchor and relation names of the KG's first triple, asked in ``direction``."""
    h, r, t = kg.string_triples()[0]
    return (h if direction == "tail" else t), r


def brute_force_by_name(kg: KnowledgeGraph, anchor: str, relation: str, direction: str) -> dict[str, int]:
    """Tier of every entity name (0 kept, 1 other side only, 2 own entity), from the string triples."""
    rows = kg.string_triples()
    side = {t if direction == "tail" else h for h, r, t in rows if r == relation}
    loop = any(h == t and r == relation for h, r, t in rows)
    return {e: 2 if (e == anchor and not loop) else (0 if e in side else 1) for e in kg.entities}


MARKS = {0: [], 1: ["other side only"], 2: ["own entity (excluded)"]}


def cli_ranking(tmp_path, kg: KnowledgeGraph, direction: str, top_k: int) -> list[dict]:
    """``kgviz predict --json`` over a TSV of ``kg`` (default model, one draw)."""
    import json

    from kgviz.cli.parser import main

    path, out = tmp_path / f"{kg.source}.tsv", tmp_path / f"{kg.source}-{direction}.json"
    path.write_text(kg.to_tsv(), encoding="utf-8")
    anchor, relation = query_of(kg, direction)
    side = "--head" if direction == "tail" else "--tail"
    args = ["predict", "--kg", str(path), side, anchor, "--relation", relation, "--seeds", "1"]
    assert main(args + ["--top-k", str(top_k), "--device", "cpu", "--json", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))["candidates"]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("direction", ["tail", "head"])
def test_predict_json_lists_every_candidate_in_tier_then_score_order(tmp_path, n, direction, capsys):
    kg = synthetic_kg(n)
    shown = cli_ranking(tmp_path, kg, direction, top_k=kg.num_entities)
    capsys.readouterr()  # the printed table
    tiers = brute_force_by_name(kg, *query_of(kg, direction), direction)
    assert sorted(c["name"] for c in shown) == sorted(kg.entities)  # every candidate, once
    want = sorted(shown, key=lambda c: (tiers[c["name"]], -c["score"]))  # stable: ties keep the shown order
    assert [c["name"] for c in shown] == [c["name"] for c in want]
    assert [c["rank"] for c in shown] == list(range(1, kg.num_entities + 1))
    assert all(c["marks"] == MARKS[tiers[c["name"]]] for c in shown)


@pytest.mark.slow
@pytest.mark.parametrize("n", SIZES)
def test_predictions_view_shows_the_brute_force_order(tmp_path, n):
    """Through the app: an uploaded synthetic KG, both directions, one draw; the table's top 10 is the first ten
    of the brute-force order of the CLI's scores (every candidate listed by the CLI, see the test above)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from streamlit.testing.v1 import AppTest

    from kgviz.ui import state as S
    from test_app import APP, frames_with, no_errors

    kg = synthetic_kg(n)
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.file_uploader(key="upload").upload(f"{kg.source}.tsv", kg.to_tsv().encode(), "text/plain").run()
    no_errors(at)
    at.radio(key="view").set_value("Predictions").run()
    for direction in ("tail", "head"):
        anchor, relation = query_of(kg, direction)
        at.radio(key=S.Q_DIR).set_value(direction).run()
        at.selectbox(key=S.Q_ANCHOR).set_value(anchor)
        at.selectbox(key=S.Q_REL).set_value(relation)
        at.number_input(key=S.Q_ENSEMBLE).set_value(1).run()
        no_errors(at)
        table = frames_with(at, "freq. rank")[0]
        every = cli_ranking(tmp_path, kg, direction, top_k=kg.num_entities)
        tiers = brute_force_by_name(kg, anchor, relation, direction)
        want = sorted(every, key=lambda c: (tiers[c["name"]], -c["score"]))[: len(table)]
        assert list(table["entity"]) == [c["name"] for c in want]
        assert table["score"].tolist() == pytest.approx([c["score"] for c in want], rel=1e-6, abs=1e-6)
        assert list(table["note"]) == [", ".join(MARKS[tiers[c["name"]]]) for c in want]


NL100 = Path(__import__("os").environ.get("KGVIZ_DATA", "../shared/ingram-data")) / "NL-100" / "msg.txt"


def assert_tiers_then_scores(names: list[str], scores: list[float], notes: list[str]) -> None:
    """No 'other side only' (or own entity) before an unmarked candidate; scores fall within each tier."""
    order = {"": 0, "other side only": 1, "own entity (excluded)": 2}
    tiers = [order[n] for n in notes]
    assert tiers == sorted(tiers), list(zip(names, notes))
    for a, b, ta, tb in zip(scores, scores[1:], tiers, tiers[1:]):
        assert ta < tb or a >= b


@pytest.mark.slow
@pytest.mark.skipif(not NL100.is_file(), reason="the NL-100 benchmark is not at $KGVIZ_DATA")
def test_nl100_default_query_in_the_app_and_the_cli(tmp_path):
    """The benchmark inference graph of the bug report: the app's default query, its default model and draws."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from streamlit.testing.v1 import AppTest

    from kgviz.cli.parser import main
    from kgviz.graph.data import read_kg
    from test_app import APP, PRESETS, frames_with, kg_picker, no_errors

    kg = read_kg(NL100)
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    kg_picker(at).set_value(PRESETS["bench:NL-100"].label)
    at.radio(key="view").set_value("Predictions").run()
    no_errors(at)
    table = frames_with(at, "freq. rank")[0]
    assert_tiers_then_scores(list(table["entity"]), table["score"].tolist(), list(table["note"]))
    h, r, _ = kg.string_triples()[0]  # the page's default query: the KG's first triple's head and relation
    out = tmp_path / "nl100.json"
    assert (
        main(["predict", "--kg", str(NL100), "--head", h, "--relation", r, "--top-k", "200", "--json", str(out)]) == 0
    )
    cands = json.loads(out.read_text(encoding="utf-8"))["candidates"]
    assert_tiers_then_scores(
        [c["name"] for c in cands], [c["score"] for c in cands], [", ".join(c["marks"]) for c in cands]
    )
    assert [c["name"] for c in cands[: len(table)]] == list(table["entity"])  # same defaults, same list
