"""ULTRA in the explorer's views: "Why this answer?" (its paths), what a view cannot show for it, What-if.

ULTRA (:mod:`kgviz.models.ultra.network`) is a :class:`kgviz.models.base.Scorer` without draws or attention; a
:class:`~kgviz.ui.cache.LoadedModel` holds it in ``scorer`` (``network`` is ``None``). Its answers are
explained by paths (:func:`kgviz.models.ultra.paths.explain_paths`), drawn on the KG with
:func:`kgviz.ui.figures.classroom.kg_figure`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ultra.graph import NamedRelationEdge, inverse_name, named_relation_graph
from kgviz.models.ultra.paths import ExplainedPath, explain_paths
from kgviz.ranking.ranks import QueryRanking
from kgviz.ui import state as S
from kgviz.ui.cache import HASH_FUNCS, LoadedModel, query_ranking
from kgviz.ui.figures.classroom import kg_figure
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown, name_md
from kgviz.ui.figures.ranking import query_ranking_frame
from kgviz.ui.figures.ultra import (
    KIND_MEANING,
    kind_counts,
    path_entities,
    path_frame,
    path_triples,
    ultra_relation_figure,
)
from kgviz.ui.widgets import default_index

__all__ = [
    "has_paths",
    "scorer_notice",
    "ultra_paths",
    "why_this_answer",
    "ultra_relation_edges",
    "whatif_for_scorer",
    "relation_graph_toggle",
    "ultra_relation_section",
    "GRAPH_KINDS",
    "LOOKING_AT",
]

PATHS_SHOWN = 5
GRAPH_KINDS = {"ingram": "InGram: binned affinities", "ultra": "ULTRA: four interaction types"}
LOOKING_AT = (
    "Both graphs have the KG's relations as nodes (with inverses, `r⁻¹`), linked when they share entities, "
    "but they keep different things.\n\n"
    "- **InGram** weighs each pair by *how much* it shares — each shared entity adds (its count in i)·(its count "
    "in j)/degree² — and cuts the weights into B bins (strength levels); one kind of edge. InGram's relation "
    "layers **attend** over it: each relation mixes its neighbours' vectors with learned weights plus a learned "
    "bias per bin, once per KG, the same for every query.\n"
    "- **ULTRA** keeps only *whether* two relations share an entity, but *in which roles*: four binary "
    "interaction types — head–head (hh), tail–tail (tt), head–tail (ht), tail–head (th). ULTRA runs **message "
    "passing conditioned on the query relation**: it starts from the query's relation, so every query gets its "
    "own relation vectors, then passes messages on the KG from the query's anchor."
)
NOT_SHOWN = {
    "Attention": "ULTRA has no attention weights (it sums messages, it does not weigh them); "
    "see **Why this answer?** on Predictions for the paths behind each of its answers.",
    "Adapt": "Fine-tuning here is InGram's; ULTRA is used as released (zero-shot).",
}


def has_paths(model: LoadedModel | None) -> bool:
    """Whether ``model`` can explain an answer by paths (its scorer declares the ``paths`` capability)."""
    return model is not None and model.scorer is not None and bool(model.scorer.capabilities.paths)


def scorer_notice(ctx: PageContext, view: str) -> bool:
    """For a model that is not InGram: say in words what ``view`` cannot show for it and return ``True``."""
    if ctx.model.is_ingram:
        return False
    why = NOT_SHOWN.get(view, f"This view shows InGram's internals; {ctx.model_label} is not InGram.")
    st.info(f"**{escape_markdown(ctx.model_label)}:** {why} Pick an InGram model in the sidebar to see this view.")
    return True


@st.cache_resource(show_spinner="Finding the paths…", max_entries=64, hash_funcs=HASH_FUNCS)
def ultra_paths(
    model: LoadedModel, kg: KnowledgeGraph, anchor: int, relation: int, candidate: int, direction: str
) -> list[ExplainedPath]:
    """The :data:`PATHS_SHOWN` best paths from ``anchor`` to ``candidate`` (edge gradients, beam search)."""
    return explain_paths(model.scorer, kg, anchor, relation, candidate, direction, k=PATHS_SHOWN)  # type: ignore[arg-type]


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=HASH_FUNCS)
def ultra_relation_edges(kg: KnowledgeGraph) -> tuple[list[str], list[NamedRelationEdge]]:
    """ULTRA's relation graph of ``kg``: the ``2R`` relation names (``r``, then ``r⁻¹``) and the named edges."""
    return list(kg.relations) + [inverse_name(r) for r in kg.relations], named_relation_graph(kg)


def why_this_answer(
    ctx: PageContext, model: LoadedModel, label: str, ranking: QueryRanking, direction: str, anchor: int, relation: int
) -> None:
    """Pick a candidate of ``ranking`` (``model``'s, ULTRA): its best paths as triples with their weights, and the
    KG with the paths' triples emphasised."""
    kg = ctx.kg
    st.markdown(f"#### Why this answer? ({escape_markdown(label)})")
    shown = ranking.candidates[: max(10, min(50, len(ranking.candidates)))]
    names = {c.entity: f"{c.rank}. {c.name}" for c in shown}
    asked = (kg.fingerprint, model.key, anchor, relation, direction)
    if st.session_state.get(S.WHY_QUERY) != asked or st.session_state.get(S.WHY_CANDIDATE) not in names:
        st.session_state[S.WHY_QUERY] = asked  # a new query: its first answer (set, so the browser shows it)
        st.session_state[S.WHY_CANDIDATE] = next(iter(names))
    candidate = st.selectbox(
        "candidate",
        list(names),
        key=S.WHY_CANDIDATE,
        format_func=names.__getitem__,
        help="ULTRA passes messages from the query's anchor along the KG's triples (both ways); a path's "
        "weight is the mean gradient of the candidate's score with respect to its edges.",
    )
    if candidate is None:
        return
    paths = ultra_paths(model, kg, anchor, relation, int(candidate), direction)
    anchor_name, cand_name = kg.entities[anchor], kg.entities[int(candidate)]
    if not paths:
        st.info(
            f"No path of at most 3 triples carries {name_md(anchor_name)}'s message to {name_md(cand_name)}: "
            "its score comes from the model's general preference for this relation, not from this KG's paths."
        )
        return
    st.caption(
        f"The {len(paths)} paths from {name_md(anchor_name)} to {name_md(cand_name)} that weigh most in "
        f"{escape_markdown(label)}'s score (gradient of the score with respect to each edge, mean over the path's "
        "edges; beam search as in NBFNet's interpretation). ⁻¹ / *read backwards*: the path walks the triple "
        "from its tail to its head."
    )
    st.dataframe(
        path_frame(paths, anchor_name),
        hide_index=True,
        key=S.WHY_PATHS_TABLE,
        column_config={"weight": st.column_config.NumberColumn(format="%.4f")},
    )
    rel_name = kg.relations[relation]
    fig = kg_figure(
        kg,
        highlight_nodes=list(dict.fromkeys([anchor, int(candidate)] + path_entities(kg, paths))),
        highlight_edges=path_triples(kg, paths),
        query=(anchor, rel_name, int(candidate)) if direction == "tail" else None,
        height=460,
    )
    st.plotly_chart(fig, key=S.WHY_PATHS_KG)
    st.caption(
        "The KG with the paths' triples drawn thick in their relation's colour, the others grey; orange: the "
        "entities on the paths."
    )


def whatif_for_scorer(ctx: PageContext, after: KnowledgeGraph, triple: tuple[str, str, str], constraints) -> None:
    """What-if for a model without draws or attention (ULTRA): its relation graph and its ranking of
    ``(h, r, ?)`` before and after the edit, through the same ranking path as Predictions."""
    kg, (h, r, t) = ctx.kg, triple
    exclude_self, known_side = constraints
    (_, before_edges), (_, after_edges) = ultra_relation_edges(kg), ultra_relation_edges(after)
    st.markdown(f"**{escape_markdown(ctx.model_label)}'s relation graph** (four interaction types)")
    c1, c2 = st.columns(2)
    c1.metric("relation-graph edges before", len(before_edges))
    c2.metric("after", len(after_edges), delta=len(after_edges) - len(before_edges))
    st.caption(
        f"{escape_markdown(ctx.model_label)} has no attention weights; the rankings below show the edit's effect."
    )
    st.markdown(f"**Ranking of ({name_md(h)}, {name_md(r)}, ?)** — does the edited fact's tail move?")
    cols = st.columns(2)
    for col, g, side in zip(cols, (kg, after), ("before", "after")):
        with col:
            st.markdown(side)
            if h not in g.entity_index or r not in g.relation_index:
                st.info(f"({name_md(h)}, {name_md(r)}, ?) cannot be asked {side} the edit: a name is missing.")
                continue
            ranked = query_ranking(ctx.model, g, (), "tail", h, r, exclude_self=exclude_self, known_side=known_side)
            rank = ranked.rank_of(g.entity_index[t], filtered=True) if t in g.entity_index else None
            st.metric(f"filtered rank of {t}, {side}", "—" if rank is None else rank)
            frame = query_ranking_frame(ranked, 10)[["rank", "entity", "score", "known", "note"]]
            st.dataframe(frame, hide_index=True, key=f"{S.WI_RANK_TABLE_PREFIX}{side}")


def relation_graph_toggle(ctx: PageContext) -> str:
    """The toggle between the two relation graphs (ULTRA's first when the model is ULTRA) and what it shows."""
    kinds = list(GRAPH_KINDS)
    S.forget_invalid(st.session_state, S.RG_KIND, kinds)
    kind = st.radio(
        "Relation graph of",
        kinds,
        index=default_index(S.RG_KIND, 0 if ctx.model.is_ingram else 1),
        format_func=GRAPH_KINDS.__getitem__,
        horizontal=True,
        key=S.RG_KIND,
    )
    with st.expander("What am I looking at? InGram's graph and ULTRA's"):
        st.markdown(LOOKING_AT)
    return kind or "ingram"


def ultra_relation_section(ctx: PageContext) -> None:
    """ULTRA's four-type relation graph of the current KG: counts per type, the figure (selected relation
    highlighted), and the edges of the selected relation."""
    kg = ctx.kg
    names, edges = ultra_relation_edges(kg)
    counts = kind_counts(edges)
    cols = st.columns(5)
    cols[0].metric("relations (with inverses)", len(names))
    for col, (kind, n) in zip(cols[1:], counts.items()):
        col.metric(f"{kind} edges", n, help=KIND_MEANING[kind])
    selected = [names[ctx.rel]] if ctx.rel is not None and ctx.rel < len(names) else []
    fig = ultra_relation_figure(names, edges, highlight=selected)
    st.plotly_chart(fig, key=S.ULTRA_RG_CHART)
    st.caption(
        "One line per pair of relations and interaction type (colour, legend below); a pair sharing entities in "
        "several roles has several lines side by side. Self-loops are in the nodes' tooltips."
        + (" Red: the relation selected in the sidebar." if selected else "")
    )
    if selected:
        mine = [(e.target, e.kind) for e in edges if e.source == selected[0] and e.target != selected[0]]
        st.markdown(f"**Edges of {name_md(selected[0])}** ({len(mine)})")
        st.dataframe(
            pd.DataFrame(mine, columns=["relation", "type"]).assign(meaning=lambda d: d["type"].map(KIND_MEANING)),
            hide_index=True,
        )
