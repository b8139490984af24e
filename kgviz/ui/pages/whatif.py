"""What-if page: add or remove one triple and compare relation graph, attention and ranking."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kgviz.graph.data import KGFormatError, KnowledgeGraph
from kgviz.defaults import DEFAULTS
from kgviz.models.ingram.predictor import Predictor
from kgviz.ranking.ranks import rank_query
from kgviz.graph.whatif import edited_kg
from kgviz.ui.figures import views as F
from kgviz.ui import state as S
from kgviz.ui.cache import get_aligned_attention, get_aligned_predictor, get_attention, query_ranking, relation_matrices
from kgviz.ui.context import PageContext
from kgviz.ui.markup import name_md
from kgviz.ui.figures.ranking import query_ranking_frame
from kgviz.ui.ultra_views import whatif_for_scorer
from kgviz.ui.widgets import linked_select, page_intro, seed_widget

INTRO = (
    "Edit one fact and compare: the relation graph, the "
    "attention of a relation and the ranking of a query, before and after (ranked as Predictions ranks "
    "it: the same draws and constraints). The same random draws are used on both sides (entities and relations keep their features; "
    "only new names get new ones), so differences come from the edit alone."
)

OPS = {"add": "add a triple", "remove": "remove a triple"}
MAX_REMOVE_OPTIONS = 5000


def _choose_triple(kg: KnowledgeGraph, op: str) -> tuple[str, str, str] | None:
    """The triple to add (names; new ones may be typed) or to remove (one of the KG's)."""
    if op == "add":
        c1, c2, c3 = st.columns(3)
        h = c1.selectbox("head", kg.entities, index=None, accept_new_options=True, key=S.WI_HEAD, bind="query-params")
        r = c2.selectbox(
            "relation (type a new one to add a relation)",
            kg.relations,
            index=None,
            accept_new_options=True,
            key=S.WI_REL,
            bind="query-params",
        )
        t = c3.selectbox("tail", kg.entities, index=None, accept_new_options=True, key=S.WI_TAIL, bind="query-params")
        return (h, r, t) if h and r and t else None
    triples = kg.string_triples()
    options = list(range(min(len(triples), MAX_REMOVE_OPTIONS)))
    pick = linked_select("triple to remove", options, S.WI_REMOVE, lambda k: " | ".join(triples[k]))
    return None if pick is None else triples[pick]


def _side_ranking(
    ctx: PageContext, p: Predictor, g: KnowledgeGraph, triple: tuple[str, str, str], before: bool
) -> tuple[pd.DataFrame | None, int | None]:
    """Top 10 of ``(h, r, ?)`` on one side of the edit, ranked as Predictions ranks it (same draws and
    constraints, :func:`kgviz.ranking.ranks.rank_query`), and the filtered rank of ``t`` there."""
    h, r, t = triple
    if h not in g.entity_index or r not in g.relation_index:
        return None, None
    exclude_self, known_side = constraints_in_use()
    if before:  # the very ranking the Predictions view shows for this query
        ranked = query_ranking(
            ctx.model, g, tuple(p.seeds), "tail", h, r, exclude_self=exclude_self, known_side=known_side
        )
    else:
        ranked = rank_query(p, h, r, "tail", exclude_self=exclude_self, known_side=known_side)
    rank = ranked.rank_of(g.entity_index[t], filtered=True) if t in g.entity_index else None
    return query_ranking_frame(ranked, 10), rank


def constraints_in_use() -> tuple[bool, bool]:
    """The constraints the Predictions view has on (its checkboxes; the defaults before it was opened)."""
    return (
        bool(st.session_state.get(S.Q_EXCLUDE_SELF, DEFAULTS.exclude_self)),
        bool(st.session_state.get(S.Q_KNOWN_SIDE, DEFAULTS.known_side)),
    )


def _ranking_section(
    ctx: PageContext, before_p: Predictor, after_p: Predictor, after: KnowledgeGraph, triple: tuple[str, str, str]
) -> None:
    """The query ``(h, r, ?)`` ranked before and after the edit, and the filtered rank of ``t`` on each side."""
    kg, (h, r, t) = ctx.kg, triple
    st.markdown(f"**Ranking of ({name_md(h)}, {name_md(r)}, ?)** — does the edited fact's tail move?")
    before_frame, rank_before = _side_ranking(ctx, before_p, kg, triple, True)
    after_frame, rank_after = _side_ranking(ctx, after_p, after, triple, False)
    m1, m2 = st.columns(2)
    m1.metric(f"filtered rank of {t}, before", "—" if rank_before is None else rank_before)
    m2.metric(
        f"filtered rank of {t}, after",
        "—" if rank_after is None else rank_after,
        delta=None if rank_before is None or rank_after is None else rank_before - rank_after,
    )
    for col, frame, side in zip(st.columns(2), (before_frame, after_frame), ("before", "after")):
        with col:
            st.markdown(side)
            if frame is None:
                st.info(f"({name_md(h)}, {name_md(r)}, ?) cannot be asked {side} the edit: a name is missing.")
            else:
                st.dataframe(
                    frame[["rank", "entity", "score", "known", "note"]],
                    hide_index=True,
                    key=f"{S.WI_RANK_TABLE_PREFIX}{side}",
                )


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    page_intro(INTRO)
    op = st.radio("Edit", list(OPS), format_func=OPS.__getitem__, horizontal=True, key=S.WI_OP, bind="query-params")
    triple = _choose_triple(kg, op)
    seed = seed_widget(S.WI_SEED) if ctx.model.is_ingram else 0  # a model without draws has no seed
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
    if not ctx.model.is_ingram:  # ULTRA: no draws, no attention; its relation graph and rankings
        st.markdown(
            f"#### {'+' if op == 'add' else '−'} ({name_md(triple[0])}, {name_md(triple[1])}, {name_md(triple[2])})"
        )
        whatif_for_scorer(ctx, after, triple, constraints_in_use())
        _keep_button(ctx, after)
        return
    seeds = DEFAULTS.seeds(seed)  # the draws of the Predictions view (first seed = this seed)
    before_p = ctx.predictor(seeds)
    after_p = get_aligned_predictor(ctx.model, after, kg, seeds)
    h, r, t = triple
    st.markdown(f"#### {'+' if op == 'add' else '−'} ({name_md(h)}, {name_md(r)}, {name_md(t)})")

    st.markdown("**Relation graph** (InGram's exact affinities)")
    a_before = relation_matrices(kg)["exact"]
    a_after = after_p.graph.affinity
    labels_b, labels_a = ctx.relation_labels, S.relation_labels(after)
    changes = F.affinity_changes(F.pair_weights(a_before, labels_b), F.pair_weights(a_after, labels_a))
    c1, c2, c3 = st.columns(3)
    c1.metric("relation-graph edges before", int(a_before.nnz))
    c2.metric("after", int(a_after.nnz), delta=int(a_after.nnz - a_before.nnz))
    c3.metric("pairs changed", len(changes))
    st.dataframe(
        changes,
        hide_index=True,
        key=S.WI_CHANGES,
        column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("before", "after", "change")},
    )
    if len(labels_a) <= 40:
        left, right = st.columns(2)
        left.plotly_chart(F.affinity_heatmap(a_before, labels_b, title="before"), key=S.WI_HM_BEFORE)
        right.plotly_chart(F.affinity_heatmap(a_after, labels_a, title="after"), key=S.WI_HM_AFTER)

    st.markdown(f"**Attention of relation {name_md(r)}** (last relation layer, mean over heads)")
    att_b = get_attention(ctx.model, kg, seed)
    att_a = get_aligned_attention(ctx.model, after, kg, seed)
    s_after = F.attention_of_relation(att_a["relation"][-1], after.relation_index[r], labels_a)
    if r in kg.relation_index:
        s_before = F.attention_of_relation(att_b["relation"][-1], kg.relation_index[r], labels_b)
    else:
        s_before = pd.Series(dtype=float)
        st.caption(f"{name_md(r)} is a new relation: it had no attention before.")
    both = pd.DataFrame({"α before": s_before, "α after": s_after}).rename_axis("sender").reset_index()
    st.dataframe(
        both.sort_values("α after", ascending=False),
        hide_index=True,
        key=S.WI_ATTENTION,
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("α before", "α after")},
    )

    _ranking_section(ctx, before_p, after_p, after, triple)
    _keep_button(ctx, after)


def _keep_button(ctx: PageContext, after: KnowledgeGraph) -> None:
    if st.button("Keep this edit (apply it to the KG)", key=S.WI_APPLY):
        S.set_current_kg(st.session_state, after, S.edited_label(ctx.kg_label), edit=True)
        st.rerun()
