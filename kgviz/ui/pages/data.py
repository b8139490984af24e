"""Data page: upload, quick add, the triples table, the drawing canvas and the TSV download."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import pandas as pd
import streamlit as st

from kgviz.graph.data import KGFormatError, parse_quick_add
from kgviz.ui import state as S
from kgviz.ui.canvas import (
    FALLBACK_RELATION,
    MAX_CANVAS_TRIPLES,
    canvas_edit_message,
    flow_to_triples,
    kg_to_flow,
    label_new_edges,
    pending_entities,
)
from kgviz.ui.context import PageContext
from kgviz.ui.loading import MAX_UPLOAD_BYTES, MAX_UPLOAD_TRIPLES, on_kg_upload
from kgviz.ui.markup import display_text, escape_markdown
from kgviz.ui.widgets import page_intro

INTRO = (
    "The knowledge graph every other view uses: a list of "
    "(head, relation, tail) triples. Edit it here — in the table, on the canvas, or by "
    "typing triples — and all views update."
)

Triple = tuple[str, str, str]  # (head, relation, tail) names
Source = TypeVar("Source")


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    page_intro(INTRO)
    c1, c2, c3 = st.columns(3)
    c1.metric("entities", kg.num_entities)
    c2.metric("relations", kg.num_relations)
    c3.metric("triples", kg.num_triples)
    st.download_button(
        "Download KG (TSV)",
        kg.to_tsv(),
        file_name="kg.tsv",
        mime="text/tab-separated-values",
        key=S.DOWNLOAD_KG,
        on_click="ignore",
    )

    with st.expander("Upload a TSV / CSV file", expanded=False):
        _upload()
    with st.expander("Quick add", expanded=True):
        _quick_add(ctx)
    st.subheader("Triples table")
    _table_editor(ctx)
    st.subheader("Canvas")
    _canvas(ctx)


def _upload() -> None:
    """The uploader; the file is read by its callback (:func:`kgviz.ui.loading.on_kg_upload`)."""
    st.caption(
        f"`head<TAB>relation<TAB>tail` lines (or CSV with a `head,relation,tail` header); "
        f"`#` lines are comments. Up to {MAX_UPLOAD_BYTES // 2**20} MB and "
        f"{MAX_UPLOAD_TRIPLES:,} triples."
    )
    st.file_uploader("KG file", type=["tsv", "csv", "txt"], key=S.KG_UPLOAD, on_change=on_kg_upload)
    if st.session_state.get(S.KG_UPLOAD_ERROR):
        st.error(st.session_state[S.KG_UPLOAD_ERROR])


def _apply(ctx: PageContext, triples: list[tuple[str, str, str]], how: str) -> None:
    """Replace the KG by ``triples`` (keeping ids of surviving names) and rerun."""
    from kgviz.graph.whatif import replaced_kg  # torch: not needed to show the page

    try:
        kg = replaced_kg(ctx.kg, triples)
    except KGFormatError as exc:
        st.error(str(exc))
        return
    S.set_current_kg(st.session_state, kg, S.edited_label(ctx.kg_label), edit=True)
    st.session_state[S.MESSAGES].append(f"{how}: the KG now has {kg.num_triples} triples.")
    st.rerun()


def _parsed(parse: Callable[[Source], list[Triple]], source: Source) -> list[Triple] | None:
    """``parse(source)``, or ``None`` after showing why it is not a list of triples (its KGFormatError)."""
    try:
        return parse(source)
    except KGFormatError as exc:
        st.error(str(exc))
        return None


def _quick_add(ctx: PageContext) -> None:
    kg = ctx.kg
    st.caption("One `head, relation, tail` per line (comma or tab separated).")
    text = st.text_area("Triples to add", key=S.QUICK_ADD_TEXT, height=90, placeholder="Emma Stone, born in, USA")
    if st.button("Add these triples", key=S.QUICK_ADD_BUTTON):
        new = _parsed(parse_quick_add, text)
        if new is None:
            return
        if not new:
            st.warning("Nothing to add.")
            return
        _apply(ctx, list(kg.string_triples()) + new, f"Added {len(new)} triple(s)")
    st.caption("Or pick names from the KG (type a new one to create it):")
    c1, c2, c3, c4 = st.columns([3, 3, 3, 1])
    h = c1.selectbox("head", kg.entities, index=None, accept_new_options=True, key=S.ADD_HEAD)
    r = c2.selectbox("relation", kg.relations, index=None, accept_new_options=True, key=S.ADD_REL)
    t = c3.selectbox("tail", kg.entities, index=None, accept_new_options=True, key=S.ADD_TAIL)
    if c4.button("Add", key=S.ADD_ONE):
        if not (h and r and t):
            st.error("Pick a head, a relation and a tail.")
        else:
            _apply(ctx, list(kg.string_triples()) + [(h, r, t)], "Added 1 triple")


def _table_rows(edited: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The non-empty rows of the edited table; raises KGFormatError for a row missing a field."""
    rows = [r for r in edited.fillna("").astype(str).values.tolist() if any(x.strip() for x in r)]
    for k, r in enumerate(rows):
        if not all(x.strip() for x in r):
            raise KGFormatError("a row needs a head, a relation and a tail", source="table", line=k + 1)
    if not rows:
        raise KGFormatError("the table is empty; a KG needs at least one triple", source="table")
    return [(r[0].strip(), r[1].strip(), r[2].strip()) for r in rows]


def _table_editor(ctx: PageContext) -> None:
    kg = ctx.kg
    st.caption(
        "Edit cells, add rows at the bottom, delete rows with the row menu, then apply. "
        "Names in use: "
        + ", ".join(f"`{escape_markdown(n)}`" for n in kg.relations[:12])
        + (" …" if kg.num_relations > 12 else "")
        + " (relations)."
    )
    frame = pd.DataFrame(kg.string_triples(), columns=["head", "relation", "tail"])
    col = st.column_config.TextColumn
    edited = st.data_editor(
        frame,
        num_rows="dynamic",
        hide_index=True,
        key=f"{S.EDITOR_PREFIX}{ctx.current.version}",
        column_config={
            "head": col("head", help="entity name"),
            "relation": col("relation", help="relation name"),
            "tail": col("tail", help="entity name"),
        },
        height=min(400, 36 * (len(frame) + 2)),
    )
    if st.button("Apply table edits", key=S.APPLY_TABLE):
        rows = _parsed(_table_rows, edited)
        if rows is not None:
            _apply(ctx, rows, "Applied table edits")


def _canvas_relation(ctx: PageContext) -> str:
    """The relation a new edge gets: one of this KG's relations, or a new name typed after "new relation…"."""
    cur = ctx.current
    choice = st.selectbox(
        "Relation for new edges",
        [*cur.kg.relations, S.NEW_RELATION],
        index=0,
        key=S.canvas_relation_key(cur),
        help="The relations of this KG; pick “new relation…” to name another one.",
    )
    st.session_state[S.CANVAS_RELATION] = choice  # carried to the next picker after an edit
    if choice != S.NEW_RELATION:
        return choice
    typed = st.text_input(
        "New relation name",
        key=S.canvas_relation_key(cur, S.CANVAS_NEW_RELATION),
        placeholder=f"empty: {FALLBACK_RELATION}",
    ).strip()
    st.session_state[S.CANVAS_NEW_RELATION] = typed
    return typed or FALLBACK_RELATION


def _canvas(ctx: PageContext) -> None:
    from streamlit_flow import streamlit_flow

    kg = ctx.kg
    if kg.num_triples > MAX_CANVAS_TRIPLES:
        st.info(
            f"The canvas is for small KGs (up to {MAX_CANVAS_TRIPLES} triples); this one has "
            f"{kg.num_triples:,}. Use the table or quick add to edit it."
        )
        return
    st.caption(
        "Drag nodes; connect two nodes to draw a triple (labelled with the relation chosen "
        "below); right-click the canvas to add an entity, a node or an edge to delete it. "
        "A new entity enters the KG with its first edge: a node without edges stays on the "
        "canvas only."
    )
    new_rel = _canvas_relation(ctx)
    version = ctx.current.version
    if st.session_state.get(S.FLOW_VERSION) != version:
        st.session_state[S.FLOW_STATE] = kg_to_flow(kg)
        st.session_state[S.FLOW_VERSION] = version
    shown = st.session_state[S.FLOW_STATE]
    # One component per KG version: a drawing the component sends for an older KG (its echo on
    # mount, its first layout) arrives under an older key and is ignored, never applied to this KG.
    state = streamlit_flow(
        f"{S.CANVAS_PREFIX}{version}",
        shown,
        height=480,
        fit_view=True,
        allow_new_edges=True,
        enable_pane_menu=True,
        enable_node_menu=True,
        enable_edge_menu=True,
        show_controls=True,
        hide_watermark=True,
    )
    # The component keeps returning its last value; only a new timestamp is a new drawing.
    if state is shown or state.timestamp == st.session_state.get(S.FLOW_SEEN_TS):
        return
    st.session_state[S.FLOW_SEEN_TS] = state.timestamp
    label_new_edges(state, new_rel)  # show the relation a new edge stands for
    triples = flow_to_triples(state, new_rel)
    pending = pending_entities(state, kg)
    if pending:
        st.info(
            "Not in the KG yet (no edge): "
            + ", ".join(f"**{display_text(n)}**" for n in pending)
            + ". Connect it to another node to add a triple."
        )
    if not triples or set(triples) == set(flow_to_triples(shown, new_rel)):
        return  # the component echoing what it was given (mount, layout), or a node without edges
    state.timestamp = int(time.time() * 1000)
    st.session_state[S.FLOW_STATE] = state
    from kgviz.graph.whatif import replaced_kg  # torch: not needed to show the page

    try:
        new = replaced_kg(kg, triples)
    except KGFormatError as exc:
        st.error(str(exc))
        return
    S.set_current_kg(st.session_state, new, S.edited_label(ctx.kg_label), edit=True)
    st.session_state[S.MESSAGES].append(canvas_edit_message(list(kg.string_triples()), triples))
    st.session_state[S.FLOW_VERSION] = S.current(st.session_state).version  # keep the drawing as is
    st.rerun()
