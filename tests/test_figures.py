"""Pure figure builders of the explorer (no Streamlit): offline HTML, escaping, values shown."""
import re

import numpy as np
import pytest
import torch

from kgviz.data import from_triples
from kgviz.inference import Predictor
from kgviz.model import InGram
from kgviz.catalog import builtin_kg
from kgviz.relgraph import explain_lecture_pair, explain_pair, lecture_relation_graph, relation_graph
from kgviz.ui import figures as F
from kgviz.ui.canvas import flow_to_triples, kg_to_flow
from kgviz.ui.markup import display_text

from conftest import SMALL_CONFIG

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def lecture():
    return builtin_kg()


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return InGram.from_config(SMALL_CONFIG).eval()


def assert_offline(html: str) -> None:
    """No tag that loads anything from elsewhere; the vis-network library itself is inlined."""
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link\b[^>]*\bhref\s*=", html, re.I)
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg", "bootstrap.min.css"):
        assert cdn not in html
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html, re.I)
    assert "new vis.Network" in html and "vis-network" in html


def test_kg_html_is_offline_and_escapes_names():
    kg = from_triples([(XSS, "likes", "b"), ("b", "</script><script>alert(2)</script>", "c"),
                       ("c", "href", "d")])
    html = F.kg_network_html(kg)
    assert_offline(html)
    assert XSS not in html and "<img" not in html
    assert "</script><script>alert(2)" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html  # present, as JSON-escaped text
    assert "innerHTML = nodeData" not in html  # pyvis' tooltip_link path (triggered by "href") is off


def test_relation_and_attention_html_offline(lecture, small_model):
    a = relation_graph(lecture.triples, lecture.num_entities, lecture.num_relations)
    labels = F.matrix_labels(lecture.relations, a.shape[0])
    html, drawn = F.relation_network_html(a, labels, 4, num_relations=lecture.num_relations, max_edges=5)
    assert_offline(html)
    assert drawn == 5
    att = Predictor(small_model, lecture, device="cpu").attention()
    frame = F.entity_attention_frame(att["entity"][0], lecture.entity_index["Emma Stone"], lecture)
    assert_offline(F.entity_attention_html(frame, lecture.entity_index["Emma Stone"], lecture))


def test_beta_breakdown_reproduces_lecture(lecture):
    R = lecture.num_relations
    i, j = lecture.relation_index["acted in"], lecture.relation_index["born in"]
    frame, formula = F.beta_breakdown(explain_lecture_pair(lecture.triples, lecture.num_entities, R, i, j),
                                      lecture.entities)
    assert formula == "(1/3)² + (1/7)² = 0.13"
    assert list(frame["entity"]) == ["Olivia Colman", "Emma Stone"]
    assert frame["contribution"].sum() == pytest.approx(1 / 9 + 1 / 49)
    b = lecture_relation_graph(lecture.triples, lecture.num_entities, R)
    assert frame["contribution"].sum() == pytest.approx(b[i, j])
    # InGram's exact weight counts Emma Stone's three films: 1·1/3² + 3·1/7².
    exact, formula = F.beta_breakdown(explain_pair(lecture.triples, lecture.num_entities, R, i, j),
                                      lecture.entities)
    assert formula == "(1/3)² + 3·1/7² = 0.17"
    assert set(exact["role"]) == {"head"}


def test_strongest_pairs_frame_and_heatmap(lecture):
    a = relation_graph(lecture.triples, lecture.num_entities, lecture.num_relations)
    labels = F.matrix_labels(lecture.relations, a.shape[0])
    frame = F.strongest_pairs_frame(a, labels, 10, top=5)
    assert list(frame["weight"]) == sorted(frame["weight"], reverse=True)
    assert list(frame["bin"]) == sorted(frame["bin"])  # bin 0 = strongest; self-loops take bin 0 here
    fig = F.affinity_heatmap(a, labels, pair=(0, 1))
    z = np.array(fig.data[0].z, dtype=float)
    assert np.isnan(z[a.toarray() == 0]).all()
    assert len(fig.layout.shapes) == 2


def test_attention_figures_match_model_output(lecture, small_model):
    att = Predictor(small_model, lecture, device="cpu").attention()
    rel = att["relation"][0]
    labels = [f"r{k}" for k in range(2 * lecture.num_relations)]
    fig = F.relation_attention_heatmap(rel, labels, head=1)
    z = np.array(fig.data[0].z, dtype=float)
    i, j = rel.edge_index.numpy()
    np.testing.assert_allclose(z[i, j], rel.alpha[:, 1].numpy(), rtol=1e-6)
    assert np.isnan(z).sum() == z.size - len(i)
    np.testing.assert_allclose(np.nansum(z, axis=1), 1.0, rtol=1e-5)  # softmax per receiver
    emma = lecture.entity_index["Emma Stone"]
    frame = F.entity_attention_frame(att["entity"][1], emma, lecture)
    heads = [c for c in frame.columns if c.startswith("head ")]
    assert len(heads) == SMALL_CONFIG.num_head
    np.testing.assert_allclose(frame[heads].sum().to_numpy(), 1.0, rtol=1e-5)
    assert "(self-loop)" in set(frame["relation"])
    # Emma Stone: 7 triples, each sends her a message (the inverse one when she is the head).
    assert len(frame) == 7 + 1
    assert len(F.entity_attention_bar(frame).data) == SMALL_CONFIG.num_head


def test_ranking_frame_and_figures(lecture, small_model):
    p = Predictor(small_model, lecture, seeds=[0, 1, 2], device="cpu")
    cands = p.rank_tails("Emma Stone", "acted in", 5)
    frame = F.ranking_frame(cands)
    assert list(frame["rank"]) == [1, 2, 3, 4, 5]
    assert list(frame["entity"]) == [c.name for c in cands]
    assert (frame["best rank"] <= frame["worst rank"]).all()
    known = set(frame.loc[frame["known"], "entity"])
    assert known <= {"The Favourite", "Poor Things", "La La Land"}
    assert len(F.ranking_bar(frame).data[0].x) == 5
    assert len(F.rank_spread_figure(frame).data) == 3


def test_canvas_round_trip_and_escaping(lecture):
    state = kg_to_flow(lecture)
    assert sorted(flow_to_triples(state, "x")) == sorted(lecture.string_triples())
    kg = from_triples([(XSS, "likes", "**bold**")])
    shown = [n.data["content"] for n in kg_to_flow(kg).nodes]
    assert "<" not in shown[0] and "&lt;img" in shown[0]
    assert shown[1] == r"\*\*bold\*\*"
    assert flow_to_triples(kg_to_flow(kg), "x") == [(XSS, "likes", "**bold**")]
    assert display_text("a_b") == r"a\_b"
