"""One render function per view of the explorer. Each reads a :class:`ViewContext` and draws.

Widgets are reached by ``key`` (tests use the same keys). Selections shared between views —
the relation ``rel``, the entity ``ent``, the relation pair ``pair`` and the prediction query —
live in ``st.session_state`` and are bound to URL query parameters, so a view highlights what
another selected and a copied URL reproduces the page.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from ..data import KGFormatError, KnowledgeGraph, from_triples, parse_quick_add, read_kg
from ..inference import STORED_DRAW, Predictor, UnknownNameError
from ..model import InGram, InGramConfig
from ..relgraph import explain_lecture_pair, explain_pair, relation_label
from . import figures as F
from .cache import (get_aligned_predictor, get_attention, get_predictor, ranking,
                    relation_matrices)
from .canvas import MAX_CANVAS_TRIPLES, flow_to_triples, kg_to_flow
from .state import MAX_UPLOAD_BYTES, MAX_UPLOAD_TRIPLES, kg_key, set_kg, used_vocabulary
from .whatif import edited_kg

MAX_DRAW_NODES = 120  # KG drawings above this show the neighbourhood of the selection
MAX_PAIR_OPTIONS = 500
RG_MODES = {"exact": "InGram's graph (2R, with inverses)",
            "merged": "InGram's graph, inverses merged (R)",
            "lecture": "lecture's simplified β (R, 0/1)"}


@dataclass
class ViewContext:
    """What every view needs: the KG, the model and the shared selection."""

    kg: KnowledgeGraph
    kg_key: str
    kg_label: str
    model: InGram
    model_key: str
    model_label: str
    config: InGramConfig
    device: str
    rel: int | None  # selected relation, augmented id in [0, 2R)
    ent: int | None  # selected entity id
    stored: tuple | None = None  # the checkpoint's stored draw for this KG (kgviz.draws.stored_draw_for)
    stored_info: dict | None = None  # its seed, pool and valid figures

    def predictor(self, seeds: Sequence[int]) -> Predictor:
        stored = self.stored if STORED_DRAW in seeds else None
        return get_predictor(self.model_key, self.device, self.kg_key, tuple(seeds), self.model, self.kg, stored)

    @property
    def relation_labels(self) -> list[str]:
        return relation_labels(self.kg)


def relation_labels(kg: KnowledgeGraph) -> list[str]:
    """Names of the ``2R`` augmented relations: ``r`` then ``r⁻¹``."""
    return [relation_label(r, kg.relations) for r in range(2 * kg.num_relations)]


# ---------------------------------------------------------------- helpers


def ensure_option(key: str, options: Sequence, default=None) -> int | None:
    """Forget ``st.session_state[key]`` when it is no longer one of ``options`` (the KG changed),
    so the widget falls back to its default; returns the index of ``default`` in ``options``."""
    value = st.session_state.get(key)
    if value is not None and value not in options:
        del st.session_state[key]
    return None if default is None else list(options).index(default)


def show_html(html: str, height: int, *, file_name: str, key: str) -> None:
    """A generated HTML page in an iframe, with a download button for it."""
    if hasattr(st, "iframe"):  # Streamlit >= 1.50
        st.iframe(html, height=height + 30)
    else:
        import streamlit.components.v1 as components
        components.html(html, height=height + 30)
    st.download_button("Export figure (HTML)", html, file_name=file_name, mime="text/html",
                       key=key, on_click="ignore")


def export_plotly(fig, *, file_name: str, key: str) -> None:
    st.download_button("Export figure (HTML)", lambda: fig.to_html(include_plotlyjs=True),
                       file_name=file_name, mime="text/html", key=key, on_click="ignore")


def _set_pair_from_table(frame: pd.DataFrame, table_key: str) -> Callable[[], None]:
    def callback() -> None:
        rows = st.session_state[table_key].selection.rows
        if rows:
            r = frame.iloc[rows[0]]
            st.session_state["pair"] = f"{r['relation i']} — {r['relation j']}"
            _pair_to_relation()
    return callback


def _set_pair_from_heatmap(options: dict) -> Callable[[], None]:
    def callback() -> None:
        points = st.session_state["affinity_heatmap"].selection.points
        if points:
            p = points[0]
            for name in (f"{p['y']} — {p['x']}", f"{p['x']} — {p['y']}"):
                if name in options:
                    st.session_state["pair"] = name
                    _pair_to_relation()
                    return
    return callback


def _pair_to_relation() -> None:
    """Selecting a pair also selects its first relation, so other views follow."""
    pair = st.session_state.get("pair")
    if pair and " — " in pair:
        first = pair.split(" — ")[0]
        if first in st.session_state.get("_rel_options", ()):
            st.session_state["rel"] = first


# ---------------------------------------------------------------- data: load, draw, edit


def render_data(ctx: ViewContext) -> None:
    """Upload, quick add, the triples table, the drawing canvas and the TSV download."""
    kg = ctx.kg
    st.caption("**What am I looking at?** The knowledge graph every other view uses: a list of "
               "(head, relation, tail) triples. Edit it here — in the table, on the canvas, or by "
               "typing triples — and all views update.")
    c1, c2, c3 = st.columns(3)
    c1.metric("entities", kg.num_entities)
    c2.metric("relations", kg.num_relations)
    c3.metric("triples", kg.num_triples)
    st.download_button("Download KG (TSV)", kg.to_tsv(), file_name="kg.tsv",
                       mime="text/tab-separated-values", key="download_kg", on_click="ignore")

    with st.expander("Upload a TSV / CSV file", expanded=False):
        _upload(ctx)
    with st.expander("Quick add", expanded=True):
        _quick_add(ctx)
    st.subheader("Triples table")
    _table_editor(ctx)
    st.subheader("Canvas")
    _canvas(ctx)


def _upload(ctx: ViewContext) -> None:
    st.caption(f"`head<TAB>relation<TAB>tail` lines (or CSV with a `head,relation,tail` header); "
               f"`#` lines are comments. Up to {MAX_UPLOAD_BYTES // 2**20} MB and "
               f"{MAX_UPLOAD_TRIPLES:,} triples.")
    up = st.file_uploader("KG file", type=["tsv", "csv", "txt"], key="upload")
    if up is None or st.session_state.get("_upload_done") == up.file_id:
        return
    data = up.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(f"{up.name}: {len(data) / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB limit.")
        return
    try:
        kg = read_kg(data, name=up.name, max_triples=MAX_UPLOAD_TRIPLES)
    except KGFormatError as exc:
        st.error(f"Could not read {exc.source}" + (f", line {exc.line}" if exc.line else "")
                 + f": {exc.reason}")
        return
    st.session_state["_upload_done"] = up.file_id
    set_kg(st.session_state, kg, f"upload: {up.name}")
    st.rerun()


def _apply(ctx: ViewContext, triples: list[tuple[str, str, str]], how: str) -> None:
    """Replace the KG by ``triples`` (keeping ids of surviving names) and rerun."""
    ents, rels = used_vocabulary(ctx.kg, triples)
    kg = from_triples(triples, source=ctx.kg.source, entities=ents, relations=rels)
    label = ctx.kg_label if ctx.kg_label.endswith("(edited)") else f"{ctx.kg_label} (edited)"
    set_kg(st.session_state, kg, label)
    st.session_state["messages"].append(f"{how}: the KG now has {kg.num_triples} triples.")
    st.rerun()


def _quick_add(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("One `head, relation, tail` per line (comma or tab separated).")
    text = st.text_area("Triples to add", key="quick_add_text", height=90,
                        placeholder="Emma Stone, born in, USA")
    if st.button("Add these triples", key="quick_add_button"):
        try:
            new = parse_quick_add(text)
        except KGFormatError as exc:
            st.error(str(exc))
            return
        if not new:
            st.warning("Nothing to add.")
            return
        _apply(ctx, list(kg.string_triples()) + new, f"Added {len(new)} triple(s)")
    st.caption("Or pick names from the KG (type a new one to create it):")
    c1, c2, c3, c4 = st.columns([3, 3, 3, 1])
    h = c1.selectbox("head", kg.entities, index=None, accept_new_options=True, key="add_head")
    r = c2.selectbox("relation", kg.relations, index=None, accept_new_options=True, key="add_rel")
    t = c3.selectbox("tail", kg.entities, index=None, accept_new_options=True, key="add_tail")
    if c4.button("Add", key="add_one"):
        if not (h and r and t):
            st.error("Pick a head, a relation and a tail.")
        else:
            _apply(ctx, list(kg.string_triples()) + [(h, r, t)], "Added 1 triple")


def _table_editor(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("Edit cells, add rows at the bottom, delete rows with the row menu, then apply. "
               "Names in use: " + ", ".join(f"`{n}`" for n in kg.relations[:12])
               + (" …" if kg.num_relations > 12 else "") + " (relations).")
    frame = pd.DataFrame(kg.string_triples(), columns=["head", "relation", "tail"])
    col = st.column_config.TextColumn
    edited = st.data_editor(
        frame, num_rows="dynamic", hide_index=True, key=f"editor_{st.session_state['kg_version']}",
        column_config={"head": col("head", help="entity name"),
                       "relation": col("relation", help="relation name"),
                       "tail": col("tail", help="entity name")},
        height=min(400, 36 * (len(frame) + 2)))
    if st.button("Apply table edits", key="apply_table"):
        rows = edited.fillna("").astype(str).values.tolist()
        rows = [r for r in rows if any(x.strip() for x in r)]
        try:
            for k, r in enumerate(rows):
                if not all(x.strip() for x in r):
                    raise KGFormatError("a row needs a head, a relation and a tail", source="table", line=k + 1)
            if not rows:
                raise KGFormatError("the table is empty; a KG needs at least one triple", source="table")
        except KGFormatError as exc:
            st.error(str(exc))
            return
        _apply(ctx, [tuple(x.strip() for x in r) for r in rows], "Applied table edits")


def _canvas(ctx: ViewContext) -> None:
    from streamlit_flow import streamlit_flow

    kg = ctx.kg
    if kg.num_triples > MAX_CANVAS_TRIPLES:
        st.info(f"The canvas is for small KGs (up to {MAX_CANVAS_TRIPLES} triples); this one has "
                f"{kg.num_triples:,}. Use the table or quick add to edit it.")
        return
    st.caption("Drag nodes; connect two nodes to draw a triple (labelled with the relation chosen "
               "below); right-click the canvas to add an entity, a node or an edge to delete it.")
    new_rel = st.selectbox("Relation for new edges", kg.relations, index=0, accept_new_options=True,
                           key="canvas_relation")
    version = st.session_state["kg_version"]
    if st.session_state.get("flow_version") != version:
        st.session_state["flow_state"] = kg_to_flow(kg)
        st.session_state["flow_version"] = version
    shown = st.session_state["flow_state"]
    state = streamlit_flow("kg_canvas", shown, height=480, fit_view=True,
                           allow_new_edges=True, enable_pane_menu=True, enable_node_menu=True,
                           enable_edge_menu=True, show_controls=True, hide_watermark=True)
    # The component keeps returning its last value; only a new timestamp is a new drawing
    # (otherwise an old drawing would overwrite edits made elsewhere since).
    if state is shown or state.timestamp == st.session_state.get("flow_seen_ts"):
        return
    st.session_state["flow_seen_ts"] = state.timestamp
    for e in state.edges:
        if not e.label:  # show the relation a new edge stands for
            e.label = new_rel or "related to"
            e.marker_end = {"type": "arrowclosed"}
    state.timestamp = int(time.time() * 1000)
    st.session_state["flow_state"] = state
    triples = flow_to_triples(state, new_rel or "related to")
    if triples and set(triples) != set(kg.string_triples()):
        ents, rels = used_vocabulary(kg, triples)
        new = from_triples(triples, source=kg.source, entities=ents, relations=rels)
        label = ctx.kg_label if ctx.kg_label.endswith("(edited)") else f"{ctx.kg_label} (edited)"
        set_kg(st.session_state, new, label)
        st.session_state["flow_version"] = st.session_state["kg_version"]  # keep the drawing as is
        st.rerun()


# ---------------------------------------------------------------- KG view


def render_kg(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** The knowledge graph: entities are nodes, each triple "
               "(head, relation, tail) an arrow coloured by its relation. Hover an arrow to see "
               "its triple. The relation and entity selected in the sidebar are highlighted.")
    rel = ctx.rel % kg.num_relations if ctx.rel is not None else None
    ids = None
    if kg.num_entities > MAX_DRAW_NODES:
        limit = st.slider("Entities to draw", 20, 400, MAX_DRAW_NODES, step=10, key="kg_max_nodes")
        centre = F.default_centre(kg, ctx.ent, rel)
        ids = F.neighbourhood(kg, centre, limit)
        shown = len(set(kg.triples[ids][:, [0, 2]].ravel().tolist())) if len(ids) else 0
        st.info(f"Large KG ({kg.num_entities:,} entities, {kg.num_triples:,} triples): drawing the "
                f"neighbourhood of **{kg.entities[centre[0]]}** — {shown} entities, {len(ids)} triples. "
                "Select another entity or relation in the sidebar to move it.")
    html = F.kg_network_html(kg, ids, entity=ctx.ent, relation=rel, height=560)
    show_html(html, 560, file_name="kg.html", key="export_kg")
    c1, c2 = st.columns([1, 2])
    with c1:
        st.markdown("**Relations**")
        legend = F.relation_legend(kg)
        st.dataframe(legend.style.apply(
            lambda s: [f"background-color: {c}; color: {c}" for c in s], subset=["colour"]),
            hide_index=True, key="kg_legend")
    with c2:
        if ctx.ent is not None:
            t = kg.triples
            sel = (t[:, 0] == ctx.ent) | (t[:, 2] == ctx.ent)
            st.markdown(f"**Triples of the selected entity** ({int(sel.sum())})")
            st.dataframe(pd.DataFrame([kg.string_triples()[k] for k in np.nonzero(sel)[0][:500]],
                                      columns=["head", "relation", "tail"]),
                         hide_index=True, key="kg_entity_triples")


# ---------------------------------------------------------------- relation graph


def _pair_options(matrix, labels: Sequence[str]) -> dict[str, tuple[int, int]]:
    from ..relgraph import strongest_pairs
    pairs = strongest_pairs(matrix, MAX_PAIR_OPTIONS, include_diagonal=True)
    return {f"{labels[i]} — {labels[j]}": (int(i), int(j)) for i, j in pairs}


def render_relation_graph(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** InGram links two relations when they share entities: "
               "each entity adds (its count in relation i)·(its count in j)/degree², once as a head "
               "and once as a tail. These affinities, binned into strength levels, are the edges the "
               "relation-level attention runs on. Select a pair to see the sum term by term.")
    mode = st.radio("Relation graph", list(RG_MODES), format_func=RG_MODES.get, horizontal=True,
                    key="rg_mode")
    matrix = relation_matrices(ctx.kg_key, kg)[mode]
    R = kg.num_relations
    labels = F.matrix_labels(kg.relations, matrix.shape[0])
    bins = ctx.config.num_bin
    selected = None if ctx.rel is None else (ctx.rel if mode == "exact" else ctx.rel % R)

    options = _pair_options(matrix, labels)
    ensure_option("pair", list(options))
    pair_name = st.selectbox("Relation pair", list(options), index=None, key="pair",
                             bind="query-params", on_change=_pair_to_relation,
                             placeholder="choose a pair (or click a row / heatmap cell)")
    pair = options.get(pair_name) if pair_name else None

    c1, c2 = st.columns([3, 2])
    with c1:
        html, drawn = F.relation_network_html(matrix, labels, bins, num_relations=R,
                                              selected=selected, pair=pair, height=480)
        show_html(html, 480, file_name=f"relation_graph_{mode}.html", key="export_rg")
        nnz = int((matrix != 0).sum())
        st.caption(f"Edge width ∝ weight, colour = bin ({bins} bins, dark red = bin 0, strongest). "
                   f"{drawn} of {(nnz - int((matrix.diagonal() != 0).sum())) // 2} pairs drawn; "
                   "self-affinities are in the node tooltips.")
    with c2:
        st.markdown("**Strongest pairs** (click a row)")
        table = F.strongest_pairs_frame(matrix, labels, bins, top=25)
        st.dataframe(table.drop(columns=["i", "j"]), hide_index=True, key="pairs_table",
                     on_select=_set_pair_from_table(table, "pairs_table"), selection_mode="single-row",
                     column_config={"weight": st.column_config.NumberColumn(format="%.4f")})

    if pair is not None:
        _beta_breakdown(ctx, mode, matrix, labels, pair)

    fig = F.affinity_heatmap(matrix, labels, pair=pair, title="Affinity matrix (click a cell)")
    st.plotly_chart(fig, key="affinity_heatmap", on_select=_set_pair_from_heatmap(options),
                    selection_mode="points")
    st.caption("Colours end at the largest pair weight; the diagonal (self-affinity) may exceed it. "
               "Hover a cell for its weight.")
    export_plotly(fig, file_name=f"affinity_{mode}.html", key="export_heatmap")


def _beta_breakdown(ctx: ViewContext, mode: str, matrix, labels, pair: tuple[int, int]) -> None:
    kg = ctx.kg
    R = kg.num_relations
    i, j = pair
    pair_labels = None
    if mode == "exact":
        contribs = explain_pair(kg.triples, kg.num_entities, R, i, j)
    elif mode == "lecture":
        contribs = explain_lecture_pair(kg.triples, kg.num_entities, R, i, j)
    else:
        contribs, pair_labels = [], []
        for a in (i, i + R):
            for b in (j, j + R):
                part = explain_pair(kg.triples, kg.num_entities, R, a, b)
                contribs += part
                pair_labels += [f"{relation_label(a, kg.relations)} — {relation_label(b, kg.relations)}"] * len(part)
    frame, formula = F.beta_breakdown(contribs, kg.entities, pair_labels)
    weight = float(matrix[i, j])
    st.markdown(f"#### β breakdown: {labels[i]} — {labels[j]}")
    c1, c2 = st.columns([1, 3])
    c1.metric("weight", f"{weight:.4f}")
    c2.markdown("β = " + formula.replace("*", r"\*"))
    st.dataframe(frame, hide_index=True, key="beta_table",
                 column_config={"contribution": st.column_config.NumberColumn(format="%.4f")})
    total = float(frame["contribution"].sum()) if len(frame) else 0.0
    st.caption(f"Contributions sum to {total:.4f} = the weight. "
               + ("Role: head = the entity is head of both relations, tail = tail of both "
                  "(inverses swap the roles)." if mode != "lecture" else
                  "Lecture view: each shared entity adds (1/degree)², whatever its role."))


# ---------------------------------------------------------------- attention


def _seed_widget(key: str) -> int:
    return int(st.number_input("Random draw (seed)", 0, 10_000, 0, key=key,
                               help="InGram starts from random features; the seed picks the draw."))


def render_attention(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** How much each node listens to each neighbour. Relation "
               "layers: relation i (row) attends over the relations j it is linked to in the "
               "relation graph; the score adds a learned bias per bin. Entity layers: an entity "
               "attends over the triples pointing into it (and itself). Each head has its own α; "
               "α over one receiver's neighbours sums to 1.")
    c1, c2, c3 = st.columns(3)
    seed = _seed_widget("att_seed")
    predictor = ctx.predictor((seed,))
    att = get_attention(ctx.model_key, ctx.device, ctx.kg_key, (seed,), seed, predictor)
    H = ctx.config.num_head
    heads = ["mean"] + [str(h) for h in range(H)]
    layer = c1.selectbox("Relation layer", list(range(len(att["relation"]))), key="att_rel_layer")
    head = c2.selectbox("Head", heads, key="att_head")
    head_id = None if head == "mean" else int(head)
    labels = ctx.relation_labels
    st.markdown("#### Relation-level attention")
    fig = F.relation_attention_heatmap(att["relation"][layer], labels, head_id, selected=ctx.rel,
                                       title=f"layer {layer}, head {head}")
    st.plotly_chart(fig, key="att_rel_heatmap")
    export_plotly(fig, file_name="relation_attention.html", key="export_att_rel")
    if ctx.rel is not None:
        s = F.attention_of_relation(att["relation"][layer], ctx.rel, labels)
        st.markdown(f"Selected relation **{labels[ctx.rel]}** attends to (mean over heads):")
        st.dataframe(s.rename_axis("sender").reset_index(), hide_index=True, key="att_rel_table",
                     column_config={"α": st.column_config.NumberColumn(format="%.3f")})

    st.markdown("#### Entity-level attention")
    ent = ctx.ent if ctx.ent is not None else F.default_centre(kg, None, None)[0]
    e_layer = c3.selectbox("Entity layer", list(range(len(att["entity"]))), key="att_ent_layer")
    frame = F.entity_attention_frame(att["entity"][e_layer], ent, kg)
    st.markdown(f"Messages into **{kg.entities[ent]}** (entity layer {e_layer}; pick another entity "
                f"in the sidebar). {len(frame)} incoming, including the self-loop.")
    show = frame.drop(columns=["sender id", "relation id"])
    st.dataframe(show, hide_index=True, key="att_ent_table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in show.columns if c.startswith("head") or c == "mean α"})
    bar = F.entity_attention_bar(frame)
    st.plotly_chart(bar, key="att_ent_bar")
    col = "mean α" if head_id is None else f"head {head_id}"
    html = F.entity_attention_html(frame, ent, kg, column=col)
    st.caption(f"Neighbourhood of {kg.entities[ent]}: edge width ∝ α ({col}); up to 30 largest.")
    show_html(html, 460, file_name="entity_attention.html", key="export_att_ent")


# ---------------------------------------------------------------- predictions


def query_widgets(ctx: ViewContext, prefix: str = "q") -> tuple[str, str, str]:
    """Direction, anchor entity and relation of a query; defaults follow the sidebar selection."""
    kg = ctx.kg
    dirs = ["tail (head, relation, ?)", "head (?, relation, tail)"]
    direction = st.radio("Predict", dirs, horizontal=True, key=f"{prefix}_dir",
                         bind="query-params").split()[0]
    default_ent = kg.entities[ctx.ent] if ctx.ent is not None else kg.entities[int(kg.triples[0, 0])]
    default_rel = (kg.relations[ctx.rel % kg.num_relations] if ctx.rel is not None
                   else kg.relations[int(kg.triples[0, 1])])
    i_ent = ensure_option(f"{prefix}_anchor", kg.entities, default_ent)
    i_rel = ensure_option(f"{prefix}_rel", kg.relations, default_rel)
    c1, c2 = st.columns(2)
    anchor = c1.selectbox("head" if direction == "tail" else "tail", kg.entities, index=i_ent,
                          key=f"{prefix}_anchor", bind="query-params")
    relation = c2.selectbox("relation", kg.relations, index=i_rel, key=f"{prefix}_rel",
                            bind="query-params")
    return direction, anchor, relation


def render_predictions(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** InGram's score f(h, r, t) = Σ h ⊙ W r ⊙ t for every "
               "candidate entity, highest first. Entity and relation vectors come from a forward "
               "pass over this KG that starts from random features, so the ranking depends on the "
               "draw: average over an ensemble of draws and see how much each rank moves.")
    direction, anchor, relation = query_widgets(ctx)
    use_stored = False
    if ctx.stored is not None:
        info = ctx.stored_info or {}
        pool = info.get("pool") or []
        use_stored = st.checkbox(
            f"use the draw stored in the checkpoint (seed {info.get('seed', '?')})", value=False, key="q_stored",
            help=f"This checkpoint keeps, for this graph, the draw with the best validation MRR among "
                 f"{len(pool)} draws ({info.get('valid', {}).get('MRR', float('nan')):.3f} on valid), as the "
                 "authors' train.py saves it and their test.py uses it: the paper's figures are those of such "
                 "a chosen draw. Unticked: random draws.")
    c1, c2, c3, c4 = st.columns(4)
    top_k = int(c1.number_input("top k", 1, 200, 10, key="q_topk"))
    seed = int(c2.number_input("first seed", 0, 10_000, 0, key="q_seed", disabled=use_stored))
    k = int(c3.number_input("ensemble size K", 1, 16, 1, key="q_ensemble", disabled=use_stored,
                            help="Average scores over K random draws: seeds first seed … first seed + K − 1."))
    filter_known = c4.checkbox("filter known facts", value=False, key="q_filter")
    seeds = (STORED_DRAW,) if use_stored else tuple(range(seed, seed + k))
    k = len(seeds)
    predictor = ctx.predictor(seeds)
    frame = ranking(ctx.model_key, ctx.device, ctx.kg_key, seeds, direction, anchor, relation,
                    top_k, filter_known, predictor)
    query = f"({anchor}, {relation}, ?)" if direction == "tail" else f"(?, {relation}, {anchor})"
    st.markdown(f"#### {query}")
    if frame.empty:
        st.warning("No candidates left (every entity is a known answer).")
        return
    m1, m2 = st.columns(2)
    m1.metric("top-1", frame["entity"].iloc[0])
    ensure_option("q_expected", kg.entities)
    expected = m2.selectbox("expected answer", kg.entities, index=None, key="q_expected",
                            bind="query-params", placeholder="rank of an answer you expect…")
    if expected:
        try:
            r_f = predictor.rank_of(anchor, relation, expected, direction, filtered=True)
            r_raw = predictor.rank_of(anchor, relation, expected, direction, filtered=False)
        except UnknownNameError as exc:
            st.error(str(exc))
        else:
            m2.markdown(f"**{expected}**: rank **{r_f}** filtered (other known answers removed), "
                        f"{r_raw} raw, of {kg.num_entities}.")
    st.dataframe(frame, hide_index=True, key="ranking_table",
                 column_config={"score": st.column_config.NumberColumn(format="%.4f"),
                                "score std": st.column_config.NumberColumn(format="%.4f"),
                                "known": st.column_config.CheckboxColumn(help="already a triple of the KG")})
    st.download_button("Export ranking (CSV)", frame.to_csv(index=False), file_name="ranking.csv",
                       mime="text/csv", key="export_ranking", on_click="ignore")
    fig = F.ranking_bar(frame, title=("scores of the stored draw" if use_stored else f"scores, mean over {k} draw(s)")
                        + "; grey = known fact")
    st.plotly_chart(fig, key="ranking_bar")
    export_plotly(fig, file_name="ranking.html", key="export_ranking_fig")
    if k > 1:
        st.markdown("**Rank spread over the draws** (best and worst rank of each candidate)")
        st.plotly_chart(F.rank_spread_figure(frame), key="rank_spread")


# ---------------------------------------------------------------- what-if


def render_whatif(ctx: ViewContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** Edit one fact and compare: the relation graph, the "
               "attention of a relation and the ranking of a query, before and after. The same "
               "random draw is used on both sides (entities and relations keep their features; "
               "only new names get new ones), so differences come from the edit alone.")
    op = st.radio("Edit", ["add a triple", "remove a triple"], horizontal=True, key="wi_op",
                  bind="query-params").split()[0]
    if op == "add":
        c1, c2, c3 = st.columns(3)
        h = c1.selectbox("head", kg.entities, index=None, accept_new_options=True, key="wi_head",
                         bind="query-params")
        r = c2.selectbox("relation (type a new one to add a relation)", kg.relations, index=None,
                         accept_new_options=True, key="wi_rel",
                         bind="query-params")
        t = c3.selectbox("tail", kg.entities, index=None, accept_new_options=True, key="wi_tail",
                         bind="query-params")
        triple = (h, r, t) if h and r and t else None
    else:
        options = [f"{h} | {r} | {t}" for h, r, t in kg.string_triples()[:5000]]
        ensure_option("wi_remove", options)
        pick = st.selectbox("triple to remove", options, index=None, key="wi_remove", bind="query-params")
        triple = tuple(pick.split(" | ")) if pick else None
    seed = _seed_widget("wi_seed")
    if triple is None:
        st.info("Choose a triple to see its effect.")
        return
    try:
        after = edited_kg(kg, op, triple)
    except KGFormatError as exc:
        st.error(str(exc))
        return
    if after.num_triples == kg.num_triples:
        st.warning("That triple is already in the KG." if op == "add" else "That triple is not in the KG.")
        return
    after_key = kg_key(after)
    seeds = (seed,)
    before_p = ctx.predictor(seeds)
    after_p = get_aligned_predictor(ctx.model_key, ctx.device, after_key, ctx.kg_key, seeds,
                                    ctx.model, after, kg)
    h, r, t = triple
    sign = "+" if op == "add" else "−"
    st.markdown(f"#### {sign} ({h}, {r}, {t})")

    st.markdown("**Relation graph** (InGram's exact affinities)")
    a_before = relation_matrices(ctx.kg_key, kg)["exact"]
    a_after = after_p.graph.affinity
    labels_b = ctx.relation_labels
    labels_a = [relation_label(x, after.relations) for x in range(2 * after.num_relations)]
    changes = F.affinity_changes(F.pair_weights(a_before, labels_b), F.pair_weights(a_after, labels_a))
    c1, c2, c3 = st.columns(3)
    c1.metric("relation-graph edges before", int(a_before.nnz))
    c2.metric("after", int(a_after.nnz), delta=int(a_after.nnz - a_before.nnz))
    c3.metric("pairs changed", len(changes))
    st.dataframe(changes, hide_index=True, key="wi_changes",
                 column_config={c: st.column_config.NumberColumn(format="%.4f")
                                for c in ("before", "after", "change")})
    if len(labels_a) <= 40:
        l, rr = st.columns(2)
        l.plotly_chart(F.affinity_heatmap(a_before, labels_b, title="before"), key="wi_hm_before")
        rr.plotly_chart(F.affinity_heatmap(a_after, labels_a, title="after"), key="wi_hm_after")

    st.markdown(f"**Attention of relation {r}** (last relation layer, mean over heads)")
    att_b = get_attention(ctx.model_key, ctx.device, ctx.kg_key, seeds, seed, before_p)
    att_a = get_attention(ctx.model_key, ctx.device, after_key + ":" + ctx.kg_key, seeds, seed, after_p)
    s_after = F.attention_of_relation(att_a["relation"][-1], after.relation_index[r], labels_a)
    if r in kg.relation_index:
        s_before = F.attention_of_relation(att_b["relation"][-1], kg.relation_index[r], labels_b)
    else:
        s_before = pd.Series(dtype=float)
        st.caption(f"{r} is a new relation: it had no attention before.")
    both = pd.DataFrame({"α before": s_before, "α after": s_after}).rename_axis("sender").reset_index()
    st.dataframe(both.sort_values("α after", ascending=False), hide_index=True, key="wi_attention",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("α before", "α after")})

    st.markdown(f"**Ranking of ({h}, {r}, ?)** — does the edited fact's tail move?")
    sides = []
    for p, g, is_before in ((before_p, kg, True), (after_p, after, False)):
        if h not in g.entity_index or r not in g.relation_index:
            sides.append((None, None))
            continue
        if is_before:
            frame = ranking(ctx.model_key, ctx.device, ctx.kg_key, seeds, "tail", h, r, 10, False, p)
        else:
            frame = F.ranking_frame(p.rank_tails(h, r, 10))
        rank = p.rank_of(h, r, t, "tail", filtered=True) if t in g.entity_index else None
        sides.append((frame, rank))
    (before_frame, rank_before), (after_frame, rank_after) = sides
    m1, m2 = st.columns(2)
    m1.metric(f"filtered rank of {t}, before", "—" if rank_before is None else rank_before)
    m2.metric(f"filtered rank of {t}, after", "—" if rank_after is None else rank_after,
              delta=None if None in (rank_before, rank_after) else rank_before - rank_after)
    for col, frame, side in zip(st.columns(2), (before_frame, after_frame), ("before", "after")):
        with col:
            st.markdown(side)
            if frame is None:
                st.info(f"({h}, {r}, ?) cannot be asked {side} the edit: a name is missing.")
            else:
                st.dataframe(frame[["rank", "entity", "score", "known"]], hide_index=True,
                             key=f"wi_rank_tbl_{side}")
    if st.button("Keep this edit (apply it to the KG)", key="wi_apply"):
        set_kg(st.session_state, after, f"{ctx.kg_label} (edited)")
        st.rerun()
