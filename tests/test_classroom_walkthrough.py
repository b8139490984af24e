"""The classroom's pure parts: kgviz.classroom.walkthrough step data, kgviz.graph.samples metadata, figure builders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgviz.graph.data import from_triples
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.graph.relgraph import binned_edges, relation_graph
from kgviz.graph.samples import SampleQuery, load_sample, parse_meta
from kgviz.ui.figures.classroom import kg_figure, relation_figure
from kgviz.classroom import walkthrough as wt


@pytest.fixture(scope="module")
def movies():
    kg, meta = load_sample("movies")
    torch.manual_seed(0)
    model = InGram.from_config(InGramConfig())
    pred = Predictor(model, kg, seeds=[0], device="cpu")
    return kg, meta, model, pred, pred.attention()


def test_parse_meta_conventions():
    meta = parse_meta(
        "# title: T\n# about: a\n# about: b\n# query: x | r | ? -> y\n"
        "# query: ? | r | z\n# query: bad\n# pair: r | s\n# transfer: m, n\nh\tr\tt\n"
        "# query: after | the | ?\n"
    )
    assert meta.title == "T" and meta.about == "a b" and meta.pair == ("r", "s")
    assert meta.queries == (SampleQuery("x", "r", "tail", "y"), SampleQuery("z", "r", "head", None))
    assert meta.transfer == ("m", "n")


def test_defaults(movies):
    kg, meta, *_ = movies
    names = kg.relations
    i, j = wt.default_pair(kg, meta)
    assert (names[i], names[j]) == ("acted in", "born in")
    i, j = wt.default_pair(kg)  # without metadata: the strongest lecture pair
    assert (names[i], names[j]) == ("acted in", "costarred")
    assert wt.default_query(kg, meta) == SampleQuery("Ryan Gosling", "profession", "tail", "actor")
    one = from_triples([("a", "r", "b")])
    assert wt.default_pair(one) == (0, 0)
    assert wt.default_query(one) == SampleQuery("a", "r", "tail", None)


def test_pair_step_and_panels(movies):
    kg, *_ = movies
    ps = wt.pair_step(kg, kg.relation_index["acted in"], kg.relation_index["costarred"])
    assert ps.text() == "(1/3)² + (1/7)² + (1/2)²"
    assert wt.lecture_round(ps.beta) == "0.38"
    assert r"\left(\tfrac{1}{2}\right)^2 = 0.38 \end{aligned}" in ps.latex(kg.relations)
    panels = {kg.relations[p.j]: wt.lecture_round(p.beta) for p in wt.pairs_of(kg, 0)}
    assert panels == {"costarred": "0.38", "directed": "0.36", "born in": "0.13", "profession": "0.02"}
    zero = wt.pair_step(kg, kg.relation_index["directed"], kg.relation_index["costarred"])
    assert zero.beta == 0 and zero.terms == () and zero.latex(kg.relations).endswith("= 0")


def test_structure_steps(movies):
    kg, meta, model, pred, _ = movies
    task = wt.task_step(kg, wt.default_query(kg, meta))
    assert (task.num_entities, task.num_relations, task.num_triples) == (12, 5, 14)
    assert task.known_answers == () and kg.entities[task.answer] == "actor"
    enc = wt.encoder_step(kg, model)
    assert enc.shallow_params == (12 + 5) * wt.SHALLOW_DIM
    assert enc.ingram_params == sum(p.numel() for p in model.parameters())
    rg = wt.relation_graph_step(kg)
    assert rg.num_lecture_edges == 9  # the slide's figure: 10 pairs, (directed, costarred) = 0
    assert rg.num_edges == relation_graph(kg.triples, 12, 5).nnz
    assert rg.labels[5] == "acted in⁻¹"
    b = wt.binning_step(kg, 10)
    assert b.per_bin.sum() == b.num_edges == rg.num_edges
    assert np.array_equal(b.edges, binned_edges(rg.affinity, 10))
    assert np.array_equal(b.edges, pred.graph.relation_triplets.numpy())  # what the model sees
    assert all(lo <= hi for n, lo, hi in b.bin_ranges() if n)


def test_attention_steps_sum_to_one(movies):
    kg, meta, model, pred, att = movies
    for layer in range(2):
        for r in range(2 * kg.num_relations):
            ra = wt.relation_attention_step(pred, att, r, layer)
            assert np.allclose(ra.alpha.sum(0), 1.0, atol=1e-5)
            assert np.all(ra.weights > 0)
            assert set(ra.neighbours) == set(pred.graph.affinity[r].indices.tolist())
        for v in range(kg.num_entities):
            ea = wt.entity_attention_step(att, v, layer)
            assert np.allclose(ea.alpha.sum(0), 1.0, atol=1e-5)
            assert ea.relations.count(-1) == 1  # one self-loop
    ryan = wt.entity_attention_step(att, kg.entity_index["Ryan Gosling"])
    named = {(kg.entities[u], r) for u, r in zip(ryan.senders, ryan.relations)}
    assert named == {
        ("La La Land", kg.relation_index["acted in"] + 5),
        ("Emma Stone", kg.relation_index["costarred"]),
        ("Ryan Gosling", -1),
    }


def test_ranking_step(movies):
    kg, meta, _, pred, _ = movies
    rk = wt.ranking_step(pred, meta.queries[0])
    assert rk.num_candidates == kg.num_entities
    assert [c.rank for c in rk.candidates] == list(range(1, 13))
    assert rk.answer_rank == next(c.rank for c in rk.candidates if c.name == "actor")


def test_figures_highlight_and_escape(movies):
    kg, *_ = movies
    shared = [kg.entity_index["Olivia Colman"], kg.entity_index["Emma Stone"]]
    fig = kg_figure(kg, highlight_nodes=shared, highlight_edges=[0, 1])
    nodes = fig.data[-1]
    assert len(nodes.x) == kg.num_entities
    assert sorted(nodes.marker.size).count(26) == 2
    odd = from_triples([("<b>x</b>", "r", "y")])
    texts = [a.text for a in kg_figure(odd).layout.annotations]
    assert "&lt;b&gt;x&lt;/b&gt;" in texts and "<b>x</b>" not in texts
    w = np.ones((40, 40))
    big = relation_figure([f"r{k}" for k in range(40)], w, highlight=[3], max_nodes=8)
    assert len(big.data[-1].x) == 8


def test_long_pair_formulas_break_into_lines(movies):
    kg, *_ = movies
    terms = tuple(wt.Term(k, f"e{k}", 2, 0.25) for k in range(10))
    latex = wt.PairStep(0, 1, 2.5, terms).latex(kg.relations)
    lines = latex.split(r"\\")
    assert len(lines) == 3  # β(…); three terms; three terms + "… (4 more)" = value
    assert latex.count(r"\tfrac") == 6 and r"\text{(4 more)} = 2.50" in latex


def test_step_figures_match_their_captions(movies):
    """Step 1: arrows in relation colours; step 4: every drawn edge labelled with β (grey when
    muted); step 4's table has no diagonal; quotes are not shown as &quot;."""
    from kgviz.ui.figures.classroom import lecture_beta_table
    from kgviz.ui.figures.network import MUTED, plotly_text
    from kgviz.ui.figures.views import relation_colour

    kg, meta, *_ = movies
    task = wt.task_step(kg, meta.queries[0])
    fig = kg_figure(kg, highlight_nodes=[task.anchor], query=(task.anchor, meta.queries[0].relation, None))
    colours = {a.arrowcolor for a in fig.layout.annotations if a.showarrow}
    assert MUTED not in colours and colours <= {relation_colour(r) for r in range(kg.num_relations)}
    assert len(colours) > 1
    rg = wt.relation_graph_step(kg)
    pair = wt.default_pair(kg, meta)
    fig = relation_figure(list(kg.relations), rg.beta, highlight_pairs=[pair])
    assert fig.layout.meta["edge_labels"] == fig.layout.meta["labelled_edges"] == rg.num_lecture_edges
    table = lecture_beta_table(rg.beta, kg.relations)
    assert all(table.iloc[k, k] == "—" for k in range(kg.num_relations))
    assert table.iloc[pair[0], pair[1]] == wt.lecture_round(rg.beta[pair])
    assert plotly_text('say "hi" <b>') == 'say "hi" &lt;b&gt;'
    quoted = from_triples([('the "x"', "r", "y")])
    assert 'the "x"' in [a.text for a in kg_figure(quoted).layout.annotations]


def test_labels_of_a_large_kg_do_not_overlap():
    """A hub with 40 long-named neighbours (NELL-like): the labels kept do not overlap, the hub's is kept."""
    from kgviz.ui.figures.network import PLOT_WIDTH_PX, Label, label_box, place_labels

    kg = from_triples(
        [("concept_hub_entity", f"concept:rel{k % 5}", f"concept_athlete_player_number_{k}") for k in range(40)]
    )
    fig = kg_figure(kg, highlight_nodes=[0], max_nodes=40)
    meta = fig.layout.meta
    assert 0 < meta["node_labels"] < meta["nodes"]
    texts = [a.text for a in fig.layout.annotations if not a.showarrow]
    assert "hub_entity" in texts  # the shared prefix "concept_" is dropped, the highlighted name kept
    labels = [Label(k * 10.0, 0.0, "x" * 12, 0, 14, "#000", 1.0) for k in range(10)]
    shown = place_labels(labels, lambda x, y: (x * 10, y))
    boxes = [label_box(lab, lambda x, y: (x * 10, y)) for lab, ok in zip(labels, shown) if ok]
    assert 1 < len(boxes) < 10 and PLOT_WIDTH_PX > 0
    assert all(b[2] <= c[0] or c[2] <= b[0] for k, b in enumerate(boxes) for c in boxes[k + 1 :])
