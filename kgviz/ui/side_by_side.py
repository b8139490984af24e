"""Predictions side by side: two models' rankings of one query, each candidate with its rank under the other.

- :func:`side_by_side_frames` (pure): two :class:`kgviz.ranking.ranks.QueryRanking` of the same query (same
  constraints, same filter: the one ranking path, :func:`kgviz.ui.cache.query_ranking`) → two tables;
- :func:`comparison_options` — what "Compare with:" offers, as ``(key, label)``: every model of the catalog
  but the current one. **Hook**: another option (e.g. a recommended ranking) is added by appending a
  function ``ctx → list[(key, label)]`` to :data:`EXTRA_OPTIONS` and a function ``(ctx, key, query) →
  QueryRanking | None`` to :data:`EXTRA_RANKINGS`;
- :func:`render_side_by_side` — the control and the two tables (Streamlit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
import streamlit as st

from kgviz.catalog import ULTRA_PREFIX, ModelChoice, discover_models
from kgviz.defaults import DEFAULT_MODEL
from kgviz.ranking.ranks import QueryRanking
from kgviz.ui import state as S
from kgviz.ui.cache import LoadedModel, load_model, query_ranking
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown, name_md

__all__ = [
    "NO_COMPARISON",
    "EXTRA_OPTIONS",
    "EXTRA_RANKINGS",
    "Query",
    "side_by_side_frames",
    "other_rank_column",
    "comparison_options",
    "default_comparison",
    "compared_ranking",
    "render_side_by_side",
]

NO_COMPARISON = "none"
DEFAULT_ULTRA = f"{ULTRA_PREFIX}ultra-3g"
DEFAULT_INGRAM = f"pretrained:{DEFAULT_MODEL}"


@dataclass(frozen=True)
class Query:
    """One query of the Predictions view and the ranking settings both sides share."""

    direction: str
    anchor: str
    relation: str
    seeds: tuple[int, ...]  # InGram's draws (a model without draws ignores them)
    exclude_self: bool
    known_side: bool
    filter_known: bool
    top_k: int


# the hook: more options of "Compare with:" and how each yields its ranking (None: not this function's key)
EXTRA_OPTIONS: list[Callable[[PageContext], list[tuple[str, str]]]] = []
EXTRA_RANKINGS: list[Callable[[PageContext, str, Query], QueryRanking | None]] = []


def other_rank_column(other_label: str) -> str:
    return f"rank under {other_label}"


def side_by_side_frames(
    main: QueryRanking, other: QueryRanking, main_label: str, other_label: str, top_k: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``top_k`` rows of each ranking — rank, entity, score, constraint note — and, for each
    candidate, its rank in the other ranking (its row there, 1-based: both rank the same candidates under the
    same constraints; empty where the other does not list it, e.g. filtered)."""

    def frame(ranking: QueryRanking, against: QueryRanking, label: str) -> pd.DataFrame:
        where = {c.entity: c.rank for c in against.candidates}
        rows = ranking.candidates[:top_k]
        return pd.DataFrame(
            {
                "rank": [c.rank for c in rows],
                "entity": [c.name for c in rows],
                "score": [c.score for c in rows],
                other_rank_column(label): pd.array([where.get(c.entity) for c in rows], dtype="Int64"),
                "note": [c.note for c in rows],
            }
        )

    return frame(main, other, other_label), frame(other, main, main_label)


def _catalog() -> dict[str, ModelChoice]:
    return {c.key: c for c in discover_models()}


def comparison_options(ctx: PageContext) -> list[tuple[str, str]]:
    """``(key, label)`` of what Predictions can compare with: nothing, every catalog model but the current one
    (InGram checkpoints, ULTRA, the untrained InGram), then the options of :data:`EXTRA_OPTIONS`."""
    out = [(NO_COMPARISON, "nothing (one ranking)")]
    out += [(c.key, c.label) for c in _catalog().values() if c.key != ctx.model.key]
    for extra in EXTRA_OPTIONS:
        out += extra(ctx)
    return out


def default_comparison(ctx: PageContext, options: list[tuple[str, str]]) -> str:
    """ULTRA 3g beside InGram, the default InGram beside ULTRA (else nothing)."""
    keys = [k for k, _ in options]
    wanted = DEFAULT_ULTRA if ctx.model.is_ingram else DEFAULT_INGRAM
    return wanted if wanted in keys else NO_COMPARISON


def compared_model(key: str, device: str) -> LoadedModel | None:
    """The catalog model ``key`` loaded (cached), or ``None`` when the catalog has no such key."""
    choice = _catalog().get(key)
    if choice is None:
        return None
    return load_model(choice.key, None if choice.path is None else str(choice.path), device)


def compared_ranking(ctx: PageContext, key: str, q: Query) -> QueryRanking | None:
    """The ranking of ``q`` by the option ``key`` — the same path and settings as the main ranking."""
    for extra in EXTRA_RANKINGS:
        found = extra(ctx, key, q)
        if found is not None:
            return found
    model = compared_model(key, ctx.model.device)
    if model is None:
        return None
    return query_ranking(
        model,
        ctx.kg,
        q.seeds,
        q.direction,
        q.anchor,
        q.relation,
        exclude_self=q.exclude_self,
        known_side=q.known_side,
        filter_known=q.filter_known,
        top_k=q.top_k,
    )


def render_side_by_side(ctx: PageContext, main: QueryRanking, q: Query) -> tuple[str, QueryRanking | None]:
    """ "Compare with: [model]" and, when a model is chosen, the two rankings side by side.
    Returns the chosen key and its ranking (``None`` for nothing)."""
    options = comparison_options(ctx)
    labels = dict(options)
    keys = list(labels)
    if st.session_state.get(S.Q_COMPARE) not in keys:  # first draw, or the current model itself: the default
        st.session_state[S.Q_COMPARE] = default_comparison(ctx, options)  # set, so the browser shows it too
    key = st.selectbox(
        "Compare with:",
        keys,
        key=S.Q_COMPARE,
        format_func=labels.__getitem__,
        help="A second model ranks the same query with the same constraints and filter; each table gives, for "
        "each candidate, its rank under the other model.",
    )
    if key is None or key == NO_COMPARISON:
        return NO_COMPARISON, None
    other = compared_ranking(ctx, key, q)
    if other is None:
        st.warning(f"{labels[key]} cannot rank this query here.")
        return key, None
    left_frame, right_frame = side_by_side_frames(main, other, ctx.model_label, labels[key], q.top_k)
    same = len(set(left_frame["entity"]) & set(right_frame["entity"]))
    top_a, top_b = main.candidates[0].name, other.candidates[0].name
    agree = "agree on" if top_a == top_b else "differ on"
    st.markdown(
        f"**Side by side** — the two models {agree} the first answer "
        f"({name_md(top_a)} / {name_md(top_b)}); "
        f"{same} of the top {len(left_frame)} in common."
    )
    number = {"score": st.column_config.NumberColumn(format="%.4f")}
    left, right = st.columns(2)
    for col, frame, label, table_key in (
        (left, left_frame, ctx.model_label, S.SBS_MAIN),
        (right, right_frame, labels[key], S.SBS_OTHER),
    ):
        col.markdown(f"**{escape_markdown(label)}**")
        col.dataframe(frame, hide_index=True, key=table_key, column_config=number)
    return key, other
