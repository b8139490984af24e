"""Pure figure builders of the explorer (no Streamlit): offline HTML, escaping, values shown."""

import json
import re

import numpy as np
import pytest
import torch

from kgviz.graph.data import from_triples
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram
from kgviz.catalog import builtin_kg
from kgviz.graph.relgraph import explain_lecture_pair, explain_pair, lecture_relation_graph, relation_graph
from kgviz.ui.figures import views as F
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
    kg = from_triples([(XSS, "likes", "b"), ("b", "</script><script>alert(2)</script>", "c"), ("c", "href", "d")])
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
    assert len(drawn) == 5
    att = Predictor(small_model, lecture, device="cpu").attention()
    frame = F.entity_attention_frame(att["entity"][0], lecture.entity_index["Emma Stone"], lecture)
    assert_offline(F.entity_attention_html(frame, lecture.entity_index["Emma Stone"], lecture))


def test_beta_breakdown_reproduces_lecture(lecture):
    R = lecture.num_relations
    i, j = lecture.relation_index["acted in"], lecture.relation_index["born in"]
    frame, formula = F.beta_breakdown(
        explain_lecture_pair(lecture.triples, lecture.num_entities, R, i, j), lecture.entities
    )
    assert formula == "(1/3)² + (1/7)² = 0.13"
    assert list(frame["entity"]) == ["Olivia Colman", "Emma Stone"]
    assert frame["contribution"].sum() == pytest.approx(1 / 9 + 1 / 49)
    b = lecture_relation_graph(lecture.triples, lecture.num_entities, R)
    assert frame["contribution"].sum() == pytest.approx(b[i, j])
    # InGram's exact weight counts Emma Stone's three films: 1·1/3² + 3·1/7².
    exact, formula = F.beta_breakdown(explain_pair(lecture.triples, lecture.num_entities, R, i, j), lecture.entities)
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


def test_relation_graph_colours_agree_with_the_bin_legend(lecture):
    """Lecture view: self-affinities fill bin 0, so the strongest pairs are bin 1; the legend says so,
    every drawn edge has its bin's colour from that legend, and no bin colour is the selection red."""
    from kgviz.graph.relgraph import lecture_relation_graph

    b = lecture_relation_graph(lecture.triples, lecture.num_entities, lecture.num_relations)
    labels = F.matrix_labels(lecture.relations, b.shape[0])
    summary = F.bin_summary(b, 5)
    assert summary.loc[0, "pairs"] == 0 and summary.loc[0, "self"] > 0
    html, bins = F.relation_network_html(b, labels, 5, num_relations=lecture.num_relations)
    assert min(bins) >= 1
    legend = F.bin_legend_html(summary, sorted(set(bins)))
    assert "bin 0: self-affinities only" in legend
    for k in set(bins):
        assert F.bin_colour(k, 5) in legend and F.bin_colour(k, 5) in html
    assert F.HIGHLIGHT not in {F.bin_colour(k, 5) for k in range(5)}


def test_relation_graph_draws_only_the_chosen_relations(lecture):
    a = relation_graph(lecture.triples, lecture.num_entities, lecture.num_relations)
    labels = F.matrix_labels(lecture.relations, a.shape[0])
    html, bins = F.relation_network_html(
        a, labels, 4, num_relations=lecture.num_relations, ids=[0, 1, 2], short=[f"s{k}" for k in range(len(labels))]
    )
    assert '"label": "s0"' in html and '"label": "s5"' not in html
    m = a.toarray()
    assert len(bins) == sum(m[i, j] > 0 for i in range(3) for j in range(i + 1, 3))


def test_kg_view_keeps_the_selected_relations_colour(lecture):
    r = lecture.relation_index["born in"]
    html = F.kg_network_html(lecture, relation=r)
    edges = json.loads(re.search(r"edges = new vis.DataSet\((\[.*?\])\);", html, re.S).group(1))
    on = [e for e in edges if e["title"].split(", ")[1] == "born in"]
    off = [e for e in edges if e not in on]
    assert on and all(e["color"] == F.relation_colour(r) and e["width"] > 2 for e in on)
    assert all(e["color"] == F.FADED and e["label"] == "" for e in off)
    legend = F.relation_legend(lecture, selected=r)
    assert legend.loc[r, "relation"] == "▶ born in" and legend.loc[r, "colour"] == F.relation_colour(r)


def test_heatmaps_show_the_chosen_relations_in_order(lecture, small_model):
    a = relation_graph(lecture.triples, lecture.num_entities, lecture.num_relations)
    labels = F.matrix_labels(lecture.relations, a.shape[0])
    order = [3, 0, 1]
    fig = F.affinity_heatmap(a, labels, pair=(0, 3), ids=order, short=["x0", "x1", "x2", "x3"] + labels[4:])
    assert list(fig.data[0].x) == ["x3", "x0", "x1"]
    np.testing.assert_allclose(np.nan_to_num(np.array(fig.data[0].z, dtype=float)), a.toarray()[np.ix_(order, order)])
    ids = {(int(r), int(c)) for _, r, c in fig.data[1].customdata}  # clicks report matrix ids
    assert ids <= {(i, j) for i in order for j in order} and (0, 3) in ids
    assert {(s.x0, s.y0) for s in fig.layout.shapes} == {(-0.5, 0.5), (0.5, -0.5)}  # pair (0, 3) at rows 1, 0
    att = Predictor(small_model, lecture, device="cpu").attention()["relation"][0]
    fig = F.relation_attention_heatmap(att, labels, selected=0, ids=order)
    assert list(fig.data[0].y) == [labels[k] for k in order]
    assert fig.layout.shapes[0].y0 == 0.5  # the selected relation's row, second here


def test_long_beta_formulas_are_cut():
    from kgviz.graph.relgraph import Contribution

    terms = [Contribution(entity=k, role="head", count_i=1, count_j=1, degree=2, value=0.25) for k in range(12)]
    frame, formula = F.beta_breakdown(terms, [f"e{k}" for k in range(12)])
    assert len(frame) == 12 and formula.count("(1/2)²") == 8
    assert formula.endswith("+ … (4 more terms) = 3.00")


def test_canvas_spreads_parallel_edges_and_confirms_edits(lecture):
    from kgviz.ui.canvas import canvas_edit_message, pending_entities
    from streamlit_flow.elements import StreamlitFlowNode

    kg = from_triples([("a", "r", "b"), ("a", "s", "b"), ("b", "t", "a"), ("b", "r", "c")])
    state = kg_to_flow(kg)
    between_ab = [e.type for e in state.edges if {e.source, e.target} == {"n0", "n1"}]
    assert len(between_ab) == 3 and len(set(between_ab)) == 3  # three label positions, not one
    big = kg_to_flow(lecture)
    pos = [n.position for n in big.nodes]
    gaps = [np.hypot(p["x"] - q["x"], p["y"] - q["y"]) for k, p in enumerate(pos) for q in pos[k + 1 :]]
    assert min(gaps) > 60  # nodes (and the labels between them) do not sit on top of each other
    before = kg.string_triples()
    assert (
        canvas_edit_message(before, before + [("c", "r", "d")]) == "Canvas: added 1 triple; the KG now has 5 triples."
    )
    assert canvas_edit_message(before, before[:2]) == "Canvas: removed 2 triples; the KG now has 2 triples."
    state.nodes.append(StreamlitFlowNode(id="new", pos=(0, 0), data={"content": "Zed"}))
    assert pending_entities(state, kg) == ["Zed"]


def test_counts_use_the_singular_for_one():
    from kgviz.ui.markup import kg_counts

    assert kg_counts(1, 1, 1) == "1 entity, 1 relation, 1 triple"
    assert kg_counts(1709, 53, 2378) == "1,709 entities, 53 relations, 2,378 triples"
