"""The per-KG leaderboard in the app: the Self-check page's section, and the recommended ranking beside InGram's.

:func:`render_leaderboard` (Self-check page): budget widget, Run, a progress bar and Cancel while it runs
(:class:`kgviz.ui.leaderboard_job.LeaderboardJob`), then the leaderboard (validation facts *chose*, test
facts *report*), per half-link scenario bars, the reliability diagram, the recommendation in words and
what was trained for how long. :func:`recommended_beside` (Predictions): the recommended ranking and
InGram's side by side, once a leaderboard of this KG has finished. :func:`ingram_temperature`: the
temperature fit on this KG's validation facts for the model shown, if the leaderboard ranked it.
"""

from __future__ import annotations

import streamlit as st

from kgviz.graph.data import KnowledgeGraph
from kgviz.evaluation.leaderboard import DEFAULT_BUDGET_S, Leaderboard
from kgviz.evaluation.leaderboard.recommended import RecommendedScorer
from kgviz.ranking.ranks import QueryRanking, rank_query
from kgviz.ui.figures.leaderboard import (
    leaderboard_frame,
    reliability_figure,
    scenario_figure,
    scenario_methods,
    trained_lines,
)
from kgviz.ui.context import PageContext
from kgviz.ui.leaderboard_job import LeaderboardJob, finished_job, job_for, start_job
from kgviz.ui.markup import escape_markdown

__all__ = [
    "RECOMMENDED_KEY",
    "render_leaderboard",
    "recommended_beside",
    "recommended_ranking",
    "recommended_options",
    "recommended_for_query",
    "ingram_temperature",
    "leaderboard_sentence",
]

LB_BUDGET, LB_RUN, LB_CANCEL = "lb_budget", "lb_run", "lb_cancel"
LB_TABLE, LB_SCENARIOS, LB_RELIABILITY, LB_CALIBRATED = "lb_table", "lb_scenarios", "lb_reliability", "lb_calibrated"
BESIDE = "lb_beside"
POLL_SECONDS = 0.5
RECOMMENDED_KEY = "recommended"  # the option key of the recommended ranking in a "Compare with" list


def ingram_temperature(board: Leaderboard | None, model_key: str) -> float | None:
    """The leaderboard's temperature of the InGram checkpoint ``model_key`` (``"pretrained:NL-0"``), if ranked."""
    if board is None or not model_key.startswith("pretrained:"):
        return None
    entry = board.calibration.get(f"InGram {model_key.removeprefix('pretrained:')}")
    return None if entry is None else float(entry["temperature"])


def leaderboard_sentence(board: Leaderboard) -> str:
    """The recommendation in words, and what the page does with it."""
    return board.sentence


def _live(job: LeaderboardJob) -> None:
    """Progress bar and Cancel; reruns itself while the job runs, then the whole page once."""

    @st.fragment(run_every=POLL_SECONDS if job.running else None)
    def live() -> None:
        if job.done:
            st.rerun(scope="app")
        st.progress(job.fraction, text=f"Leaderboard: {job.message} ({job.budget_s:g} s of training in all)")
        st.button("Cancel", key=LB_CANCEL, on_click=job.cancel, help="stop the leaderboard; nothing of it is kept")

    live()


def _show_board(board: Leaderboard, kg: KnowledgeGraph) -> None:
    st.success(escape_markdown(board.sentence), icon=":material/insights:")
    if board.recommendation.counting_only:
        st.warning("Nothing beats counting on this KG: Predictions ranks by relation-side frequency by default.")
    st.markdown(
        f"**{escape_markdown(board.protocol)}.** Of the held-out facts, {board.validation_facts} *chose* "
        f"(validation: the scorer, its weights, its temperature) and {board.test_facts} other ones *report* "
        "(test): a fact is never scored by anything that trained or tuned on it. MRR with a 95 % bootstrap "
        f"interval; both directions, filtered. {board.seconds:.0f} s in all."
    )
    trained = trained_lines(board)
    st.markdown("**Trained on this KG:** " + ("; ".join(trained) if trained else "nothing (budget 0)") + ".")
    for name, why in board.skipped.items():
        st.info(f"{name}: {why}.")
    st.dataframe(
        leaderboard_frame(board),
        hide_index=True,
        key=LB_TABLE,
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in leaderboard_frame(board).columns
            if c.endswith(("MRR", "Hits@1", "Hits@10"))
        },
    )
    st.plotly_chart(scenario_figure(board, scenario_methods(board)), key=LB_SCENARIOS)
    st.caption(
        "Half-link scenarios (Gregucci et al. 2026): for (h, r, ?) with answer t — was (h, r, ·) known, "
        "was (·, r, t) known; mirrored for head queries."
    )
    shown = st.radio(
        "calibration of",
        [n for n in board.calibration],
        index=list(board.calibration).index("recommended"),
        horizontal=True,
        key=LB_CALIBRATED,
    )
    st.plotly_chart(reliability_figure(board.calibration[shown], shown), key=LB_RELIABILITY)


def render_leaderboard(ctx: PageContext) -> None:
    """The leaderboard section of the Self-check page (module docstring)."""
    kg = ctx.kg
    st.markdown("### Which ranking to trust on this KG: the leaderboard")
    budget = float(
        st.number_input(
            "training budget (seconds, all trained models over all folds)",
            0.0,
            600.0,
            DEFAULT_BUDGET_S,
            step=5.0,
            key=LB_BUDGET,
            help="DistMult, RotatE and R-GCN are trained on each fold's known facts within this budget "
            "(kgviz.evaluation.leaderboard.DEFAULT_BUDGET_S by default). Results are kept per KG and budget.",
        )
    )
    job = job_for(kg, budget)
    if job is not None and job.running:
        _live(job)
        return
    if job is not None and job.ok and job.board is not None:
        _show_board(job.board, kg)
        return
    if job is not None and job.cancelled:
        st.info("The leaderboard was cancelled; nothing of it is kept.")
    elif job is not None and job.error:
        st.error(f"The leaderboard could not run on this KG: {job.error}")
    st.markdown(
        "Every model on the same held-out facts of this KG — each InGram checkpoint and ULTRA zero-shot, "
        "DistMult, RotatE and R-GCN trained here, counting and PageRank, each with and without the "
        "constraints — and a recommended ranking, which then leads Predictions for this KG."
    )
    if st.button("Run the leaderboard", key=LB_RUN, type="primary"):
        _live(start_job(kg, budget))


def recommended_beside(
    ctx: PageContext, direction: str, anchor: str, relation: str, top_k: int, ingram_frame, filter_known: bool
) -> None:
    """Once a leaderboard of this KG has finished: its recommended ranking (calibrated probabilities) and,
    by default, InGram's beside it (``ingram_frame``: the rows of InGram's table shown below)."""
    job = finished_job(ctx.kg)
    if job is None or job.board is None or job.scorer is None:
        st.caption("Run the leaderboard on the Self-check page to get a ranking chosen on this KG's own facts.")
        return
    board, scorer = job.board, job.scorer
    st.markdown("#### Recommended ranking for this KG")
    st.info(escape_markdown(board.sentence), icon=":material/insights:")
    if board.recommendation.counting_only:
        st.warning("Nothing beats counting on this KG: the recommended ranking is relation-side frequency.")
    ranking = recommended_ranking(ctx.kg, scorer, direction, anchor, relation, filter_known)
    rows = ranking.candidates[:top_k]
    recommended = {
        "rank": [c.rank for c in rows],
        "entity": [c.name for c in rows],
        "probability": [c.probability for c in rows],
        "known": [c.known for c in rows],
    }
    beside = st.toggle("show InGram's ranking beside", value=True, key=BESIDE)
    left, right = st.columns(2) if beside else (st.container(), None)
    prob = st.column_config.NumberColumn(
        format="%.3f",
        help=f"calibrated: softmax(score / {scorer.temperature:.3g}), T fit on this KG's validation facts",
    )
    left.markdown(f"**Recommended: {escape_markdown(board.recommendation.name)}**")
    left.dataframe(recommended, hide_index=True, key="lb_recommended", column_config={"probability": prob})
    if right is not None:
        right.markdown(f"**InGram ({escape_markdown(ctx.model_label)})** — its own ranking, in full below")
        right.dataframe(ingram_frame[["rank", "entity", "probability", "known"]], hide_index=True, key="lb_ingram")


def recommended_ranking(
    kg: KnowledgeGraph, scorer: RecommendedScorer, direction: str, anchor: str, relation: str, filter_known: bool
) -> QueryRanking:
    """The recommended ranking of one query: :func:`kgviz.ranking.ranks.rank_query` with the recommendation's own
    constraint variant and its temperature."""
    return rank_query(
        scorer,
        anchor,
        relation,
        direction,
        graph=kg,
        exclude_self=scorer.exclude_self,
        known_side=scorer.known_side,
        filter_known=filter_known,
        temperature=scorer.temperature,
    )


def recommended_options(ctx: PageContext) -> list[tuple[str, str]]:
    """Hook for a generic "Compare with" list (``kgviz.ui.side_by_side.EXTRA_OPTIONS``): the recommended
    ranking of this KG as ``(key, label)``, once its leaderboard has finished; else nothing."""
    job = finished_job(ctx.kg)
    if job is None or job.board is None:
        return []
    return [(RECOMMENDED_KEY, f"recommended for this KG: {job.board.recommendation.name}")]


def recommended_for_query(ctx: PageContext, key: str, query) -> QueryRanking | None:
    """Hook for ``kgviz.ui.side_by_side.EXTRA_RANKINGS``: the recommended ranking of ``query`` (its
    ``direction``, ``anchor``, ``relation``, ``filter_known``) when ``key`` is :data:`RECOMMENDED_KEY`."""
    job = finished_job(ctx.kg)
    if key != RECOMMENDED_KEY or job is None or job.scorer is None:
        return None
    return recommended_ranking(ctx.kg, job.scorer, query.direction, query.anchor, query.relation, query.filter_known)
