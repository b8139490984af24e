"""The "Why InGram?" page and the other models' columns in Predictions (issue 19), run with AppTest.

Budgets are tiny (0.5 s per model, a few epochs): the assertions are about what can and cannot be
scored, and about the page showing what the library computes, not about how well the models learn.
"""

import math
import re

import pytest

from kgviz.models.baselines.common import candidate_ranks
from kgviz.models.baselines.ingram import InGramModel
from kgviz.models.baselines.patterns import LECTURE_TICKS, PATTERNS
from kgviz.models.baselines.split import score_model, why_ingram_split
from kgviz.ui import state as S
from kgviz.ui.baseline_tables import MARK, group_cell
from kgviz.ui.cache import result_store
from test_app import SMALL, current_kg, frames_with, no_errors, start, untrained_model

SHALLOW = ("TransE", "TransR", "DistMult", "ComplEx", "RotatE")
CANNOT = "cannot score: no embedding for ⟨"
NO_VECTOR = CANNOT.removeprefix("cannot score: ")


def mrr(cell: str) -> float:
    """The figure of a table cell: ``".52 (.31–.74)"`` or ``".52"`` → 0.52."""
    found = re.match(r"(\d?\.\d\d)( \((\d?\.\d\d)–(\d?\.\d\d)\))?( †)?$", cell)
    assert found, cell
    return float(found.group(1))


def test_why_page_cannot_score_where_the_lecture_says():
    at = start(SMALL, "Why InGram?")
    assert any("Train and score" in i.value for i in at.info)  # nothing trains before the button
    assert not frames_with(at, "(a) MRR")
    at.number_input(key=S.WHY_BUDGET).set_value(0.5)
    at.button(key=S.WHY_TRAIN).click().run()
    no_errors(at)
    table = frames_with(at, "(a) MRR")[0].set_index("model")
    cost = frames_with(at, "CPU s")[0].set_index("model")
    split = why_ingram_split(current_kg(at), 0)
    assert len(table) == 7 and list(table.columns) == [f"({g}) {m}" for g in "abc" for m in ("MRR", "H@10")]
    reasons = "\n".join(m.value for m in at.markdown if m.value.startswith("**Cannot score**"))
    for name in SHALLOW:
        row = table.loc[name]
        assert math.isfinite(mrr(row["(a) MRR"])) and math.isfinite(mrr(row["(a) H@10"]))
        assert all(row[f"({g}) {m}"] == "cannot score" for g in "bc" for m in ("MRR", "H@10"))
        assert cost.loc[name, "epochs"] >= 1 and cost.loc[name, "CPU s"] > 0
    shallow = ", ".join(SHALLOW)
    assert f"(b) new entity: {shallow} — {NO_VECTOR}" in reasons
    assert f"(c) new relation: {shallow} — {NO_VECTOR}{split.new_relations[0]}⟩" in reasons
    assert math.isfinite(mrr(table.loc["RGCN", "(a) MRR"])) and math.isfinite(mrr(table.loc["RGCN", "(b) MRR"]))
    assert table.loc["RGCN", "(c) MRR"] == "cannot score"
    assert f"(c) new relation: RGCN — {NO_VECTOR}{split.new_relations[0]}⟩" in reasons
    ingram = table.loc[[m for m in table.index if m.startswith("InGram")][0]]
    assert all(0 < mrr(ingram[f"({g}) MRR"]) <= 1 for g in "abc")
    # InGram's figures are the library's, for the app's untrained model (seed 0)
    expected = score_model(split, "ingram", model=InGramModel(untrained_model(), device="cpu"))
    for g in "abc":
        assert ingram[f"({g}) MRR"] == group_cell(expected.groups[g], "MRR")
        assert ingram[f"({g}) H@10"] == group_cell(expected.groups[g], "Hits@10")
        assert mrr(ingram[f"({g}) MRR"]) == pytest.approx(
            expected.groups[g].metrics["MRR"], abs=0.005 + 1e-9
        )  # 2 decimals
    # kept: later runs show the table without the button (widgets forget their values off the page)
    at.run()
    assert frames_with(at, "(a) MRR")[0].equals(table.reset_index())
    at.radio(key="view").set_value("KG").run()
    at.radio(key="view").set_value("Why InGram?").run()
    assert not frames_with(at, "(a) MRR")
    at.number_input(key=S.WHY_BUDGET).set_value(0.5).run()
    assert frames_with(at, "(a) MRR")[0].equals(table.reset_index())


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
