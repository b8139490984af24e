"""AppTest walks of the classroom page (tests/classroom_harness.py): every step, one live number each."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kgviz.graph.relgraph import lecture_relation_graph, relation_graph
from kgviz.graph.samples import load_sample
from kgviz.classroom.walkthrough import STEPS

HARNESS = str(Path(__file__).with_name("classroom_harness.py"))


def _app(kg: str, step: int | str | None = None) -> AppTest:
    at = AppTest.from_file(HARNESS, default_timeout=120)
    at.query_params["kg"] = kg
    if step is not None:
        at.query_params["step"] = str(step)
    return at.run()


def _metric(at: AppTest, label_start: str) -> str:
    found = [m.value for m in at.metric if m.label.replace("\\", "").startswith(label_start)]
    assert found, f"no metric {label_start!r}; have {[m.label for m in at.metric]}"
    return found[0]


def _tables(at: AppTest) -> list:
    return [t.value for t in at.table]


def _expected(name: str) -> dict:
    kg, meta = load_sample(name)
    i, j = (kg.relation_index[r] for r in meta.pair)
    beta = lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations).toarray()
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    q = meta.queries[0]
    anchor = kg.entity_index[q.anchor]
    into = int((kg.triples[:, 0] == anchor).sum() + (kg.triples[:, 2] == anchor).sum()) + 1  # + self-loop
    return dict(
        kg=kg,
        meta=meta,
        pair=(kg.relations[i], kg.relations[j]),
        beta=f"{beta[i, j]:.2f}",
        lecture_edges=int(((beta > 0).sum() - (beta.diagonal() > 0).sum()) // 2),
        nnz=int(a.nnz),
        into=into,
        anchor=q.anchor,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["movies", "literature"])
def test_walk_every_step(name):
    exp = _expected(name)
    kg = exp["kg"]
    at = _app(name)
    seen = []
    for step in range(1, len(STEPS) + 1):
        assert not at.exception, at.exception
        assert at.query_params["step"] == str(step)  # the URL carries the step
        assert at.markdown[0].value.startswith(f"## {step}. {STEPS[step - 1].title}")
        assert at.latex  # every step shows its formula
        key = STEPS[step - 1].key
        if key == "task":
            assert _metric(at, "Triples M") == str(kg.num_triples)
        elif key == "encoders":
            assert _metric(at, "Shallow encoder parameters") == f"{(kg.num_entities + kg.num_relations) * 32:,}"
        elif key == "pair":
            assert _metric(at, f"β({exp['pair'][0]}, {exp['pair'][1]})") == exp["beta"]
        elif key == "relgraph":
            assert _metric(at, "Edges, lecture view") == str(exp["lecture_edges"])
            assert _metric(at, "Edges the model uses") == str(exp["nnz"])
        elif key == "bins":
            assert _metric(at, "Edges nnz") == str(exp["nnz"])
            assert _metric(at, "Bins B") == "10"
        elif key == "relattn":
            assert _metric(at, "Σ α") == "1.000"
        elif key == "entattn":
            assert _metric(at, f"Messages into {exp['anchor']}") == str(exp["into"])
            assert _metric(at, "Σ α") == "1.000"
        elif key == "score":
            assert _metric(at, "Candidates") == str(kg.num_entities)
        elif key == "ultra":  # the closing step: both rankings, both relation graphs
            answer = exp["meta"].queries[0].answer
            if answer is not None:
                assert _metric(at, f"Rank of {answer}, InGram") and _metric(at, f"Rank of {answer}, ULTRA")
            assert len(at.table) >= 2 and at.radio(key="cls_graph").value == "ingram"
            at.radio(key="cls_graph").set_value("ultra").run()
            assert not at.exception and "four types" in at.caption[-1].value
        seen.append(key)
        if step < len(STEPS):
            at.button(key="cls_next").click().run()
    assert seen == [s.key for s in STEPS]
    assert at.button(key="cls_next").disabled
    at.button(key="cls_prev").click().run()
    assert at.query_params["step"] == str(len(STEPS) - 1)


def test_movies_beta_step_shows_lecture_values():
    at = _app("movies", step=3)
    assert not at.exception
    assert _metric(at, "β(acted in, born in)") == "0.13"
    assert any(r"\left(\tfrac{1}{3}\right)^2 + \left(\tfrac{1}{7}\right)^2 = 0.13" in l.value for l in at.latex)
    panels = {row["pair"]: (row["sum"], row["β"]) for row in _tables(at)[1].to_dict("records")}
    assert panels["β(acted in, born in)"] == ("(1/3)² + (1/7)²", "0.13")
    assert panels["β(acted in, costarred)"] == ("(1/3)² + (1/7)² + (1/2)²", "0.38")
    assert panels["β(acted in, directed)"] == ("(1/3)² + (1/2)²", "0.36")
    terms = _tables(at)[0].to_dict("records")
    assert [(t["shared entity"], t["triples d"]) for t in terms] == [("Olivia Colman", 3), ("Emma Stone", 7)]


def test_pair_selectbox_and_deep_link():
    at = _app("movies", step=3)
    at.selectbox(key="cls_pair_j_w").set_value(1).run()  # directed
    assert _metric(at, "β(acted in, directed)") == "0.36"
    at.selectbox(key="cls_step").set_value(4).run()
    at.button(key="cls_prev").click().run()  # back on step 3, the chosen pair is kept
    assert _metric(at, "β(acted in, directed)") == "0.36"
    assert at.query_params["step"] == "3"
    assert _app("movies", step=99).query_params["step"] == str(len(STEPS))
    assert _app("movies", step="x").query_params["step"] == "1"


def test_walk_a_class_drawn_kg(tmp_path):
    """A KG the class drew: one relation, a self-loop, names with Markdown/LaTeX/HTML characters."""
    path = tmp_path / "drawn.tsv"
    path.write_text("a_1\tlikes $x$\t<b>b</b>\n<b>b</b>\tlikes $x$\tc\\d\nc\\d\tlikes $x$\tc\\d\n")
    at = _app(str(path))
    candidates = None
    for step in range(1, len(STEPS) + 1):
        assert not at.exception, (step, at.exception)
        assert not at.error, (step, [e.value for e in at.error])
        if STEPS[step - 1].key == "score":
            candidates = _metric(at, "Candidates")
        if step < len(STEPS):
            at.button(key="cls_next").click().run()
    assert candidates == "3"
