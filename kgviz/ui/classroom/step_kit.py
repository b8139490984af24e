"""What the classroom's steps share: their context (:class:`StepContext`), result (:class:`StepFigure`) and helpers.

The steps are in :mod:`kgviz.ui.classroom.steps` (the graph's structure) and
:mod:`kgviz.ui.classroom.model_steps` (the model's attention and scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kgviz.classroom import walkthrough as wt
from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import LayerAttention
from kgviz.graph.samples import SampleQuery
from kgviz.ui import state as S
from kgviz.ui.cache import LoadedModel
from kgviz.ui.widgets import stored_select


@dataclass(frozen=True)
class StepContext:
    """What a step needs: the KG, the model and its forward pass, the query and the pair."""

    kg: KnowledgeGraph
    model: LoadedModel
    model_label: str
    predictor: Predictor | None  # None when the model cannot run on the KG (structural steps only)
    attention: dict[str, list[LayerAttention]] | None
    default_query: SampleQuery
    query: SampleQuery
    pair: tuple[int, int]  # relation ids in [0, R)
    presenter: bool
    ensemble: Predictor | None = None  # the Predictions view's default draws (the score step)
    ultra: LoadedModel | None = None  # the ULTRA the closing step puts beside InGram (None: ULTRA 3g of the catalog)

    @property
    def font_size(self) -> int:
        return 20 if self.presenter else 14

    @property
    def model_predictor(self) -> Predictor:
        """The forward pass, for the steps that need it (``pages.classroom.MODEL_STEPS``)."""
        if self.predictor is None:
            raise RuntimeError("this classroom step needs the model's forward pass, which is missing")
        return self.predictor

    @property
    def model_attention(self) -> dict[str, list[LayerAttention]]:
        """The forward pass's per-layer attention, for the steps that need it."""
        if self.attention is None:
            raise RuntimeError("this classroom step needs the model's attention, which is missing")
        return self.attention


@dataclass(frozen=True)
class StepFigure:
    """A step's figure and the caption under it."""

    figure: go.Figure
    caption: str


def step_table(rows: list[dict] | pd.DataFrame, limit: int = 15) -> None:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if len(df) > limit:
        st.caption(f"showing {limit} of {len(df)} rows")
        df = df.head(limit)
    st.table(df.reset_index(drop=True).style.hide(axis="index"))


def tex_name(s: str) -> str:
    return r"\text{" + wt.tex_escape(s) + "}"


def original_triple_index(kg: KnowledgeGraph) -> dict[tuple[int, int, int], int]:
    return {(h, r, t): k for k, (h, r, t) in enumerate(kg.triples.tolist())}


def label_note(figure: go.Figure, edges: bool = True) -> str:
    """`` Some names left out …`` when the figure dropped labels that would overlap, else ``""``."""
    meta = figure.layout.meta
    hidden = meta["nodes"] - meta["node_labels"] + (meta["labelled_edges"] - meta["edge_labels"] if edges else 0)
    return f" {hidden} labels that would overlap are left out: hover a node or an edge." if hidden else ""


def sum_terms(values: np.ndarray, shown: int = 4) -> str:
    """``0.21 + 0.18 + … `` (LaTeX) of the first ``shown`` values."""
    text = " + ".join(f"{a:.2f}" for a in values[:shown])
    return text + (r" + \dots" if len(values) > shown else "")


def query_widgets(sc: StepContext) -> None:
    kg = sc.kg
    q0: SampleQuery = sc.default_query
    c = st.columns(2)
    with c[0]:
        stored_select("Head (known entity)", list(kg.entities), S.CLS_ANCHOR, q0.anchor)
    with c[1]:
        stored_select("Relation", list(kg.relations), S.CLS_RELATION, q0.relation)
