"""The classroom's closing step, "From InGram to ULTRA": both relation graphs of the lecture's KG and both
rankings of the lecture's query, ranked as Predictions ranks them (:func:`kgviz.ui.cache.query_ranking`, the
defaults' constraints; InGram with the default draws)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kgviz.defaults import DEFAULTS
from kgviz.ranking.ranks import QueryRanking
from kgviz.ui import state as S
from kgviz.ui.cache import LoadedModel, query_ranking, relation_matrices
from kgviz.ui.figures.classroom import relation_figure
from kgviz.ui.classroom.step_kit import StepContext, StepFigure
from kgviz.ui.markup import name_md
from kgviz.ui.side_by_side import DEFAULT_ULTRA, compared_model
from kgviz.ui.figures.ultra import ultra_relation_figure
from kgviz.ui.ultra_views import GRAPH_KINDS, ultra_relation_edges

__all__ = ["step_ultra", "ranking_rows", "TOP"]

TOP = 5  # candidates shown per model


def ranking_rows(ranking: QueryRanking, expected: str | None, top: int = TOP) -> pd.DataFrame:
    """The first ``top`` candidates: rank, entity (``✓`` for the expected answer) and score (2 decimals)."""
    return pd.DataFrame(
        [
            {"rank": c.rank, "entity": c.name + (" ✓" if c.name == expected else ""), "score": f"{c.score:.2f}"}
            for c in ranking.candidates[:top]
        ]
    )


def _rankings(sc: StepContext, ultra: LoadedModel) -> tuple[QueryRanking, QueryRanking]:
    q, kg = sc.query, sc.kg
    ex, side = DEFAULTS.exclude_self, DEFAULTS.known_side
    ingram = query_ranking(
        sc.model, kg, DEFAULTS.seeds(), q.direction, q.anchor, q.relation, exclude_self=ex, known_side=side
    )
    other = query_ranking(ultra, kg, (), q.direction, q.anchor, q.relation, exclude_self=ex, known_side=side)
    return ingram, other


def step_ultra(sc: StepContext) -> StepFigure | None:
    """Both rankings of the lecture query (top :data:`TOP`), the rank of its expected answer under each, a
    toggle between the two relation graphs (the figure)."""
    kg, q = sc.kg, sc.query
    ultra = sc.ultra or compared_model(DEFAULT_ULTRA, sc.model.device)
    if ultra is None:
        st.info("ULTRA is not shipped here (pretrained/ultra-3g): this step needs it.")
        return None
    ultra_label = ultra.scorer.name
    ingram, other = _rankings(sc, ultra)
    asked = f"({q.anchor}, {q.relation}, ?)" if q.direction == "tail" else f"(?, {q.relation}, {q.anchor})"
    st.markdown(f"**{name_md(asked, 60)}**, ranked as Predictions ranks it (default constraints)")
    left, right = st.columns(2)
    for col, ranking, label in ((left, ingram, f"InGram ({sc.model_label})"), (right, other, ultra_label)):
        col.markdown(f"**{name_md(label)}**")
        col.table(ranking_rows(ranking, q.answer).style.hide(axis="index"))
    if q.answer is not None and q.answer in kg.entity_index:  # its row in each table, as Predictions shows it
        m1, m2 = st.columns(2)
        m1.metric(f"Rank of {q.answer}, InGram", ingram.position_of(q.answer) or "—")
        m2.metric(f"Rank of {q.answer}, {ultra_label}", other.position_of(q.answer) or "—")
    kind = st.radio(
        "Relation graph", list(GRAPH_KINDS), format_func=GRAPH_KINDS.__getitem__, horizontal=True, key=S.CLS_GRAPH
    )
    highlight = kg.relation_index.get(q.relation)
    if kind == "ultra":
        names, edges = ultra_relation_edges(kg)
        figure = ultra_relation_figure(names, edges, highlight=[q.relation], height=480)
        caption = (
            f"ULTRA's relation graph: {len(edges)} edges of four types (colour); red: {q.relation}. "
            "ULTRA's relation model starts from the query relation and passes messages on it."
        )
    else:
        exact = relation_matrices(kg)["exact"]
        labels = list(kg.relations) + [f"{r}⁻¹" for r in kg.relations]
        figure = relation_figure(
            labels, exact.toarray(), highlight=[] if highlight is None else [highlight], font_size=sc.font_size
        )
        caption = (
            f"InGram's relation graph (2R, with inverses): {exact.nnz} weighted edges, binned; orange: "
            f"{q.relation}. InGram's relation layers attend over it once per KG."
        )
    return StepFigure(figure, caption)
