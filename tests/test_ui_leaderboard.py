"""The leaderboard in the app (issue 29): the Self-check page's leaderboard, scenario bars and reliability
diagram, Cancel, and Predictions showing the recommended ranking beside InGram's — on movies and an upload."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kg_factory import typed_graph
from kgviz.ui import state as S
from kgviz.ui.markup import escape_markdown
from kgviz.ui.leaderboard_job import jobs
from kgviz.ui.leaderboard_view import LB_BUDGET, LB_CANCEL, LB_RUN
from test_app import APP, SMALL, current_kg, kg_picker, no_errors


@pytest.fixture(autouse=True)
def fresh_results():
    import streamlit as st

    st.cache_resource.clear()


def _upload() -> bytes:
    rows = typed_graph("", np.random.default_rng(0), people=260)[:1000]
    return "".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows).encode()


def _app(upload: bytes | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if upload is not None:
        at.file_uploader(key=S.KG_UPLOAD).upload("mine.tsv", upload, "text/tab-separated-values").run()
    else:
        kg_picker(at).set_value(SMALL).run()
    no_errors(at)
    return at


def _run_board(at: AppTest, budget: float):
    at.radio(key="view").set_value("Self-check").run()
    at.number_input(key=LB_BUDGET).set_value(budget).run()
    at.button(key=LB_RUN).click().run()
    job = jobs()[(current_kg(at).fingerprint, float(budget))]
    job.wait(600)
    at.run()
    no_errors(at)
    return job


def _charts(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _check_self_check_page(at: AppTest, job) -> None:
    assert job.ok and job.board is not None
    table = next(d.value for d in at.dataframe if "chose: MRR" in d.value.columns)
    assert {"reports: MRR", "chose: 95% interval", "reports: Hits@10"} <= set(table.columns)
    assert table["method"].iloc[0] == "recommended" and len(table) == len({r["method"] for r in job.board.rows})
    assert any(m.startswith("ULTRA 3g") for m in table["method"]) and "R-GCN" in set(table["method"])
    row = job.board.row("recommended", "test")
    assert table["reports: MRR"].iloc[0] == pytest.approx(row["mrr"])
    titles = _charts(at)
    assert any("half-link scenario" in t for t in titles)
    assert any(t.startswith("Reliability of recommended") and "ECE" in t for t in titles)
    assert escape_markdown(job.board.sentence) in " ".join(s.value for s in at.success)
    assert any("Trained on this KG:" in m.value and "R-GCN" in m.value for m in at.markdown)


def _beside_frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe if list(d.value.columns) == ["rank", "entity", "probability", "known"]]


def _check_predictions(at: AppTest, job, anchor: str, relation: str) -> None:
    at.radio(key="view").set_value("Predictions").run()
    at.selectbox(key="q_anchor").set_value(anchor)
    at.selectbox(key="q_rel").set_value(relation).run()
    no_errors(at)
    beside = _beside_frames(at)
    assert len(beside) == 2  # the recommended ranking, then InGram's beside it
    recommended, ingram = beside
    full = next(d.value for d in at.dataframe if "freq. rank" in d.value.columns)  # InGram's own table below
    assert list(ingram["entity"]) == list(full["entity"])
    from kgviz.ranking.ranks import rank_query

    scorer = job.scorer
    direct = rank_query(
        scorer,
        anchor,
        relation,
        graph=current_kg(at),
        exclude_self=scorer.exclude_self,
        known_side=scorer.known_side,
        temperature=scorer.temperature,
    )
    assert list(recommended["entity"]) == [c.name for c in direct.candidates[:10]]
    assert escape_markdown(job.board.sentence) in " ".join(i.value for i in at.info)
    # the hook for a generic "Compare with" list gives the same ranking
    from types import SimpleNamespace

    from kgviz.ui.leaderboard_view import RECOMMENDED_KEY, recommended_for_query, recommended_options

    ctx = SimpleNamespace(kg=current_kg(at))
    assert [k for k, _ in recommended_options(ctx)] == [RECOMMENDED_KEY]
    query = SimpleNamespace(direction="tail", anchor=anchor, relation=relation, filter_known=False)
    hooked = recommended_for_query(ctx, RECOMMENDED_KEY, query)
    assert [c.name for c in hooked.candidates] == [c.name for c in direct.candidates]
    assert recommended_for_query(ctx, "pretrained:NL-0", query) is None
    at.toggle(key="lb_beside").set_value(False).run()
    assert len(_beside_frames(at)) == 1


@pytest.mark.slow
@pytest.mark.skipif(SMALL != "sample:movies", reason="the movies sample is not installed")
def test_self_check_leaderboard_and_predictions_on_movies():
    at = _app()
    job = _run_board(at, 5.0)
    _check_self_check_page(at, job)
    _check_predictions(at, job, "Ryan Gosling", "profession")


@pytest.mark.slow
def test_self_check_leaderboard_on_an_uploaded_kg_and_cancel():
    at = _app(_upload())
    at.radio(key="view").set_value("Self-check").run()
    at.number_input(key=LB_BUDGET).set_value(30.0).run()
    at.button(key=LB_RUN).click().run()
    job = jobs()[(current_kg(at).fingerprint, 30.0)]
    at.button(key=LB_CANCEL).click().run()
    job.wait(120)
    assert job.cancelled and job.board is None
    at.run()
    assert any("cancelled" in i.value for i in at.info)
    job = _run_board(at, 10.0)
    _check_self_check_page(at, job)
    kg = current_kg(at)
    h, r, _ = kg.triples[0]
    _check_predictions(at, job, kg.entities[h], kg.relations[r])
