"""The "Why InGram?" page and the other models' columns in Predictions (issue 19), run with AppTest.

Budgets are tiny (0.5 s per model, a few epochs): the assertions are about what can and cannot be
scored, and about the page showing what the library computes, not about how well the models learn.
"""

import math
import re

import pytest

from kgviz.baselines.common import candidate_ranks
from kgviz.baselines.ingram import InGramModel
from kgviz.baselines.patterns import LECTURE_TICKS, PATTERNS
from kgviz.baselines.split import GROUP_TITLES, score_model, why_ingram_split
from kgviz.ui import state as S
from kgviz.ui.baseline_tables import MARK, group_cell
from kgviz.ui.cache import result_store
from test_app import SMALL, current_kg, frames_with, no_errors, start, untrained_model

SHALLOW = ("TransE", "TransR", "DistMult", "ComplEx", "RotatE")
CANNOT = "cannot score: no embedding for ⟨"


def mrr(cell: str) -> float:
    found = re.match(r"MRR (\d\.\d+) · H@1 (\d\.\d+) · H@10 (\d\.\d+)", cell)
    assert found, cell
    return float(found.group(1))


def test_why_page_cannot_score_where_the_lecture_says():
    at = start(SMALL, "Why InGram?")
    assert any("Train and score" in i.value for i in at.info)  # nothing trains before the button
    assert not frames_with(at, "CPU s")
    at.number_input(key=S.WHY_BUDGET).set_value(0.5)
    at.button(key=S.WHY_TRAIN).click().run()
    no_errors(at)
    table = frames_with(at, "CPU s")[0].set_index("model")
    a, b, c = (GROUP_TITLES[g] for g in "abc")
    split = why_ingram_split(current_kg(at), 0)
    assert len(table) == 7
    for name in SHALLOW:
        row = table.loc[name]
        assert math.isfinite(mrr(row[a]))
        assert row[b].startswith(CANNOT) and row[c].startswith(CANNOT)
        assert row[b][len(CANNOT) :].split("⟩")[0] in split.new_entities + split.new_relations
        assert row[c].startswith(CANNOT + split.new_relations[0] + "⟩")
        assert row["epochs"] >= 1 and row["CPU s"] > 0
    assert math.isfinite(mrr(table.loc["RGCN", a])) and math.isfinite(mrr(table.loc["RGCN", b]))
    assert table.loc["RGCN", c].startswith(CANNOT + split.new_relations[0] + "⟩")
    ingram = table.loc[[m for m in table.index if m.startswith("InGram")][0]]
    assert all(0 < mrr(ingram[g]) <= 1 for g in (a, b, c))
    # InGram's figures are the library's, for the app's untrained model (seed 0)
    expected = score_model(split, "ingram", model=InGramModel(untrained_model(), device="cpu"))
    assert [ingram[GROUP_TITLES[g]] for g in "abc"] == [group_cell(expected.groups[g]) for g in "abc"]
    # kept: later runs show the table without the button (widgets forget their values off the page)
    at.run()
    assert frames_with(at, "CPU s")[0].equals(table.reset_index())
    at.radio(key="view").set_value("KG").run()
    at.radio(key="view").set_value("Why InGram?").run()
    assert not frames_with(at, "CPU s")
    at.number_input(key=S.WHY_BUDGET).set_value(0.5).run()
    assert frames_with(at, "CPU s")[0].equals(table.reset_index())


def property_cells(at) -> dict:
    table = [f for f in frames_with(at, "model") if any(col.startswith("Antisym.") for col in f.columns)][0]
    return {row["model"]: [row[col] for col in table.columns[1:]] for _, row in table.iterrows()}


def test_property_table_shipped_with_the_lecture_ticks():
    at = start(SMALL, "Why InGram?")
    no_errors(at)
    cells = property_cells(at)
    assert len(cells) == 7
    labels = {"transe": "TransE", "transr": "TransR", "distmult": "DistMult", "complex": "ComplEx", "rotate": "RotatE"}
    for key, ticks in LECTURE_TICKS.items():
        row = cells[labels[key]]
        assert len(row) == len(PATTERNS)
        for cell, tick in zip(row, ticks):
            assert f"(lecture {MARK[tick]})" in cell
            measured = cell.split(" ")[1] == "✓"
            assert cell.endswith("≠") == (measured != tick)
    ingram = [v for k, v in cells.items() if k.startswith("InGram")][0]
    assert all("(lecture –)" in cell for cell in ingram)
    antisym = float(ingram[PATTERNS.index("antisymmetry")].split(" ")[0])
    assert antisym == 0.0  # f(a, r, b) = f(b, r, a): never above the reverse
    assert any("DistMult-like" in i.value and "symmetric in h and t" in i.value for i in at.info)
    assert any("Shipped table" in m.value for m in at.markdown)


@pytest.mark.slow
def test_property_table_remeasured_with_the_current_model():
    at = start(SMALL, "Why InGram?")
    at.number_input(key=S.PROP_EPOCHS).set_value(5)
    at.button(key=S.PROP_MEASURE).click().run()
    no_errors(at)
    assert any("Measured here: 5 epochs" in m.value for m in at.markdown)
    ingram = [v for k, v in property_cells(at).items() if k.startswith("InGram")][0]
    assert ingram[PATTERNS.index("antisymmetry")].startswith("0.00 ✗")


def test_predictions_show_other_models_ranks():
    at = start(SMALL, "Predictions")
    at.selectbox(key="q_anchor").set_value("Ryan Gosling")
    at.selectbox(key="q_rel").set_value("profession")
    at.number_input(key=S.Q_MODELS_BUDGET).set_value(0.5)
    at.multiselect(key=S.Q_MODELS).set_value(["transe", "rgcn"]).run()
    no_errors(at)
    kg = current_kg(at)
    table = frames_with(at, "best rank")[0]
    assert {"TransE rank", "RGCN rank"} <= set(table.columns)
    candidates = [kg.entity_index[n] for n in table["entity"]]
    store = result_store("trained_models", 24)
    for key, column in (("transe", "TransE rank"), ("rgcn", "RGCN rank")):
        model = store.get((kg.fingerprint, key, 0.5, "cpu", 0))
        assert model is not None
        expected = candidate_ranks(
            model, kg, kg.entity_index["Ryan Gosling"], kg.relation_index["profession"], candidates
        )
        assert table[column].tolist() == expected
        assert all(1 <= r <= kg.num_entities for r in expected)
