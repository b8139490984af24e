"""Predictions page: ranked tails or heads of a query over an ensemble of draws (or the stored draw), under
the inference-time constraints, with the spread of ranks over the draws and the frequency baseline beside."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import STORED_DRAW, UnknownNameError
from kgviz.defaults import DEFAULT_MODEL as DEFAULTS_MODEL
from kgviz.defaults import DEFAULTS
from kgviz.ranking.report import PredictSettings
from kgviz.ranking.ranks import TIER_NOTES, QueryRanking
from kgviz.ranking.stability import stability
from kgviz.ui.figures import views as F
from kgviz.ui import state as S
from kgviz.ui.cache import default_ensemble, query_ranking
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown, name_html, name_md, short_name, text_with_short_names
from kgviz.ui.model_columns import add_model_columns
from kgviz.ui.side_by_side import Query, comparison_options, compared_model, render_side_by_side
from kgviz.ui.ultra_views import has_paths, why_this_answer
from kgviz.ui.figures.ranking import lowest_score, query_ranking_frame
from kgviz.ui.leaderboard_job import finished_job
from kgviz.ui.leaderboard_view import ingram_temperature, recommended_beside
from kgviz.ui.widgets import default_index, export_plotly, page_intro

INTRO = (
    "InGram's score f(h, r, t) = Σ h ⊙ W r ⊙ t for every "
    "candidate entity, highest first. Entity and relation vectors come from a forward "
    "pass over this KG that starts from random features, so the ranking depends on the "
    f"draw: by default the scores are averaged over {DEFAULTS.draws} draws (the same on every machine), "
    "and each candidate's best and worst rank over them is shown."
)

SCORER_INTRO = (
    "{model} scores every candidate entity, highest first. ULTRA has no random draws: it passes messages from "
    "the query's anchor along the KG's triples, conditioned on the query relation (through its graph of "
    "relations), so the same query always gets the same scores. **Why this answer?** below shows the paths "
    "that carried each answer."
)

DIRECTIONS = {"tail": "tail (head, relation, ?)", "head": "head (?, relation, tail)"}


def query_widgets(ctx: PageContext) -> tuple[str, int, int]:
    """Direction, anchor entity id and relation id of the query; defaults follow the selection."""
    kg = ctx.kg
    direction = st.radio(
        "Predict",
        list(DIRECTIONS),
        format_func=DIRECTIONS.__getitem__,
        horizontal=True,
        key=S.Q_DIR,
        bind="query-params",
    )
    default_ent = ctx.ent if ctx.ent is not None else int(kg.triples[0, 0])
    default_rel = ctx.rel % kg.num_relations if ctx.rel is not None else int(kg.triples[0, 1])
    entities, relations = list(range(kg.num_entities)), list(range(kg.num_relations))
    S.forget_invalid(st.session_state, S.Q_ANCHOR, entities)
    S.forget_invalid(st.session_state, S.Q_REL, relations)
    c1, c2 = st.columns(2)
    anchor = c1.selectbox(
        "head" if direction == "tail" else "tail",
        entities,
        index=default_index(S.Q_ANCHOR, default_ent),
        key=S.Q_ANCHOR,
        format_func=kg.entities.__getitem__,
        bind="query-params",
    )
    relation = c2.selectbox(
        "relation",
        relations,
        index=default_index(S.Q_REL, default_rel),
        key=S.Q_REL,
        format_func=kg.relations.__getitem__,
        bind="query-params",
    )
    return direction, default_ent if anchor is None else anchor, default_rel if relation is None else relation


def _stored_checkbox(ctx: PageContext) -> bool:
    """Whether to rank with the checkpoint's stored draw (offered only when it has one for this KG)."""
    if ctx.stored is None or ctx.stored_info is None:
        return False
    info = ctx.stored_info
    return st.checkbox(
        f"use the draw stored in the checkpoint (seed {'?' if info.seed is None else info.seed})",
        value=False,
        key=S.Q_STORED,
        help=f"This checkpoint keeps, for this graph, the draw with the best validation MRR among "
        f"{len(info.pool)} draws ({info.valid.get('MRR', float('nan')):.3f} on valid), as the "
        "authors' train.py saves it and their test.py uses it: the paper's figures are those of such "
        "a chosen draw. Unticked: random draws.",
    )


def _draws(ctx: PageContext, use_stored: bool) -> tuple[int, tuple[int, ...], bool]:
    """Top k, the draws (seeds) and the known-facts filter, from the widgets; K empty = the default ensemble."""
    auto = default_ensemble(ctx.model, ctx.kg)
    if not ctx.model.is_ingram:  # no draws: no seed or ensemble widgets
        c1, c4 = st.columns(2)
        top_k = int(c1.number_input("top k", 1, 200, 10, key=S.Q_TOPK))
        return top_k, (), c4.checkbox("filter known facts", value=False, key=S.Q_FILTER)
    c1, c2, c3, c4 = st.columns(4)
    top_k = int(c1.number_input("top k", 1, 200, 10, key=S.Q_TOPK))
    seed = int(c2.number_input("first seed", 0, 10_000, 0, key=S.Q_SEED, disabled=use_stored))
    k = c3.number_input(
        "ensemble size K",
        1,
        64,
        None,
        key=S.Q_ENSEMBLE,
        disabled=use_stored,
        placeholder=f"default: {auto}",
        help=f"Average scores over K random draws: seeds first seed … first seed + K − 1. Empty: "
        f"the default, {auto} draws (kgviz.defaults; the same on every machine and in `kgviz predict`).",
    )
    filter_known = c4.checkbox("filter known facts", value=False, key=S.Q_FILTER)
    seeds = (STORED_DRAW,) if use_stored else tuple(range(seed, seed + (auto if k is None else int(k))))
    return top_k, seeds, filter_known


def _constraints() -> tuple[bool, bool]:
    """The two inference-time constraints (both on by default), stated above the table."""
    c1, c2 = st.columns(2)
    exclude_self = c1.checkbox(
        "exclude the query's own entity",
        value=DEFAULTS.exclude_self,
        key=S.Q_EXCLUDE_SELF,
        help="Put the query's own entity last, unless the KG holds a self-loop (x, r, x) of "
        "this relation: on small dense KGs the model often ranks it first.",
    )
    known_side = c2.checkbox(
        "rank candidates seen only on the other side of the relation after the others",
        value=DEFAULTS.known_side,
        key=S.Q_KNOWN_SIDE,
        help="InGram's score treats (h, r, t) and (t, r, h) alike; an entity never seen on "
        "the asked side of the relation (for a tail query: never a tail of r) is ranked "
        "after every entity that was.",
    )
    return exclude_self, known_side


def _constraint_line(exclude_self: bool, known_side: bool, ranking: QueryRanking) -> str:
    on = [
        t
        for t, flag in (
            (f"the query's own entity is excluded (marked '{TIER_NOTES[2]}')", exclude_self),
            (
                f"candidates never on this side of the relation come after the others (marked '{TIER_NOTES[1]}')",
                known_side,
            ),
        )
        if flag
    ]
    moved = sum(c.tier > 0 for c in ranking.candidates)
    if not on:
        return "**Constraints: none** — every candidate is ordered by its score alone."
    return f"**Constraints on:** {'; '.join(on)} — {moved} of {len(ranking.candidates)} candidates marked."


def _expected_answer(ranking: QueryRanking, column: DeltaGenerator, kg: KnowledgeGraph) -> None:
    S.forget_invalid(st.session_state, S.Q_EXPECTED, range(kg.num_entities))
    expected = column.selectbox(
        "expected answer",
        list(range(kg.num_entities)),
        index=None,
        key=S.Q_EXPECTED,
        format_func=kg.entities.__getitem__,
        bind="query-params",
        placeholder="rank of an answer you expect…",
    )
    if expected is not None:
        r_f, r_raw = ranking.rank_of(expected, filtered=True), ranking.rank_of(expected, filtered=False)
        column.markdown(
            f"**{name_md(kg.entities[expected])}**: rank **{r_f}** filtered (other known "
            f"answers removed), {r_raw} raw, of {kg.num_entities}."
        )


def _defaults_line(ctx: PageContext, seeds: tuple[int, ...], exclude_self: bool, known_side: bool) -> str:
    """Which of this ranking's settings are the defaults (:mod:`kgviz.defaults`, as `kgviz predict` says)."""
    default_model = f"pretrained:{DEFAULTS_MODEL}" == ctx.model.key
    settings = PredictSettings(ctx.model_label, seeds, exclude_self, known_side, False, 0, "", default_model)
    used = settings.defaults_used()
    return f"Defaults in use (kgviz.defaults, as `kgviz predict`): {', '.join(used) if used else 'none'}."


def _stability_box(ranking: QueryRanking, draws: str) -> None:
    """The stability verdict in words: green only when stable (:data:`kgviz.ranking.stability.STABLE_TOP1`), a note when the
    order varies between draws, a warning when it is unstable."""
    verdict = stability(ranking)
    if verdict is None:
        st.info(
            f"One draw ({draws}): nothing shows how much this order depends on the draw. Leave K empty "
            "for the default ensemble."
        )
        return
    message = text_with_short_names(verdict.message, [c.name for c in ranking.candidates])  # the table has them whole
    if verdict.level == "stable":
        st.success(message, icon=":material/check_circle:")
    elif verdict.level == "varies":
        st.info(message, icon=":material/info:")
    else:
        st.warning(message, icon=":material/warning:")


def _probability_help(temperature: float | None) -> str:
    """What the probability column is: calibrated on this KG's validation facts, or uncalibrated."""
    where = "softmax of the scores averaged over the draws, over the candidates the constraints keep in front"
    if temperature is None:
        return (
            f"uncalibrated: {where}, temperature 1; InGram is trained with a margin loss, so this compares "
            "candidates, it is not a calibrated chance (run the leaderboard on the Self-check page to calibrate)"
        )
    return f"calibrated: {where}, divided by the temperature {temperature:.3g} fit on this KG's validation facts"


def _column_config(draws: str, direction: str, relation: str, temperature: float | None = None) -> dict:
    """What each column of the ranking table means (shown on hover)."""
    return {
        "probability": st.column_config.NumberColumn(format="%.3f", help=_probability_help(temperature)),
        "score": st.column_config.NumberColumn(format="%.4f", help=f"raw score f, {draws}"),
        "score std": st.column_config.NumberColumn(format="%.4f", help="standard deviation over the draws"),
        "best rank": st.column_config.NumberColumn(help="best rank under a single draw"),
        "worst rank": st.column_config.NumberColumn(help="worst rank under a single draw"),
        "freq. rank": st.column_config.NumberColumn(
            help=f"rank under relation-{direction} frequency: how often the entity is a {direction} of "
            f"'{relation}' in the KG (same candidates)"
        ),
        "known": st.column_config.CheckboxColumn(help="already a triple of the KG"),
        "note": st.column_config.TextColumn(help="placed after the others by a constraint"),
    }


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    page_intro(INTRO if ctx.model.is_ingram else SCORER_INTRO.format(model=escape_markdown(ctx.model_label)))
    direction, anchor_id, relation_id = query_widgets(ctx)
    anchor, relation = kg.entities[anchor_id], kg.relations[relation_id]
    use_stored = _stored_checkbox(ctx)
    top_k, seeds, filter_known = _draws(ctx, use_stored)
    a, r = name_html(anchor), name_html(relation)  # escaped, cut, the whole name on hover
    st.markdown(f"#### ({a}, {r}, ?)" if direction == "tail" else f"#### (?, {r}, {a})", unsafe_allow_html=True)
    exclude_self, known_side = _constraints()
    job = finished_job(kg)
    temperature = ingram_temperature(job.board if job is not None else None, ctx.model.key)
    try:
        ranking = query_ranking(
            ctx.model,
            kg,
            seeds,
            direction,
            anchor,
            relation,
            exclude_self=exclude_self,
            known_side=known_side,
            filter_known=filter_known,
            top_k=top_k,
            temperature=1.0 if temperature is None else temperature,
            _stored=ctx.stored_for(seeds),
        )
    except UnknownNameError as exc:
        st.error(str(exc))
        return
    if not ranking.candidates:
        st.warning("No candidates left (every entity is a known answer).")
        return
    recommended_beside(ctx, direction, anchor, relation, top_k, query_ranking_frame(ranking, top_k), filter_known)
    st.markdown(f"#### The ranking of {name_md(ctx.model_label)}")
    st.markdown(_constraint_line(exclude_self, known_side, ranking))
    st.caption(_defaults_line(ctx, seeds, exclude_self, known_side))
    if not seeds:
        draws = "no random draws"
        st.caption(f"{escape_markdown(ctx.model_label)} has no random draws: these scores are the same every time.")
    else:
        draws = "the stored draw" if use_stored else f"mean of {len(seeds)} draws (seeds {seeds[0]}–{seeds[-1]})"
        _stability_box(ranking, draws)
    st.markdown(
        f"**Beside relation-{direction} frequency** (a baseline from the known facts alone): "
        f"{escape_markdown(ranking.frequency.verdict)}."
    )
    m1, m2 = st.columns(2)
    m1.metric("top-1", short_name(ranking.candidates[0].name), help=ranking.candidates[0].name)
    _expected_answer(ranking, m2, kg)
    frame = query_ranking_frame(ranking, top_k)
    frame = add_model_columns(ctx, frame, direction, anchor_id, relation_id, filter_known)
    st.dataframe(
        frame,
        hide_index=True,
        key=S.RANKING_TABLE,
        column_config=_column_config(draws, direction, relation, temperature),
    )
    st.download_button(
        "Export ranking (CSV)",
        frame.to_csv(index=False),
        file_name="ranking.csv",
        mime="text/csv",
        key=S.EXPORT_RANKING,
        on_click="ignore",
    )
    fig = F.ranking_bar(
        frame,
        floor=lowest_score(ranking),
        title=f"scores, {draws}; grey = known fact, orange = placed after by a constraint",
    )
    st.plotly_chart(fig, key=S.RANKING_BAR)
    export_plotly(fig, file_name="ranking.html", key=S.EXPORT_RANKING_FIG)
    if len(seeds) > 1:
        st.markdown("**Rank spread over the draws** (best and worst rank of each candidate)")
        st.plotly_chart(F.rank_spread_figure(frame), key=S.RANK_SPREAD)
    query = Query(direction, anchor, relation, seeds or DEFAULTS.seeds(), exclude_self, known_side, filter_known, top_k)
    _beside(ctx, ranking, query, anchor_id, relation_id)


def _beside(ctx: PageContext, ranking: QueryRanking, query: Query, anchor_id: int, relation_id: int) -> None:
    """The second model side by side, and "Why this answer?" for the first of the two that has paths (ULTRA)."""
    st.divider()
    key, other = render_side_by_side(ctx, ranking, query)
    if has_paths(ctx.model):
        why_this_answer(ctx, ctx.model, ctx.model_label, ranking, query.direction, anchor_id, relation_id)
        return
    compared = compared_model(key, ctx.model.device) if other is not None else None
    if other is not None and has_paths(compared):
        label = dict(comparison_options(ctx)).get(key, key)
        why_this_answer(ctx, compared, label, other, query.direction, anchor_id, relation_id)  # type: ignore[arg-type]
