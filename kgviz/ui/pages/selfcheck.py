"""Self-check page: how well the current model predicts the current KG's own triples, beside baselines.

Held-out triples (every one in turn below 300 triples, else a seeded 10 %) are ranked from the rest
by :func:`kgviz.evaluation.selfcheck.self_check`; the result is kept per KG and model (:mod:`kgviz.ui.cache`).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from kgviz.graph.data import KnowledgeGraph
from kgviz.evaluation.selfcheck import SelfCheck, held_out_triples
from kgviz.ranking.stability import self_check_verdict
from kgviz.ui import state as S
from kgviz.ui.cache import LoadedModel, run_self_check, self_check_seeds, stored_self_check
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown
from kgviz.ui.leaderboard_view import render_leaderboard
from kgviz.ui.figures.ranking import MAIN_METHODS, held_out_frame, self_check_bar, self_check_metrics_frame
from kgviz.ui.widgets import page_intro

INTRO = (
    "How well does InGram predict *this* KG? Each held-out triple is "
    "removed from the KG and its tail and head are ranked from what remains — with the current "
    "model (an ensemble of draws, raw and with the constraints) and with baselines that only count "
    "the known facts, raw and under the same constraints (every rule the model gets, the baselines get "
    "too). If InGram does no better than relation-tail frequency here, its rankings on "
    "this KG say little more than how often each entity fills a relation."
)

CHART_METHODS = (
    "InGram",
    "InGram + both constraints",
    "relation-tail frequency",
    "relation-tail frequency + both constraints",
    "global degree + both constraints",
    "personalized PageRank + both constraints",
)


def self_check_with_progress(
    model: LoadedModel, kg: KnowledgeGraph, what: str, seeds: tuple[int, ...] | None = None
) -> SelfCheck | None:
    """The stored self-check of ``model`` on ``kg``, else run it now under a progress bar (``None``: an error shown).
    ``seeds``: InGram's draws (default: the model's self-check draws)."""
    found = stored_self_check(model, kg, seeds)
    if found is not None:
        return found
    bar = st.progress(0.0, text=f"Self-check of {what}: starting…")

    def progress(fraction: float, msg: str) -> None:
        bar.progress(min(1.0, fraction), text=f"Self-check of {what}: {msg}")

    try:
        result = run_self_check(model, kg, progress, seeds)
    except (ValueError, RuntimeError) as exc:
        bar.empty()
        st.error(f"The self-check could not run on this KG: {exc}")
        return None
    bar.empty()
    return result


def _on_table_select(held: np.ndarray) -> None:
    """Callback of the held-out table: open the selected triple as the query in Predictions."""
    rows = st.session_state[S.SC_TABLE].selection.rows
    if rows:
        S.open_query(st.session_state, held[rows[0]])


def _on_open(held: np.ndarray) -> None:
    """Callback of "Open in Predictions": the triple picked in the select box."""
    i = st.session_state.get(S.SC_PICK)
    if i is not None:
        S.open_query(st.session_state, held[i])


def show_result(result: SelfCheck, model_label: str) -> None:
    """Metrics side by side (table and bars), the verdict, and the held-out triples with their ranks."""
    name = result.model_name
    draws = (
        f"InGram: mean of {len(result.seeds)} draws (seeds {result.seeds[0]}–{result.seeds[-1]})"
        if result.seeds
        else (f"{name}: no random draws" if name in result.metrics else "no model")
    )
    st.markdown(
        f"**{escape_markdown(result.protocol)}**, {result.num_folds} fold(s); {draws}; every answer "
        "ranked (filtered) from the KG without its fold, both as a tail and as a head."
    )
    verdict = self_check_verdict(result.metrics, f"{name} + both constraints")
    methods = [m.replace("InGram", name, 1) if m.startswith("InGram") else m for m in CHART_METHODS]
    st.markdown(f"**Verdict ({escape_markdown(model_label)}):** {escape_markdown(verdict)}")
    left, right = st.columns([1, 1.2])
    left.dataframe(
        self_check_metrics_frame(result),
        hide_index=True,
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in ("MRR", "Hits@1", "Hits@10")},
    )
    right.plotly_chart(self_check_bar({"": result}, methods), key=S.SC_CHART)
    st.markdown(
        "**Held-out triples and their ranks** (click a column to sort, a row to open it as the query in Predictions)"
    )
    held = result.held_out
    st.dataframe(
        held_out_frame(result, [m.replace("InGram", name, 1) for m in MAIN_METHODS]),
        hide_index=True,
        key=S.SC_TABLE,
        on_select=partial(_on_table_select, held),
        selection_mode="single-row",
    )
    kg = result.kg
    names = [f"{kg.entities[h]} | {kg.relations[r]} | {kg.entities[t]}" for h, r, t in held.tolist()]
    c1, c2 = st.columns([3, 1])
    S.forget_invalid(st.session_state, S.SC_PICK, range(len(held)))
    c1.selectbox(
        "held-out triple",
        list(range(len(held))),
        index=None,
        key=S.SC_PICK,
        format_func=names.__getitem__,
        placeholder="pick a held-out triple…",
        label_visibility="collapsed",
    )
    c2.button("Open in Predictions", key=S.SC_OPEN, on_click=_on_open, args=(held,))


def render(ctx: PageContext) -> None:
    kg = ctx.kg
    page_intro(INTRO)
    render_leaderboard(ctx)
    st.markdown(f"### The self-check of {escape_markdown(ctx.model_label)}")
    try:
        _, protocol = held_out_triples(kg)
    except ValueError as exc:
        st.error(f"No self-check on this KG: {exc}")
        return
    result = stored_self_check(ctx.model, kg)
    if result is None:
        k = len(self_check_seeds(ctx.model, kg))
        who = f"InGram with {k} draws" if ctx.model.is_ingram else f"{escape_markdown(ctx.model_label)} (no draws)"
        st.info(f"This KG: {protocol}; {who}. Results are kept for this KG and model.")
        if not st.button("Run the self-check", key=S.SC_RUN, type="primary"):
            return
        result = self_check_with_progress(ctx.model, kg, ctx.model_label)
        if result is None:
            return
    show_result(result, ctx.model_label)
