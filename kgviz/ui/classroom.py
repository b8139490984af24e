"""Classroom walkthrough page: the lecture's eight steps, live on the current KG and model.

One step per screen, with prev/next buttons, the step number in the URL (``?step=3``) so a
teacher can link to it, and a presenter mode (large type). Each step shows its formula next to
the live numbers of the KG and the graph with the involved nodes highlighted. The numbers come
from :mod:`kgviz.walkthrough` (pure); the figures from :mod:`kgviz.ui.classroom_figures`.
All widget keys start with ``cls_``.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import torch

from .. import walkthrough as wt
from ..data import KnowledgeGraph
from ..inference import Predictor
from ..model import InGram
from ..relgraph import relation_label
from ..samples import SampleMeta, SampleQuery, meta_for_kg
from .classroom_figures import kg_figure, relation_figure

NUM_STEPS = len(wt.STEPS)
STEP_PARAM = "step"  # URL query parameter holding the 1-based step number
_PER_KG_KEYS = ("cls_anchor", "cls_relation", "cls_pair_i", "cls_pair_j", "cls_focus_rel",
                "cls_focus_ent", "cls_layer")

PRESENTER_CSS = """
<style>
[data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 2.5rem;}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {font-size: 1.45rem; line-height: 1.45;}
[data-testid="stHeadingWithActionElements"] h2 {font-size: 2.8rem;}
[data-testid="stCaptionContainer"] p {font-size: 1.1rem;}
[data-testid="stMetricValue"] p {font-size: 3.2rem; font-weight: 600; line-height: 1.2;}
[data-testid="stMetricLabel"] p {font-size: 1.25rem;}
[data-testid="stTable"] p, [data-testid="stTable"] td, [data-testid="stTable"] th {font-size: 1.25rem; line-height: 1.3;}
[data-testid="stWidgetLabel"] p {font-size: 1.15rem;}
.katex {font-size: 1.5em;}
</style>
"""


# ----------------------------------------------------------------------------- state

def _kg_signature(kg: KnowledgeGraph) -> str:
    h = hashlib.sha1(kg.triples.tobytes())
    h.update("\x00".join(kg.entities).encode())
    h.update("\x01".join(kg.relations).encode())
    return h.hexdigest()


def _model_signature(model: InGram, label: str) -> str:
    with torch.no_grad():
        total = sum(float(p.detach().double().sum()) for p in model.parameters())
    return f"{label}|{id(model)}|{total:.12e}"


def _parse_step(value) -> int:
    try:
        return min(max(int(str(value)), 1), NUM_STEPS)
    except (TypeError, ValueError):
        return 1


def _set_step(n: int) -> None:
    import streamlit as st

    st.session_state["cls_step"] = min(max(n, 1), NUM_STEPS)


def _stored_select(label: str, options: list, state_key: str, default, *, format_func=str,
                   help: str | None = None):
    """A selectbox whose value survives steps where it is not drawn (kept in ``state_key``)."""
    import streamlit as st

    widget_key = state_key + "_w"
    if st.session_state.get(state_key) not in options:
        st.session_state[state_key] = default
    if st.session_state.get(widget_key) not in options:
        st.session_state[widget_key] = st.session_state[state_key]

    def copy():
        st.session_state[state_key] = st.session_state[widget_key]

    st.selectbox(label, options, key=widget_key, format_func=format_func, on_change=copy, help=help)
    return st.session_state[state_key]


def _predictor(kg: KnowledgeGraph, model: InGram, model_label: str):
    """(Predictor, attention) of ``kg`` under ``model``, cached per KG and weights."""
    import streamlit as st

    @st.cache_resource(max_entries=4, show_spinner="Running InGram on the KG …")
    def build(kg_sig: str, model_sig: str, _kg: KnowledgeGraph, _model: InGram):
        device = next(_model.parameters()).device
        pred = Predictor(_model, _kg, seeds=[0], device=device)
        return pred, pred.attention()

    return build(_kg_signature(kg), _model_signature(model, model_label), kg, model)


# ----------------------------------------------------------------------------- helpers

def _show(st, fig) -> None:
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})


def _table(st, rows: list[dict] | pd.DataFrame, limit: int = 15) -> None:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if len(df) > limit:
        st.caption(f"showing {limit} of {len(df)} rows")
        df = df.head(limit)
    st.table(df.reset_index(drop=True).style.hide(axis="index"))


_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|$~")


def _md(s: str) -> str:
    """``s`` shown literally in Markdown (entity names may contain ``*``, ``$``, ``<`` …)."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def _tex_name(s: str) -> str:
    return r"\text{" + wt.tex_escape(s) + "}"


def _original_triple_index(kg: KnowledgeGraph) -> dict[tuple[int, int, int], int]:
    return {tuple(t): k for k, t in enumerate(kg.triples.tolist())}


def _sum_terms(values: np.ndarray, shown: int = 4) -> str:
    """``0.21 + 0.18 + … `` (LaTeX) of the first ``shown`` values."""
    text = " + ".join(f"{a:.2f}" for a in values[:shown])
    return text + (r" + \dots" if len(values) > shown else "")


def _font(presenter: bool) -> int:
    return 20 if presenter else 14


# ----------------------------------------------------------------------------- steps

def _step_task(st, kg, ctx) -> None:
    task = wt.task_step(kg, ctx["query"])
    q = task.query
    c = st.columns(3)
    c[0].metric("Entities N", task.num_entities)
    c[1].metric("Relations R", task.num_relations)
    c[2].metric("Triples M", task.num_triples)
    head = _tex_name(q.anchor) if q.direction == "tail" else "?"
    tail = "?" if q.direction == "tail" else _tex_name(q.anchor)
    st.latex(rf"\text{{query: }}({head},\ {_tex_name(q.relation)},\ {tail})")
    if q.answer:
        st.markdown(f"Expected answer (not in the KG): **{_md(q.answer)}**")
    if task.known_answers:
        st.markdown("Already known answers: " + ", ".join(f"**{_md(kg.entities[a])}**" for a in task.known_answers))
    with st.expander("Choose the query", expanded=False):
        _query_widgets(st, kg, ctx)
    ctx["caption"] = "Dashed red: the query; arrow colours follow relations."
    ctx["figure"] = kg_figure(kg, highlight_nodes=[task.anchor], query=(task.anchor, q.relation, None),
                              font_size=_font(ctx["presenter"]))


def _step_encoders(st, kg, ctx) -> None:
    enc = wt.encoder_step(kg, ctx["model"])
    c = st.columns(3)
    c[0].metric(f"Shallow encoder parameters (k={wt.SHALLOW_DIM})", f"{enc.shallow_params:,}",
                help="(N + R) · k: one trained vector per entity and per relation of this KG")
    c[1].metric("RGCN relation weights (one layer)", f"{enc.rgcn_relation_params:,}",
                help=f"R · D² with D = {enc.hidden_rel}: one matrix W_r per relation of this KG")
    c[2].metric("InGram parameters (any KG)", f"{enc.ingram_params:,}",
                help="Independent of N and R: nothing is tied to this KG's vocabulary")
    st.markdown("**The lecture's KG-embedding models** (all shallow: one trained vector per name)")
    _table(st, list(wt.MODEL_TABLE))
    st.markdown("**What happens on a KG with new entities or new relations**")
    _table(st, list(wt.ENCODER_TABLE))
    ctx["figure"] = None


def _pair_widgets(st, kg, ctx) -> tuple[int, int]:
    options = list(range(kg.num_relations))
    i0, j0 = ctx["pair"]
    c = st.columns(2)
    with c[0]:
        i = _stored_select("Relation i", options, "cls_pair_i", i0, format_func=kg.relations.__getitem__)
    with c[1]:
        j = _stored_select("Relation j", options, "cls_pair_j", j0, format_func=kg.relations.__getitem__)
    return i, j


def _step_pair(st, kg, ctx) -> None:
    i, j = _pair_widgets(st, kg, ctx)
    ps = wt.pair_step(kg, i, j)
    names = kg.relations
    st.metric(_md(f"β({names[i]}, {names[j]})"), wt.lecture_round(ps.beta),
              help=f"exact value {ps.beta:.4f}")
    st.latex(ps.latex(names))
    if ps.terms:
        _table(st, [{"shared entity": t.name, "triples d": t.degree, "term": f"(1/{t.degree})²",
                     "value": f"{t.value:.4f}"} for t in ps.terms])
    else:
        st.markdown(f"No entity touches both **{_md(names[i])}** and **{_md(names[j])}**: β = 0, no edge.")
    others = wt.pairs_of(kg, i)
    if others:
        st.markdown(f"**All pairs with {_md(names[i])}** (the slides' panels)")
        _table(st, [{"pair": f"β({names[i]}, {names[p.j]})", "sum": p.text(), "β": wt.lecture_round(p.beta)}
                    for p in others])
    shared = [t.entity for t in ps.terms]
    ctx["caption"] = (f"Orange: the entities shared by {names[i]} and {names[j]}; in colour: the triples "
                      "of the two relations. Hover a node for its term.")
    edges = [k for k, r in enumerate(kg.triples[:, 1].tolist()) if r in (i, j)]
    ctx["figure"] = kg_figure(kg, highlight_nodes=shared, highlight_edges=edges,
                              font_size=_font(ctx["presenter"]),
                              node_hover={t.entity: f"{t.name}: d = {t.degree}, adds (1/{t.degree})² = {t.value:.4f}"
                                          for t in ps.terms})


def _step_relgraph(st, kg, ctx) -> None:
    rg = wt.relation_graph_step(kg)
    c = st.columns(2)
    c[0].metric("Edges, lecture view (R × R)", rg.num_lecture_edges)
    c[1].metric("Edges the model uses (2R × 2R)", rg.num_edges,
                help="A[i, j] ≠ 0 over relations and their inverses, both directions and self-loops")
    strongest = rg.strongest(1)
    if strongest:
        i, j, w = strongest[0]
        st.latex(rf"\text{{strongest pair: }}\beta({_tex_name(kg.relations[i])},\ "
                 rf"{_tex_name(kg.relations[j])}) = {wt.lecture_round(w)}")
    if kg.num_relations <= 12:
        st.markdown("**β, the lecture's relation graph** (0/1 incidence, relation = its inverse)")
        df = pd.DataFrame(rg.beta, index=list(kg.relations), columns=list(kg.relations)).map(
            lambda x: wt.lecture_round(x) if x else "·")
        st.table(df)
    else:
        _table(st, [{"pair": f"{kg.relations[i]} — {kg.relations[j]}", "β": wt.lecture_round(w)}
                    for i, j, w in rg.strongest(15)])
    with st.expander("The exact matrix A the model uses (2R × 2R)"):
        if len(rg.labels) <= 16:
            dense = rg.affinity.toarray()
            st.table(pd.DataFrame(dense, index=list(rg.labels), columns=list(rg.labels)).map(
                lambda x: f"{x:.2f}" if x else "·"))
        else:
            st.markdown(f"{len(rg.labels)} relations with inverses, {rg.num_edges} non-zero entries.")
    pair = ctx["pair"]
    ctx["caption"] = "Nodes are relations; edge labels are β; orange: the pair of step 3."
    ctx["figure"] = relation_figure(list(kg.relations), rg.beta, highlight_pairs=[pair],
                                    font_size=_font(ctx["presenter"]))


def _bin_colors(num_bins: int) -> list[str]:
    from plotly.colors import sample_colorscale

    return sample_colorscale("Viridis", [b / max(num_bins - 1, 1) for b in range(num_bins)])


def _step_bins(st, kg, ctx) -> None:
    pred = ctx["predictor"]
    b = wt.binning_step(kg, ctx["model"].num_bin, pred.graph.affinity)
    c = st.columns(3)
    c[0].metric("Edges nnz", b.num_edges)
    c[1].metric("Bins B", b.num_bins)
    c[2].metric("Edges in bin 0 (strongest)", int(b.per_bin[0]))
    st.latex(rf"\mathrm{{nnz}} = {b.num_edges},\ B = {b.num_bins}\ \Rightarrow\ "
             rf"\left\lceil {b.num_edges} / {b.num_bins} \right\rceil = "
             rf"{-(-b.num_edges // b.num_bins)}\ \text{{edges per bin (at most)}}")
    _table(st, [{"bin": k, "edges": n, "smallest weight": f"{lo:.3f}" if n else "–",
                 "largest weight": f"{hi:.3f}" if n else "–"} for k, (n, lo, hi) in enumerate(b.bin_ranges())])
    labels = [relation_label(r, kg.relations) for r in range(2 * kg.num_relations)]
    dense = pred.graph.affinity.toarray()
    colors = _bin_colors(b.num_bins)
    edge_bin = {}
    for (i, j, k) in b.edges.tolist():
        if i < j:
            edge_bin[(i, j)] = k
    ctx["caption"] = ("The exact relation graph (relations and their inverses ⁻¹); edges coloured by "
                      "bin, dark = strong. Self-loops are binned too but not drawn.")
    ctx["figure"] = relation_figure(labels, dense, font_size=_font(ctx["presenter"]),
                                    edge_text={p: f"bin {k}" for p, k in edge_bin.items()},
                                    edge_color={p: colors[k] for p, k in edge_bin.items()})


def _layer_widget(st, ctx, kind: str) -> int:
    n = len(ctx["attention"][kind])
    if n == 1:
        return 0
    return _stored_select("Layer", list(range(n)), "cls_layer", 0, format_func=lambda l: f"layer {l + 1}")


def _step_relattn(st, kg, ctx) -> None:
    R = kg.num_relations
    labels = [relation_label(r, kg.relations) for r in range(2 * R)]
    c = st.columns(2)
    with c[0]:
        r = _stored_select("Relation", list(range(2 * R)), "cls_focus_rel", ctx["pair"][0],
                           format_func=labels.__getitem__)
    with c[1]:
        layer = _layer_widget(st, ctx, "relation")
    ra = wt.relation_attention_step(ctx["predictor"], ctx["attention"], r, layer)
    c = st.columns(2)
    c[0].metric(_md(f"Neighbours of {labels[r]}"), len(ra.neighbours))
    c[1].metric("Σ α (mean over heads)", f"{ra.alpha_sum:.3f}")
    if ra.neighbours:
        terms = _sum_terms(ra.alpha_mean)
        st.latex(rf"\sum_j \alpha_{{ij}} = {terms} = {ra.alpha_sum:.2f}")
        _table(st, [{"neighbour j": labels[j], "A[i, j]": f"{w:.3f}", "bin": int(bn),
                     "bin bias c": f"{cb:+.2f}", "α (mean of heads)": f"{a:.3f}"}
                    for j, w, bn, cb, a in zip(ra.neighbours, ra.weights, ra.bins, ra.bin_bias, ra.alpha_mean)])
    st.caption(f"Model: {ctx['model_label']} · {ra.alpha.shape[1] if ra.neighbours else 0} heads")
    dense = ctx["predictor"].graph.affinity.toarray()
    pairs = [tuple(sorted((r, j))) for j in ra.neighbours if j != r]
    amax = float(ra.alpha_mean.max()) if ra.neighbours else 1.0
    widths = {tuple(sorted((r, j))): 1.0 + 8.0 * a / amax for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    text = {tuple(sorted((r, j))): f"α={a:.2f}" for j, a in zip(ra.neighbours, ra.alpha_mean) if j != r}
    ctx["caption"] = f"Edges into {labels[r]}, width ∝ attention α (layer {layer + 1}, mean of heads)."
    ctx["figure"] = relation_figure(labels, dense, highlight=[r], highlight_pairs=pairs, edge_width=widths,
                                    edge_text=text, font_size=_font(ctx["presenter"]))


def _step_entattn(st, kg, ctx) -> None:
    R = kg.num_relations
    anchor = kg.entity_index[ctx["query"].anchor]
    c = st.columns(2)
    with c[0]:
        v = _stored_select("Entity", list(range(kg.num_entities)), "cls_focus_ent", anchor,
                           format_func=kg.entities.__getitem__)
    with c[1]:
        layer = _layer_widget(st, ctx, "entity")
    ea = wt.entity_attention_step(ctx["attention"], v, layer)
    name = kg.entities[v]
    c = st.columns(2)
    c[0].metric(_md(f"Messages into {name} (incl. self-loop)"), ea.num_messages)
    c[1].metric("Σ α (mean over heads)", f"{ea.alpha_sum:.3f}")
    rows = []
    index = _original_triple_index(kg)
    widths, hover = {}, {}
    amax = float(ea.alpha_mean.max()) if ea.num_messages else 1.0
    for u, r, a in zip(ea.senders, ea.relations, ea.alpha_mean):
        if r < 0:
            rows.append({"message from": f"{name} (self-loop)", "relation": "mean of incoming z_r",
                         "α (mean of heads)": f"{a:.3f}"})
            continue
        rows.append({"message from": kg.entities[u], "relation": relation_label(r, kg.relations),
                     "α (mean of heads)": f"{a:.3f}"})
        k = index.get((u, r, v)) if r < R else index.get((v, r - R, u))
        if k is not None:
            widths[k] = max(widths.get(k, 0.0), 1.0 + 8.0 * a / amax)
            hover[k] = f"α = {a:.3f} ({relation_label(r, kg.relations)} → {name})"
    terms = _sum_terms(ea.alpha_mean)
    st.latex(rf"\sum_{{(u,r) \to v}} \alpha_{{urv}} = {terms} = {ea.alpha_sum:.2f}")
    _table(st, rows)
    st.caption(f"Model: {ctx['model_label']}")
    senders = [u for u, r in zip(ea.senders, ea.relations) if r >= 0]
    ctx["caption"] = (f"Triples into {name} (inverses included), width ∝ attention α "
                      f"(layer {layer + 1}, mean of heads).")
    ctx["figure"] = kg_figure(kg, highlight_nodes=[v] + senders, highlight_edges=list(widths),
                              edge_width=widths, edge_hover=hover, font_size=_font(ctx["presenter"]))


def _step_score(st, kg, ctx) -> None:
    q: SampleQuery = ctx["query"]
    rk = wt.ranking_step(ctx["predictor"], q)
    c = st.columns(3)
    c[0].metric("Candidates", rk.num_candidates)
    c[1].metric(_md(f"Rank of {q.answer}") if q.answer else "Top answer",
                rk.answer_rank if q.answer and rk.answer_rank else rk.candidates[0].name)
    c[2].metric("Top score f", f"{rk.candidates[0].score:.3f}")
    top = rk.candidates[0]
    head = _tex_name(q.anchor) if q.direction == "tail" else _tex_name(top.name)
    tail = _tex_name(top.name) if q.direction == "tail" else _tex_name(q.anchor)
    st.latex(rf"f({head},\ {_tex_name(q.relation)},\ {tail}) = {top.score:.3f}")
    with st.expander("Choose the query", expanded=False):
        _query_widgets(st, kg, ctx)
    rows = [{"rank": cand.rank, "entity": cand.name, "score f": f"{cand.score:.3f}",
             "": "expected" if cand.name == q.answer else ("already in KG" if cand.known else "")}
            for cand in rk.candidates]
    _table(st, rows, limit=10)
    st.caption(f"Model: {ctx['model_label']} · one draw of random initial features (seed 0)")
    anchor = kg.entity_index[q.anchor]
    top3 = [cand.entity for cand in rk.candidates[:3]]
    ctx["caption"] = "Orange: the three best-scored tails; dashed red: the query, to the top answer."
    ctx["figure"] = kg_figure(kg, highlight_nodes=top3, query=(anchor, q.relation, top3[0]),
                              node_hover={cand.entity: f"rank {cand.rank}: {cand.name}, f = {cand.score:.3f}"
                                          for cand in rk.candidates[:10]},
                              font_size=_font(ctx["presenter"]))


_RENDERERS = {"task": _step_task, "encoders": _step_encoders, "pair": _step_pair,
              "relgraph": _step_relgraph, "bins": _step_bins, "relattn": _step_relattn,
              "entattn": _step_entattn, "score": _step_score}


def _query_widgets(st, kg: KnowledgeGraph, ctx) -> None:
    q0: SampleQuery = ctx["default_query"]
    c = st.columns(2)
    with c[0]:
        _stored_select("Head (known entity)", list(kg.entities), "cls_anchor", q0.anchor)
    with c[1]:
        _stored_select("Relation", list(kg.relations), "cls_relation", q0.relation)


def _current_query(st, kg: KnowledgeGraph, meta: SampleMeta | None) -> SampleQuery:
    q0 = wt.default_query(kg, meta)
    anchor = st.session_state.get("cls_anchor", q0.anchor)
    rel = st.session_state.get("cls_relation", q0.relation)
    if anchor not in kg.entity_index or rel not in kg.relation_index:
        return q0
    for q in (meta.queries if meta else ()):  # keep the sample's expected answer when it matches
        if q.anchor == anchor and q.relation == rel:
            return q
    return SampleQuery(anchor, rel, "tail", None)


# ----------------------------------------------------------------------------- page

def render_classroom(kg: KnowledgeGraph, model: InGram, *, model_label: str) -> None:
    """Draw the classroom walkthrough for ``kg`` with ``model`` (a Streamlit page body)."""
    import streamlit as st

    sig = _kg_signature(kg)
    if st.session_state.get("cls_kg_sig") != sig:
        for key in _PER_KG_KEYS:
            st.session_state.pop(key, None)
            st.session_state.pop(key + "_w", None)
        st.session_state["cls_kg_sig"] = sig
    if "cls_step" not in st.session_state:
        st.session_state["cls_step"] = _parse_step(st.query_params.get(STEP_PARAM))

    meta = meta_for_kg(kg)
    presenter = st.session_state.get("cls_presenter", False)
    if presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)

    nav = st.columns([1.1, 1.1, 3.5, 1.6])
    step = st.session_state["cls_step"]
    nav[0].button("◀ Previous", key="cls_prev", on_click=_set_step, args=(step - 1,),
                  disabled=step <= 1, width="stretch")
    nav[1].button("Next ▶", key="cls_next", on_click=_set_step, args=(step + 1,),
                  disabled=step >= NUM_STEPS, type="primary", width="stretch")
    nav[2].selectbox("Step", list(range(1, NUM_STEPS + 1)), key="cls_step", label_visibility="collapsed",
                     format_func=lambda n: f"Step {n} of {NUM_STEPS}: {wt.STEPS[n - 1].title}")
    nav[3].toggle("Presenter mode", key="cls_presenter")
    step = st.session_state["cls_step"]
    if st.query_params.get(STEP_PARAM) != str(step):
        st.query_params[STEP_PARAM] = str(step)

    info = wt.STEPS[step - 1]
    st.markdown(f"## {step}. {info.title}")
    title = meta.title if meta else str(kg.source)
    st.caption(f"KG: {title} · {kg.num_entities} entities, {kg.num_relations} relations, "
               f"{kg.num_triples} triples · model: {model_label}")

    try:
        pred, attention = _predictor(kg, model, model_label)
    except Exception as exc:  # a KG the model cannot run on: show the structural steps anyway
        pred, attention = None, None
        if info.key in ("relattn", "entattn", "score", "bins"):
            st.error(f"The model could not run on this KG: {exc}")
            return
    ctx = {"model": model, "model_label": model_label, "predictor": pred, "attention": attention,
           "presenter": presenter, "default_query": wt.default_query(kg, meta),
           "query": _current_query(st, kg, meta), "pair": wt.default_pair(kg, meta), "figure": None}
    if "cls_pair_i" in st.session_state and "cls_pair_j" in st.session_state:
        ctx["pair"] = (st.session_state["cls_pair_i"], st.session_state["cls_pair_j"])

    st.latex(info.formula)
    left, right = st.columns([1, 1.15], gap="large")
    with left:
        _RENDERERS[info.key](st, kg, ctx)
    with right:
        st.markdown(info.text)
        if ctx["figure"] is not None:
            _show(st, ctx["figure"])
            st.caption(ctx.get("caption") or "")
