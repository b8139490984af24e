"""Predictions beside InGram: other models' rank of each candidate, as extra columns of the ranking table.

The models (TransE … RotatE, R-GCN) are trained on the current KG with a short budget, once per KG,
model, budget and device (:func:`kgviz.ui.model_runs.trained_model`); ranks come from
:func:`kgviz.models.baselines.common.candidate_ranks` (spec tie rule, filtered when known facts are).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kgviz.models.baselines import TRAINED_MODELS, NoEmbeddingError
from kgviz.models.baselines.common import candidate_ranks
from kgviz.ui import state as S
from kgviz.ui.context import PageContext
from kgviz.ui.markup import escape_markdown
from kgviz.ui.model_runs import MODEL_LABELS, trained_model


def rank_column(model_key: str) -> str:
    """Name of the column holding ``model_key``'s ranks."""
    return f"{MODEL_LABELS[model_key]} rank"


def add_model_columns(
    ctx: PageContext, frame: pd.DataFrame, direction: str, anchor: int, relation: int, filter_known: bool
) -> pd.DataFrame:
    """A multiselect of models; ``frame`` with one ``<model> rank`` column per chosen model (a copy).

    ``frame`` is the ranking table (an ``entity`` column of names of ``ctx.kg``).
    """
    c1, c2 = st.columns([3, 1])
    chosen = c1.multiselect(
        "rank of each candidate by other models (trained on this KG)",
        list(TRAINED_MODELS),
        key=S.Q_MODELS,
        format_func=MODEL_LABELS.__getitem__,
        help="Each model trains on the current KG for the budget at the right (once; kept "
        "after), then ranks every entity for the same query: same filtering, ties "
        "counted half (the spec's rule).",
    )
    budget = float(c2.number_input("training budget (s per model)", 0.5, 120.0, 3.0, step=0.5, key=S.Q_MODELS_BUDGET))
    if not chosen or frame.empty:
        return frame
    kg = ctx.kg
    candidates = [kg.entity_index[name] for name in frame["entity"]]
    out = frame.copy()
    for key in chosen:
        model = trained_model(kg, key, budget, ctx.model.device)
        try:
            ranks = candidate_ranks(
                model, kg, anchor, relation, candidates, direction=direction, filter_known=filter_known
            )
        except NoEmbeddingError as exc:
            st.caption(f"{MODEL_LABELS[key]}: {escape_markdown(str(exc))}")
            ranks = [None] * len(candidates)
        out[rank_column(key)] = pd.array(ranks, dtype="Int64")
    return out
