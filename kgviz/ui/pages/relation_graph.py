"""Relation graph page: InGram's weighted relation graph, the strongest pairs, the β breakdown
of a pair and the affinity heatmap. A pair is selected as ``(i, j)`` ids of the matrix shown."""

from __future__ import annotations

from typing import Sequence

import scipy.sparse as sp
import streamlit as st

from kgviz.graph.neighbourhood import cluster_order, short_labels, top_relations, weight_share
from kgviz.graph.relgraph import (
    explain_lecture_pair,
    explain_merged_pair,
    explain_pair,
    relation_label,
    strongest_pairs,
)
from kgviz.ui.figures import views as F
from kgviz.ui import state as S
from kgviz.ui.cache import relation_matrices
from kgviz.ui.context import PageContext
from kgviz.ui.markup import name_md
from kgviz.ui.ultra_views import relation_graph_toggle, ultra_relation_section
from kgviz.ui.widgets import export_plotly, linked_select, page_intro, show_html

INTRO = (
    "InGram links two relations when they share entities: "
    "each entity adds (its count in relation i)·(its count in j)/degree², once as a head "
    "and once as a tail. These affinities, binned into strength levels, are the edges the "
    "relation-level attention runs on. Select a pair to see the sum term by term."
)

MAX_PAIR_OPTIONS = 500
RG_MODES = {
    "exact": "InGram's graph (2R, with inverses)",
    "merged": "InGram's graph, inverses merged (R)",
    "lecture": "lecture's simplified β (R, 0/1)",
}


def pair_options(matrix: sp.spmatrix) -> list[tuple[int, int]]:
    """The strongest pairs ``(i, j)``, ``i <= j``, of ``matrix`` (self-affinities included)."""
    return [(int(i), int(j)) for i, j in strongest_pairs(matrix, MAX_PAIR_OPTIONS, include_diagonal=True)]


def pair_label(pair: tuple[int, int], labels: Sequence[str]) -> str:
    """``"name i — name j"``; raises for anything but a pair of ids (AppTest then matches the label)."""
    i, j = pair
    return f"{labels[i]} — {labels[j]}"


def _select_pair(pair: tuple[int, int]) -> None:
    """Select ``pair``, and its first relation for the other views."""
    st.session_state[S.PAIR] = pair
    st.session_state[S.REL] = pair[0]  # an id of the 2R or R matrix is the same relation's augmented id


def _pair_to_relation() -> None:
    pair = st.session_state.get(S.PAIR)
    if pair is not None:
        st.session_state[S.REL] = pair[0]


def _pair_from_table(rows: list[tuple[int, int]]) -> None:
    picked = st.session_state[S.PAIRS_TABLE].selection.rows
    if picked:
        _select_pair(rows[picked[0]])


def _pair_from_heatmap(options: list[tuple[int, int]]) -> None:
    points = st.session_state[S.AFFINITY_HEATMAP].selection.points
    if points and "customdata" in points[0]:
        _, i, j = points[0]["customdata"]
        pair = (min(int(i), int(j)), max(int(i), int(j)))
        if pair in options:
            _select_pair(pair)


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    kind = relation_graph_toggle(ctx)
    if kind == "ultra":
        ultra_relation_section(ctx)
        return
    page_intro(INTRO)
    mode = st.radio("Relation graph", list(RG_MODES), format_func=RG_MODES.__getitem__, horizontal=True, key=S.RG_MODE)
    matrix = relation_matrices(kg)[mode]
    R = kg.num_relations
    labels = F.matrix_labels(kg.relations, matrix.shape[0])
    bins = ctx.model.config.num_bin
    selected = None if ctx.rel is None else (ctx.rel if mode == "exact" else ctx.rel % R)

    options = pair_options(matrix)
    pair = linked_select(
        "Relation pair",
        options,
        S.PAIR,
        lambda p: pair_label(p, labels),
        on_change=_pair_to_relation,
        placeholder="choose a pair (or click a row / heatmap cell)",
    )

    ids, short = _drawn_relations(matrix, labels, [x for x in (selected, *(pair or ())) if x is not None])
    html, drawn_bins = F.relation_network_html(
        matrix, labels, bins, num_relations=R, selected=selected, pair=pair, ids=ids, short=short, height=480
    )
    show_html(html, 480, file_name=f"relation_graph_{mode}.html", key=S.EXPORT_RG)
    st.markdown(_graph_caption(matrix, bins, drawn_bins, selected, pair), unsafe_allow_html=True)
    st.markdown("**Strongest pairs** (click a row)")
    table = F.strongest_pairs_frame(matrix, short, bins, top=25)
    rows = list(zip(table["i"].astype(int).tolist(), table["j"].astype(int).tolist()))
    st.dataframe(
        table.drop(columns=["i", "j"]),
        hide_index=True,
        key=S.PAIRS_TABLE,
        height=280,
        on_select=lambda: _pair_from_table(rows),
        selection_mode="single-row",
        column_config=_pair_columns(short != list(labels)),
    )

    if pair is not None:
        _beta_breakdown(ctx, mode, matrix, labels, pair)

    order = cluster_order(matrix, ids)
    fig = F.affinity_heatmap(
        matrix,
        labels,
        pair=pair,
        ids=order,
        short=short,
        title=f"Affinity matrix of the {len(ids)} relations drawn, clustered (click a cell)",
    )
    st.plotly_chart(fig, key=S.AFFINITY_HEATMAP, on_select=lambda: _pair_from_heatmap(options), selection_mode="points")
    st.caption(
        "Rows and columns ordered by hierarchical clustering (similar relations side by side). "
        "Colours end at the largest pair weight; the diagonal (self-affinity) may exceed it. "
        "Hover a cell for its weight and the full names."
    )
    export_plotly(fig, file_name=f"affinity_{mode}.html", key=S.EXPORT_HEATMAP)


DEFAULT_TOP_N = 30  # relations drawn by default on a large relation graph


def _drawn_relations(matrix: sp.spmatrix, labels: Sequence[str], selected: list[int]) -> tuple[list[int], list[str]]:
    """The relations to draw (all, or the top N with the selection: a slider picks N) and the
    short labels of all relations; a sentence says what is left out."""
    size = matrix.shape[0]
    if size <= DEFAULT_TOP_N:
        return list(range(size)), list(labels)
    n = st.slider(
        "Relations to draw (the strongest, plus the selection and its neighbours)",
        10,
        min(size, 120),
        DEFAULT_TOP_N,
        step=5,
        key=S.RG_TOP_N,
    )
    ids = top_relations(matrix, n, selected)
    st.info(
        f"Large relation graph ({size} relations): drawing {len(ids)} — the strongest by total "
        f"pair weight, plus the selection and its strongest neighbours. Their pairs carry "
        f"{100 * weight_share(matrix, ids):.0f} % of the total weight; the other {size - len(ids)} "
        "relations are left out of the graph and the heatmap (the pair picker and the table list all)."
    )
    return ids, short_labels(labels)


def _pair_columns(shortened: bool) -> dict:
    help_ = "Names shortened (shared prefix dropped, middle cut); the pair picker above shows them in full."
    return {
        "relation i": st.column_config.TextColumn(help=help_ if shortened else None),
        "relation j": st.column_config.TextColumn(help=help_ if shortened else None),
        "weight": st.column_config.NumberColumn(format="%.4f", width="small"),
        "bin": st.column_config.NumberColumn(width="small", help="bin 0 = strongest entries of A"),
    }


def _graph_caption(
    matrix: sp.spmatrix, num_bins: int, drawn_bins: list[int], selected: int | None, pair: tuple[int, int] | None
) -> str:
    """The caption under the graph: the colours of the bins drawn, what red and grey mean."""
    summary = F.bin_summary(matrix, num_bins)
    marks = []
    if selected is not None or pair is not None:
        marks.append("red outline: the selected relation" + (" and pair (red edge)" if pair is not None else ""))
    if selected is not None:
        marks.append("grey: pairs not touching the selected relation")
    off = int(summary["pairs"].sum())
    return (
        f"<small>Edge width ∝ weight; colour = bin of the {num_bins} (dark = strong): "
        f"{F.bin_legend_html(summary, sorted(set(drawn_bins)))}. "
        + "; ".join(marks)
        + ("." if marks else "")
        + f" {len(drawn_bins)} of {off} pairs drawn; self-affinities are in the node tooltips.</small>"
    )


def _beta_breakdown(
    ctx: PageContext, mode: str, matrix: sp.spmatrix, labels: Sequence[str], pair: tuple[int, int]
) -> None:
    kg = ctx.kg
    R = kg.num_relations
    i, j = pair
    pair_labels = None
    if mode == "exact":
        contribs = explain_pair(kg.triples, kg.num_entities, R, i, j)
    elif mode == "lecture":
        contribs = explain_lecture_pair(kg.triples, kg.num_entities, R, i, j)
    else:
        terms = explain_merged_pair(kg.triples, kg.num_entities, R, i, j)
        contribs = [c for _, c in terms]
        pair_labels = [f"{relation_label(a, kg.relations)} — {relation_label(b, kg.relations)}" for (a, b), _ in terms]
    frame, formula = F.beta_breakdown(contribs, kg.entities, pair_labels)
    weight = float(matrix[i, j])
    st.markdown(f"#### β breakdown: {name_md(labels[i])} — {name_md(labels[j])}")
    c1, c2 = st.columns([1, 3])
    c1.metric("weight", f"{weight:.4f}")
    c2.markdown("β = " + formula)  # numbers and operators only: no user text
    st.dataframe(
        frame,
        hide_index=True,
        key=S.BETA_TABLE,
        column_config={"contribution": st.column_config.NumberColumn(format="%.4f")},
    )
    total = float(frame["contribution"].sum()) if len(frame) else 0.0
    st.caption(
        f"Contributions sum to {total:.4f} = the weight. "
        + (
            "Role: head = the entity is head of both relations, tail = tail of both (inverses swap the roles)."
            if mode != "lecture"
            else "Lecture view: each shared entity adds (1/degree)², whatever its role."
        )
    )
