"""Predictions page: ranked tails or heads of a query, an ensemble of draws, the stored draw."""
from __future__ import annotations

import streamlit as st

from ...inference import STORED_DRAW, UnknownNameError
from .. import figures as F
from .. import state as S
from ..cache import ranking
from ..context import PageContext
from ..markup import escape_markdown
from ..model_columns import add_model_columns
from ..widgets import default_index, export_plotly

DIRECTIONS = {"tail": "tail (head, relation, ?)", "head": "head (?, relation, tail)"}


def query_widgets(ctx: PageContext) -> tuple[str, int, int]:
    """Direction, anchor entity id and relation id of the query; defaults follow the selection."""
    kg = ctx.kg
    direction = st.radio("Predict", list(DIRECTIONS), format_func=DIRECTIONS.__getitem__, horizontal=True,
                         key=S.Q_DIR, bind="query-params")
    default_ent = ctx.ent if ctx.ent is not None else int(kg.triples[0, 0])
    default_rel = ctx.rel % kg.num_relations if ctx.rel is not None else int(kg.triples[0, 1])
    entities, relations = list(range(kg.num_entities)), list(range(kg.num_relations))
    S.forget_invalid(st.session_state, S.Q_ANCHOR, entities)
    S.forget_invalid(st.session_state, S.Q_REL, relations)
    c1, c2 = st.columns(2)
    anchor = c1.selectbox("head" if direction == "tail" else "tail", entities,
                          index=default_index(S.Q_ANCHOR, default_ent), key=S.Q_ANCHOR,
                          format_func=kg.entities.__getitem__, bind="query-params")
    relation = c2.selectbox("relation", relations, index=default_index(S.Q_REL, default_rel), key=S.Q_REL,
                            format_func=kg.relations.__getitem__, bind="query-params")
    return direction, default_ent if anchor is None else anchor, default_rel if relation is None else relation


def _stored_checkbox(ctx: PageContext) -> bool:
    """Whether to rank with the checkpoint's stored draw (offered only when it has one for this KG)."""
    if ctx.stored is None or ctx.stored_info is None:
        return False
    info = ctx.stored_info
    return st.checkbox(
        f"use the draw stored in the checkpoint (seed {'?' if info.seed is None else info.seed})", value=False,
        key=S.Q_STORED,
        help=f"This checkpoint keeps, for this graph, the draw with the best validation MRR among "
             f"{len(info.pool)} draws ({info.valid.get('MRR', float('nan')):.3f} on valid), as the "
             "authors' train.py saves it and their test.py uses it: the paper's figures are those of such "
             "a chosen draw. Unticked: random draws.")


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    st.caption("**What am I looking at?** InGram's score f(h, r, t) = Σ h ⊙ W r ⊙ t for every "
               "candidate entity, highest first. Entity and relation vectors come from a forward "
               "pass over this KG that starts from random features, so the ranking depends on the "
               "draw: average over an ensemble of draws and see how much each rank moves.")
    direction, anchor_id, relation_id = query_widgets(ctx)
    anchor, relation = kg.entities[anchor_id], kg.relations[relation_id]
    use_stored = _stored_checkbox(ctx)
    c1, c2, c3, c4 = st.columns(4)
    top_k = int(c1.number_input("top k", 1, 200, 10, key=S.Q_TOPK))
    seed = int(c2.number_input("first seed", 0, 10_000, 0, key=S.Q_SEED, disabled=use_stored))
    k = int(c3.number_input("ensemble size K", 1, 16, 1, key=S.Q_ENSEMBLE, disabled=use_stored,
                            help="Average scores over K random draws: seeds first seed … first seed + K − 1."))
    filter_known = c4.checkbox("filter known facts", value=False, key=S.Q_FILTER)
    seeds = (STORED_DRAW,) if use_stored else tuple(range(seed, seed + k))
    k = len(seeds)
    frame = ranking(ctx.model, kg, seeds, direction, anchor, relation, top_k, filter_known, ctx.stored_for(seeds))
    query = f"({anchor}, {relation}, ?)" if direction == "tail" else f"(?, {relation}, {anchor})"
    st.markdown(f"#### {escape_markdown(query)}")
    if frame.empty:
        st.warning("No candidates left (every entity is a known answer).")
        return
    m1, m2 = st.columns(2)
    m1.metric("top-1", frame["entity"].iloc[0])
    S.forget_invalid(st.session_state, S.Q_EXPECTED, range(kg.num_entities))
    expected = m2.selectbox("expected answer", list(range(kg.num_entities)), index=None, key=S.Q_EXPECTED,
                            format_func=kg.entities.__getitem__, bind="query-params",
                            placeholder="rank of an answer you expect…")
    if expected is not None:
        predictor = ctx.predictor(seeds)
        try:
            r_f = predictor.rank_of(anchor_id, relation_id, expected, direction, filtered=True)
            r_raw = predictor.rank_of(anchor_id, relation_id, expected, direction, filtered=False)
        except UnknownNameError as exc:
            st.error(str(exc))
        else:
            m2.markdown(f"**{escape_markdown(kg.entities[expected])}**: rank **{r_f}** filtered (other known "
                        f"answers removed), {r_raw} raw, of {kg.num_entities}.")
    frame = add_model_columns(ctx, frame, direction, anchor_id, relation_id, filter_known)
    st.dataframe(frame, hide_index=True, key=S.RANKING_TABLE,
                 column_config={"score": st.column_config.NumberColumn(format="%.4f"),
                                "score std": st.column_config.NumberColumn(format="%.4f"),
                                "known": st.column_config.CheckboxColumn(help="already a triple of the KG")})
    st.download_button("Export ranking (CSV)", frame.to_csv(index=False), file_name="ranking.csv",
                       mime="text/csv", key=S.EXPORT_RANKING, on_click="ignore")
    fig = F.ranking_bar(frame, title=("scores of the stored draw" if use_stored else f"scores, mean over {k} draw(s)")
                        + "; grey = known fact")
    st.plotly_chart(fig, key=S.RANKING_BAR)
    export_plotly(fig, file_name="ranking.html", key=S.EXPORT_RANKING_FIG)
    if k > 1:
        st.markdown("**Rank spread over the draws** (best and worst rank of each candidate)")
        st.plotly_chart(F.rank_spread_figure(frame), key=S.RANK_SPREAD)
