"""Issue 26 item 8: the "Why InGram?" page says what its figures show on this KG, with the size of each
held-out group, 95 % intervals, "too few to tell" under 10 triples, and a table narrow enough for 1280 px.

AppTest on movies (groups of 1–3 triples) and a benchmark inference graph (NELL-995-v1: groups of about 50–80
triples); intervals checked against their formulas."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from kgviz.models.baselines.split import GROUP_TITLES, GROUPS, why_ingram_split
from kgviz.evaluation.intervals import bootstrap_mean_interval, hits_interval, mrr_interval, wilson_interval
from kgviz.ui import state as S
from kgviz.ui.baseline_tables import GROUP_SHORT, TOO_FEW_TRIPLES
from kgviz.ui.why_verdict import ordinal
from test_app import BENCH, SMALL, current_kg, frames_with, no_errors, start

CELL = re.compile(r"^(\d?\.\d\d)(?: \((\d?\.\d\d)–(\d?\.\d\d)\))?(?: †)?$")


def test_wilson_interval_formula():
    lo, hi = wilson_interval(3, 3)
    assert (lo, hi) == pytest.approx((0.4385, 1.0), abs=1e-4)  # 3 of 3 is not "certainly 1"
    lo, hi = wilson_interval(5, 10)
    z = 1.959963984540054
    half = z * math.sqrt(0.25 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (lo, hi) == pytest.approx((0.5 - half, 0.5 + half))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert hits_interval(np.array([1, 5, 11, 30]), 10) == wilson_interval(2, 4)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    ranks = np.array([1, 1, 2, 3, 5, 8, 13, 21, 34, 55] * 3)
    lo, hi = mrr_interval(ranks)
    assert lo < float(np.mean(1.0 / ranks)) < hi
    assert (lo, hi) == mrr_interval(ranks)  # same values, same interval
    assert bootstrap_mean_interval(np.ones(7)) == (1.0, 1.0)
    wide, narrow = (
        bootstrap_mean_interval(np.r_[np.zeros(5), np.ones(5)]),
        bootstrap_mean_interval(np.r_[np.zeros(500), np.ones(500)]),
    )
    assert wide[1] - wide[0] > 3 * (narrow[1] - narrow[0])  # ∝ 1/√n
    with pytest.raises(ValueError):
        bootstrap_mean_interval(np.zeros(0))


def test_ordinal():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
    ]  # fmt: skip


def trained_page(preset: str):
    at = start(preset, "Why InGram?")
    at.number_input(key=S.WHY_BUDGET).set_value(0.5)
    at.button(key=S.WHY_TRAIN).click().run()
    no_errors(at)
    return at


@pytest.mark.parametrize("preset", sorted({SMALL, BENCH}))
def test_why_page_says_what_its_figures_show(preset):
    at = trained_page(preset)
    split = why_ingram_split(current_kg(at), 0)
    sizes = {g: len(split.groups[g]) for g in GROUPS}
    table = frames_with(at, "(a) MRR")[0].set_index("model")
    # narrow: models as rows, two short columns per group, compact cells (fits 1280 px with the sidebar open)
    assert list(table.columns) == [f"({g}) {m}" for g in GROUPS for m in ("MRR", "H@10")]
    assert max(len(str(c)) for c in table.to_numpy().ravel()) <= 16
    assert max(len(m) for m in table.index) <= 28
    # the number of held-out triples per group, "too few to tell" below the stated threshold
    text = "\n".join(m.value for m in at.markdown)
    for g in GROUPS:
        line = f"- **{GROUP_TITLES[g]}**: {sizes[g]:,} held-out triple{'s' if sizes[g] != 1 else ''}"
        assert line in text
        assert (f"{line} ({2 * sizes[g]:,} queries) — *too few to tell*" in text) == (sizes[g] < TOO_FEW_TRIPLES)
    assert any(f"Fewer than {TOO_FEW_TRIPLES} held-out triples" in c.value for c in at.caption)
    sentence = next(m.value for m in at.markdown if m.value.startswith("**On this KG:**"))
    for g in GROUPS:
        scored = {m: CELL.match(table.loc[m, f"({g}) MRR"]) for m in table.index}
        scored = {m: found for m, found in scored.items() if found}
        for m, found in scored.items():  # MRR intervals once a group has 2·threshold queries, Hits@10 always
            assert (found.group(2) is not None) == (2 * sizes[g] >= 2 * TOO_FEW_TRIPLES), (m, g)
            assert CELL.match(table.loc[m, f"({g}) H@10"]).group(2) is not None
        clause = sentence.split(f"{GROUP_SHORT[g]}: ")[1].split(";")[0]
        if len(scored) == 1:
            assert clause.startswith("only ")
        elif sizes[g] < TOO_FEW_TRIPLES:
            assert "too few to tell which is best" in clause
        else:  # the model named best is the table's best MRR
            best = max(scored, key=lambda m: float(scored[m].group(1)))
            named = "InGram" if best.startswith("InGram") else best
            assert clause.startswith(f"{named} best (MRR {scored[best].group(1)})"), clause
    if preset == SMALL:
        assert all(n < TOO_FEW_TRIPLES for n in sizes.values())  # movies: every group too small
    else:
        assert all(n >= TOO_FEW_TRIPLES for n in sizes.values())
        # the untrained InGram is far behind on (a): the page says why, not silently
        assert "InGram here is the untrained model" in sentence
