"""The classroom's steps (the lecture's eight and "From InGram to ULTRA"): each draws its numbers and widgets and returns its figure.

A step is a function of a :class:`~kgviz.ui.classroom.step_kit.StepContext` returning a
:class:`~kgviz.ui.classroom.step_kit.StepFigure` (or ``None`` for a step without one); the page
(:mod:`kgviz.ui.pages.classroom`) lays them out. The structural steps are here, the model's
(attention, scores) in :mod:`kgviz.ui.classroom.model_steps`. The numbers come from
:mod:`kgviz.classroom.walkthrough` (pure); the figures from :mod:`kgviz.ui.figures.classroom`.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st

from kgviz.classroom import walkthrough as wt
from kgviz.graph.data import KnowledgeGraph
from kgviz.graph.relgraph import relation_label
from kgviz.graph.samples import SampleMeta, SampleQuery
from kgviz.ui import state as S
from kgviz.ui.figures.classroom import kg_figure, lecture_beta_table, relation_figure
from kgviz.ui.figures.colours import bin_colour
from kgviz.ui.markup import name_html, name_md
from kgviz.ui.widgets import stored_select
from kgviz.ui.classroom.step_kit import StepContext, StepFigure, query_widgets, label_note, step_table, tex_name
from kgviz.ui.classroom.model_steps import step_entattn, step_relattn, step_score
from kgviz.ui.classroom.ultra_step import step_ultra


# ----------------------------------------------------------------------------- steps


def _step_task(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    task = wt.task_step(kg, sc.query)
    q = task.query
    c = st.columns(3)
    c[0].metric("Entities N", task.num_entities)
    c[1].metric("Relations R", task.num_relations)
    c[2].metric("Triples M", task.num_triples)
    head = name_html(q.anchor) if q.direction == "tail" else "?"  # escaped, cut, the whole name on hover
    tail = "?" if q.direction == "tail" else name_html(q.anchor)
    st.markdown(f"**Query:** ({head}, {name_html(q.relation)}, {tail})", unsafe_allow_html=True)
    if q.answer:
        st.markdown(f"Expected answer (not in the KG): **{name_html(q.answer)}**", unsafe_allow_html=True)
    if task.known_answers:
        st.markdown("Already known answers: " + ", ".join(f"**{name_md(kg.entities[a])}**" for a in task.known_answers))
    with st.expander("Choose the query", expanded=False):
        query_widgets(sc)
    figure = kg_figure(kg, highlight_nodes=[task.anchor], query=(task.anchor, q.relation, None), font_size=sc.font_size)
    caption = "Dashed red: the query; arrow colours follow relations." + label_note(figure)
    return StepFigure(figure, caption)


def _step_encoders(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    enc = wt.encoder_step(kg, sc.model.model)
    c = st.columns(3)
    c[0].metric(
        f"Shallow encoder parameters (k={wt.SHALLOW_DIM})",
        f"{enc.shallow_params:,}",
        help="(N + R) · k: one trained vector per entity and per relation of this KG",
    )
    c[1].metric(
        "RGCN relation weights (one layer)",
        f"{enc.rgcn_relation_params:,}",
        help=f"R · D² with D = {enc.hidden_rel}: one matrix W_r per relation of this KG",
    )
    c[2].metric(
        "InGram parameters (any KG)",
        f"{enc.ingram_params:,}",
        help="Independent of N and R: nothing is tied to this KG's vocabulary",
    )
    st.markdown("**The lecture's KG-embedding models** (all shallow: one trained vector per name)")
    step_table(list(wt.MODEL_TABLE))
    st.markdown("**What happens on a KG with new entities or new relations**")
    step_table(list(wt.ENCODER_TABLE))
    return None


def _pair_widgets(sc: StepContext) -> tuple[int, int]:
    kg = sc.kg
    options = list(range(kg.num_relations))
    i0, j0 = sc.pair
    c = st.columns(2)
    with c[0]:
        i = stored_select("Relation i", options, S.CLS_PAIR_I, i0, format_func=kg.relations.__getitem__)
    with c[1]:
        j = stored_select("Relation j", options, S.CLS_PAIR_J, j0, format_func=kg.relations.__getitem__)
    return i, j


def _step_pair(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    i, j = _pair_widgets(sc)
    ps = wt.pair_step(kg, i, j)
    names = kg.relations
    st.metric(
        f"β({name_md(names[i])}, {name_md(names[j])})", wt.lecture_round(ps.beta), help=f"exact value {ps.beta:.4f}"
    )
    st.latex(ps.latex(names))
    if ps.terms:
        step_table(
            [
                {"shared entity": t.name, "triples d": t.degree, "term": f"(1/{t.degree})²", "value": f"{t.value:.4f}"}
                for t in ps.terms
            ]
        )
    else:
        st.markdown(f"No entity touches both **{name_md(names[i])}** and **{name_md(names[j])}**: β = 0, no edge.")
    others = wt.pairs_of(kg, i)
    if others:
        st.markdown(f"**All pairs with {name_md(names[i])}** (the slides' panels)")
        step_table(
            [{"pair": f"β({names[i]}, {names[p.j]})", "sum": p.text(), "β": wt.lecture_round(p.beta)} for p in others]
        )
    shared = [t.entity for t in ps.terms]
    caption = (
        f"Orange: the entities shared by {names[i]} and {names[j]}; in colour: the triples "
        "of the two relations. Hover a node for its term."
    )
    edges = [k for k, r in enumerate(kg.triples[:, 1].tolist()) if r in (i, j)]
    figure = kg_figure(
        kg,
        highlight_nodes=shared,
        highlight_edges=edges,
        font_size=sc.font_size,
        node_hover={t.entity: f"{t.name}: d = {t.degree}, adds (1/{t.degree})² = {t.value:.4f}" for t in ps.terms},
    )
    return StepFigure(figure, caption)


def _step_relgraph(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    rg = wt.relation_graph_step(kg)
    c = st.columns(2)
    c[0].metric("Edges, lecture view (R × R)", rg.num_lecture_edges)
    c[1].metric(
        "Edges the model uses (2R × 2R)",
        rg.num_edges,
        help="A[i, j] ≠ 0 over relations and their inverses, both directions and self-loops",
    )
    strongest = rg.strongest(1)
    if strongest:
        i, j, w = strongest[0]
        st.latex(
            rf"\text{{strongest pair: }}\beta({tex_name(kg.relations[i])},\ "
            rf"{tex_name(kg.relations[j])}) = {wt.lecture_round(w)}"
        )
    if kg.num_relations <= 12:
        st.markdown(
            "**β, the lecture's relation graph** (0/1 incidence, relation = its inverse; "
            "— on the diagonal: a relation is not linked to itself)"
        )
        st.table(lecture_beta_table(rg.beta, kg.relations))
    else:
        step_table(
            [
                {"pair": f"{kg.relations[i]} — {kg.relations[j]}", "β": wt.lecture_round(w)}
                for i, j, w in rg.strongest(15)
            ]
        )
    with st.expander("The exact matrix A the model uses (2R × 2R)"):
        if len(rg.labels) <= 16:
            dense = rg.affinity.toarray()
            st.table(
                pd.DataFrame(dense, index=list(rg.labels), columns=list(rg.labels)).map(
                    lambda x: f"{x:.2f}" if x else "·"
                )
            )
        else:
            st.markdown(f"{len(rg.labels)} relations with inverses, {rg.num_edges} non-zero entries.")
    figure = relation_figure(list(kg.relations), rg.beta, highlight_pairs=[sc.pair], font_size=sc.font_size)
    meta = figure.layout.meta
    labelled = (
        "edge labels are β"
        if meta["edge_labels"] == meta["labelled_edges"]
        else f"edge labels are β ({meta['edge_labels']} of {meta['labelled_edges']} edges; hover the others)"
    )
    caption = f"Nodes are relations; {labelled}; orange: the pair of step 3, the other edges grey." + label_note(
        figure, edges=False
    )
    return StepFigure(figure, caption)


def _step_bins(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    pred = sc.model_predictor
    b = wt.binning_step(kg, sc.model.model.num_bin, pred.graph.affinity)
    c = st.columns(3)
    c[0].metric("Edges nnz", b.num_edges)
    c[1].metric("Bins B", b.num_bins)
    c[2].metric("Edges in bin 0 (strongest)", int(b.per_bin[0]))
    st.latex(
        rf"\begin{{gathered}} \mathrm{{nnz}} = {b.num_edges},\ B = {b.num_bins} \\ \Rightarrow\ "
        rf"\left\lceil {b.num_edges} / {b.num_bins} \right\rceil = {-(-b.num_edges // b.num_bins)}"
        r"\ \text{edges per bin} \\ \text{(at most)} \end{gathered}"
    )
    step_table(
        [
            {
                "bin": k,
                "edges": n,
                "smallest weight": f"{lo:.3f}" if n else "–",
                "largest weight": f"{hi:.3f}" if n else "–",
            }
            for k, (n, lo, hi) in enumerate(b.bin_ranges())
        ]
    )
    labels = [relation_label(r, kg.relations) for r in range(2 * kg.num_relations)]
    dense = pred.graph.affinity.toarray()
    colors = [bin_colour(k, b.num_bins) for k in range(b.num_bins)]
    edge_bin = {}
    for i, j, k in b.edges.tolist():
        if i < j:
            edge_bin[(i, j)] = k
    caption = (
        "The exact relation graph (relations and their inverses ⁻¹); edges coloured by "
        "bin, dark = strong. Self-loops are binned too but not drawn."
    )
    figure = relation_figure(
        labels,
        dense,
        font_size=sc.font_size,
        edge_text={p: f"bin {k}" for p, k in edge_bin.items()},
        edge_color={p: colors[k] for p, k in edge_bin.items()},
    )
    return StepFigure(figure, caption)


RENDERERS: dict[str, Callable[[StepContext], StepFigure | None]] = {
    "task": _step_task,
    "encoders": _step_encoders,
    "pair": _step_pair,
    "relgraph": _step_relgraph,
    "bins": _step_bins,
    "relattn": step_relattn,
    "entattn": step_entattn,
    "score": step_score,
    "ultra": step_ultra,
}


def current_query(kg: KnowledgeGraph, meta: SampleMeta | None) -> SampleQuery:
    """The query chosen in the classroom (a sample's own query keeps its expected answer)."""
    q0 = wt.default_query(kg, meta)
    anchor = st.session_state.get(S.CLS_ANCHOR, q0.anchor)
    rel = st.session_state.get(S.CLS_RELATION, q0.relation)
    if anchor not in kg.entity_index or rel not in kg.relation_index:
        return q0
    for q in meta.queries if meta else ():  # keep the sample's expected answer when it matches
        if q.anchor == anchor and q.relation == rel:
            return q
    return SampleQuery(anchor, rel, "tail", None)
