"""The classroom's eight steps: each draws its numbers and widgets and returns its figure.

A step is a function of a :class:`StepContext` returning a :class:`StepFigure` (or ``None`` for
a step without one); the page (:mod:`kgviz.ui.pages.classroom`) lays them out. The numbers come
from :mod:`kgviz.walkthrough` (pure); the figures from :mod:`kgviz.ui.classroom_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import walkthrough as wt
from ..data import KnowledgeGraph
from ..inference import Predictor
from ..model import LayerAttention
from ..relgraph import relation_label
from ..samples import SampleMeta, SampleQuery
from . import state as S
from .cache import LoadedModel
from .classroom_figures import kg_figure, lecture_beta_table, relation_figure
from .colours import bin_colour
from .markup import escape_markdown
from .widgets import layer_name, stored_select


@dataclass(frozen=True)
class StepContext:
    """What a step needs: the KG, the model and its forward pass, the query and the pair."""

    kg: KnowledgeGraph
    model: LoadedModel
    model_label: str
    predictor: Predictor | None  # None when the model cannot run on the KG (structural steps only)
    attention: dict[str, list[LayerAttention]] | None
    default_query: SampleQuery
    query: SampleQuery
    pair: tuple[int, int]  # relation ids in [0, R)
    presenter: bool
    ensemble: Predictor | None = None  # the Predictions view's default draws (the score step)

    @property
    def font_size(self) -> int:
        return 20 if self.presenter else 14

    @property
    def model_predictor(self) -> Predictor:
        """The forward pass, for the steps that need it (``pages.classroom.MODEL_STEPS``)."""
        if self.predictor is None:
            raise RuntimeError("this classroom step needs the model's forward pass, which is missing")
        return self.predictor

    @property
    def model_attention(self) -> dict[str, list[LayerAttention]]:
        """The forward pass's per-layer attention, for the steps that need it."""
        if self.attention is None:
            raise RuntimeError("this classroom step needs the model's attention, which is missing")
        return self.attention


@dataclass(frozen=True)
class StepFigure:
    """A step's figure and the caption under it."""

    figure: go.Figure
    caption: str


def _table(rows: list[dict] | pd.DataFrame, limit: int = 15) -> None:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if len(df) > limit:
        st.caption(f"showing {limit} of {len(df)} rows")
        df = df.head(limit)
    st.table(df.reset_index(drop=True).style.hide(axis="index"))


def _tex_name(s: str) -> str:
    return r"\text{" + wt.tex_escape(s) + "}"


def _original_triple_index(kg: KnowledgeGraph) -> dict[tuple[int, int, int], int]:
    return {(h, r, t): k for k, (h, r, t) in enumerate(kg.triples.tolist())}


def _label_note(figure: go.Figure, edges: bool = True) -> str:
    """`` Some names left out …`` when the figure dropped labels that would overlap, else ``""``."""
    meta = figure.layout.meta
    hidden = meta["nodes"] - meta["node_labels"] + (meta["labelled_edges"] - meta["edge_labels"] if edges else 0)
    return f" {hidden} labels that would overlap are left out: hover a node or an edge." if hidden else ""


def _sum_terms(values: np.ndarray, shown: int = 4) -> str:
    """``0.21 + 0.18 + … `` (LaTeX) of the first ``shown`` values."""
    text = " + ".join(f"{a:.2f}" for a in values[:shown])
    return text + (r" + \dots" if len(values) > shown else "")


# ----------------------------------------------------------------------------- steps


def _step_task(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    task = wt.task_step(kg, sc.query)
    q = task.query
    c = st.columns(3)
    c[0].metric("Entities N", task.num_entities)
    c[1].metric("Relations R", task.num_relations)
    c[2].metric("Triples M", task.num_triples)
    head = escape_markdown(q.anchor) if q.direction == "tail" else "?"
    tail = "?" if q.direction == "tail" else escape_markdown(q.anchor)
    st.markdown(f"**Query:** ({head}, {escape_markdown(q.relation)}, {tail})")  # wraps in a narrow column
    if q.answer:
        st.markdown(f"Expected answer (not in the KG): **{escape_markdown(q.answer)}**")
    if task.known_answers:
        st.markdown(
            "Already known answers: " + ", ".join(f"**{escape_markdown(kg.entities[a])}**" for a in task.known_answers)
        )
    with st.expander("Choose the query", expanded=False):
        _query_widgets(sc)
    figure = kg_figure(kg, highlight_nodes=[task.anchor], query=(task.anchor, q.relation, None), font_size=sc.font_size)
    caption = "Dashed red: the query; arrow colours follow relations." + _label_note(figure)
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
    _table(list(wt.MODEL_TABLE))
    st.markdown("**What happens on a KG with new entities or new relations**")
    _table(list(wt.ENCODER_TABLE))
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
        escape_markdown(f"β({names[i]}, {names[j]})"), wt.lecture_round(ps.beta), help=f"exact value {ps.beta:.4f}"
    )
    st.latex(ps.latex(names))
    if ps.terms:
        _table(
            [
                {"shared entity": t.name, "triples d": t.degree, "term": f"(1/{t.degree})²", "value": f"{t.value:.4f}"}
                for t in ps.terms
            ]
        )
    else:
        st.markdown(
            f"No entity touches both **{escape_markdown(names[i])}** and "
            f"**{escape_markdown(names[j])}**: β = 0, no edge."
        )
    others = wt.pairs_of(kg, i)
    if others:
        st.markdown(f"**All pairs with {escape_markdown(names[i])}** (the slides' panels)")
        _table(
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
            rf"\text{{strongest pair: }}\beta({_tex_name(kg.relations[i])},\ "
            rf"{_tex_name(kg.relations[j])}) = {wt.lecture_round(w)}"
        )
    if kg.num_relations <= 12:
        st.markdown(
            "**β, the lecture's relation graph** (0/1 incidence, relation = its inverse; "
            "— on the diagonal: a relation is not linked to itself)"
        )
        st.table(lecture_beta_table(rg.beta, kg.relations))
    else:
        _table(
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
    caption = f"Nodes are relations; {labelled}; orange: the pair of step 3, the other edges grey." + _label_note(
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
    _table(
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


def _layer_widget(sc: StepContext, kind: str) -> int:
    n = len(sc.model_attention[kind])
    if n == 1:
        return 0
    return stored_select("Layer", list(range(n)), S.CLS_LAYER, 0, format_func=layer_name)


def _step_relattn(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    R = kg.num_relations
    labels = [relation_label(r, kg.relations) for r in range(2 * R)]
    c = st.columns(2)
    with c[0]:
        r = stored_select("Relation", list(range(2 * R)), S.CLS_FOCUS_REL, sc.pair[0], format_func=labels.__getitem__)
    with c[1]:
        layer = _layer_widget(sc, "relation")
    ra = wt.relation_attention_step(sc.model_predictor, sc.model_attention, r, layer)
    c = st.columns(2)
    c[0].metric(escape_markdown(f"Neighbours of {labels[r]}"), len(ra.neighbours))
    c[1].metric("Σ α (mean over heads)", f"{ra.alpha_sum:.3f}")
    if ra.neighbours:
        terms = _sum_terms(ra.alpha_mean)
        st.latex(rf"\sum_j \alpha_{{ij}} = {terms} = {ra.alpha_sum:.2f}")
        _table(
            [
                {
                    "neighbour j": labels[j],
                    "A[i, j]": f"{w:.3f}",
                    "bin": int(bn),
                    "bin bias c": f"{cb:+.2f}",
                    "α (mean of heads)": f"{a:.3f}",
                }
                for j, w, bn, cb, a in zip(ra.neighbours, ra.weights, ra.bins, ra.bin_bias, ra.alpha_mean)
            ]
        )
    st.caption(f"Model: {sc.model_label} · {ra.alpha.shape[1] if ra.neighbours else 0} heads")
    dense = sc.model_predictor.graph.affinity.toarray()
    pairs = [(min(r, j), max(r, j)) for j in ra.neighbours if j != r]
    amax = float(ra.alpha_mean.max()) if ra.neighbours else 1.0
    widths = {(min(r, j), max(r, j)): 1.0 + 8.0 * a / amax for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    text = {(min(r, j), max(r, j)): f"α={a:.2f}" for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    caption = f"Edges into {labels[r]}, width ∝ attention α ({layer_name(layer)}, mean of heads)."
    figure = relation_figure(
        labels, dense, highlight=[r], highlight_pairs=pairs, edge_width=widths, edge_text=text, font_size=sc.font_size
    )
    return StepFigure(figure, caption)


def _step_entattn(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    R = kg.num_relations
    anchor = kg.entity_index[sc.query.anchor]
    c = st.columns(2)
    with c[0]:
        v = stored_select(
            "Entity", list(range(kg.num_entities)), S.CLS_FOCUS_ENT, anchor, format_func=kg.entities.__getitem__
        )
    with c[1]:
        layer = _layer_widget(sc, "entity")
    ea = wt.entity_attention_step(sc.model_attention, v, layer)
    name = kg.entities[v]
    c = st.columns(2)
    c[0].metric(escape_markdown(f"Messages into {name} (incl. self-loop)"), ea.num_messages)
    c[1].metric("Σ α (mean over heads)", f"{ea.alpha_sum:.3f}")
    rows = []
    index = _original_triple_index(kg)
    widths: dict[int, float] = {}  # by triple index
    hover: dict[int, str] = {}
    amax = float(ea.alpha_mean.max()) if ea.num_messages else 1.0
    for u, r, a in zip(ea.senders, ea.relations, ea.alpha_mean):
        if r < 0:
            rows.append(
                {
                    "message from": f"{name} (self-loop)",
                    "relation": "mean of incoming z_r",
                    "α (mean of heads)": f"{a:.3f}",
                }
            )
            continue
        rows.append(
            {
                "message from": kg.entities[u],
                "relation": relation_label(r, kg.relations),
                "α (mean of heads)": f"{a:.3f}",
            }
        )
        k = index.get((u, r, v)) if r < R else index.get((v, r - R, u))
        if k is not None:
            widths[k] = max(widths.get(k, 0.0), 1.0 + 8.0 * a / amax)
            hover[k] = f"α = {a:.3f} ({relation_label(r, kg.relations)} → {name})"
    terms = _sum_terms(ea.alpha_mean)
    st.latex(rf"\sum_{{(u,r) \to v}} \alpha_{{urv}} = {terms} = {ea.alpha_sum:.2f}")
    _table(rows)
    st.caption(f"Model: {sc.model_label}")
    senders = [u for u, r in zip(ea.senders, ea.relations) if r >= 0]
    caption = f"Triples into {name} (inverses included), width ∝ attention α ({layer_name(layer)}, mean of heads)."
    figure = kg_figure(
        kg,
        highlight_nodes=[v] + senders,
        highlight_edges=list(widths),
        edge_width=widths,
        edge_hover=hover,
        font_size=sc.font_size,
    )
    return StepFigure(figure, caption)


def _step_score(sc: StepContext) -> StepFigure | None:
    kg = sc.kg
    q: SampleQuery = sc.query
    pred = sc.ensemble or sc.model_predictor
    rk = wt.ranking_step(pred, q)  # as the Predictions view ranks it by default
    c = st.columns(3)
    c[0].metric("Candidates", rk.num_candidates)
    c[1].metric(
        escape_markdown(f"Rank of {q.answer}") if q.answer else "Top answer",
        rk.answer_rank if q.answer and rk.answer_rank else rk.candidates[0].name,
    )
    c[2].metric("Top score f", f"{rk.candidates[0].score:.3f}")
    top = rk.candidates[0]
    head = _tex_name(q.anchor) if q.direction == "tail" else _tex_name(top.name)
    tail = _tex_name(top.name) if q.direction == "tail" else _tex_name(q.anchor)
    st.latex(rf"f({head},\ {_tex_name(q.relation)},\ {tail}) = {top.score:.3f}")
    with st.expander("Choose the query", expanded=False):
        _query_widgets(sc)
    rows = [
        {
            "rank": cand.rank,
            "entity": cand.name,
            "score f": f"{cand.score:.3f}",
            "": "expected" if cand.name == q.answer else ("already in KG" if cand.known else cand.note),
        }
        for cand in rk.candidates
    ]
    _table(rows, limit=10)
    seeds = pred.seeds
    st.caption(
        f"Model: {sc.model_label} · mean of {len(seeds)} draws of random initial features (seeds "
        f"{seeds[0]}–{seeds[-1]}), the query's own entity excluded and entities never on the asked side "
        "of the relation placed last: the Predictions view's defaults, so it shows the same ranks"
    )
    anchor = kg.entity_index[q.anchor]
    top3 = [cand.entity for cand in rk.candidates[:3]]
    caption = "Orange: the three best-scored tails; dashed red: the query, to the top answer."
    figure = kg_figure(
        kg,
        highlight_nodes=top3,
        query=(anchor, q.relation, top3[0]),
        node_hover={cand.entity: f"rank {cand.rank}: {cand.name}, f = {cand.score:.3f}" for cand in rk.candidates[:10]},
        font_size=sc.font_size,
    )
    return StepFigure(figure, caption)


RENDERERS: dict[str, Callable[[StepContext], StepFigure | None]] = {
    "task": _step_task,
    "encoders": _step_encoders,
    "pair": _step_pair,
    "relgraph": _step_relgraph,
    "bins": _step_bins,
    "relattn": _step_relattn,
    "entattn": _step_entattn,
    "score": _step_score,
}


def _query_widgets(sc: StepContext) -> None:
    kg = sc.kg
    q0: SampleQuery = sc.default_query
    c = st.columns(2)
    with c[0]:
        stored_select("Head (known entity)", list(kg.entities), S.CLS_ANCHOR, q0.anchor)
    with c[1]:
        stored_select("Relation", list(kg.relations), S.CLS_RELATION, q0.relation)


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
