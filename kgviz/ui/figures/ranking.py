"""Tables and figures of how far to trust InGram: the constrained ranking, the self-check, fine-tuning.

Pure builders: library results in, ``pd.DataFrame`` / ``go.Figure`` out; the pages only show them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kgviz.evaluation.selfcheck import SelfCheck
from kgviz.ranking.ranks import QueryRanking
from kgviz.ui.figures.views import ranking_frame

SELF_CHECK_METRICS = ("MRR", "Hits@1", "Hits@10")
MAIN_METHODS = (  # ranks shown per triple; the baseline under the same constraints as the headline row
    "InGram + both constraints",
    "InGram",
    "relation-tail frequency + both constraints",
)


def query_ranking_frame(ranking: QueryRanking, top_k: int) -> pd.DataFrame:
    """The first ``top_k`` candidates: :func:`kgviz.ui.figures.views.ranking_frame` with the probability, the rank
    under relation-tail frequency and the constraint's note."""
    rows = ranking.candidates[:top_k]
    frame = ranking_frame(rows).assign(
        probability=[c.probability for c in rows],
        **{"freq. rank": [c.frequency_rank for c in rows]},
        note=[c.note for c in rows],
    )
    return frame[
        [
            "rank",
            "entity",
            "probability",
            "score",
            "score std",
            "best rank",
            "worst rank",
            "freq. rank",
            "known",
            "note",
        ]
    ]


def lowest_score(ranking: QueryRanking) -> float:
    """The lowest mean score among all candidates (where the ranking's bars start)."""
    return min((c.score for c in ranking.candidates), default=0.0)


def self_check_metrics_frame(result: SelfCheck) -> pd.DataFrame:
    """One row per method: MRR, Hits@1, Hits@10 (as :func:`kgviz.evaluation.selfcheck.self_check` measured them)."""
    return pd.DataFrame([{"method": m, **{k: v[k] for k in SELF_CHECK_METRICS}} for m, v in result.metrics.items()])


def self_check_bar(results: dict[str, SelfCheck], methods: Sequence[str] | None = None) -> go.Figure:
    """Grouped bars: MRR / Hits@1 / Hits@10 of each method, one bar group per metric; with several
    results (e.g. before and after fine-tuning) each method appears once per result."""
    fig = go.Figure()
    for label, result in results.items():
        for m in methods or list(result.metrics):
            if m not in result.metrics:
                continue
            name = m if len(results) == 1 else f"{m} ({label})"
            values = [result.metrics[m][k] for k in SELF_CHECK_METRICS]
            fig.add_trace(
                go.Bar(
                    name=name,
                    x=list(SELF_CHECK_METRICS),
                    y=values,
                    text=[f"{v:.3f}" for v in values],
                    textposition="outside",
                )
            )
    fig.update_layout(
        barmode="group",
        yaxis={"range": [0, 1.08], "title": "higher is better"},
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h"},
    )
    return fig


def held_out_frame(result: SelfCheck, methods: Sequence[str] = MAIN_METHODS) -> pd.DataFrame:
    """The held-out triples with their filtered tail and head ranks under ``methods`` (those present)."""
    cols = [c for m in methods if m in result.ranks for c in (f"{m}: tail rank", f"{m}: head rank")]
    return pd.DataFrame(result.rows(), columns=["head", "relation", "tail", "fold", *cols])


def loss_figure(losses: Sequence[float], window: int = 10) -> go.Figure:
    """The fine-tuning loss of every step, and its running mean over ``window`` steps."""
    y = np.asarray(losses, dtype=float)
    steps = np.arange(1, len(y) + 1)
    fig = go.Figure(go.Scatter(x=steps, y=y, mode="lines", name="loss", line={"color": "#bbbbbb"}))
    if len(y):
        w = min(window, len(y))
        smooth = np.convolve(y, np.ones(w) / w, mode="valid")
        fig.add_trace(go.Scatter(x=steps[w - 1 :], y=smooth, mode="lines", name=f"mean of {w} steps"))
    fig.update_layout(
        xaxis_title="step",
        yaxis_title="margin loss",
        height=280,
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        legend={"orientation": "h"},
    )
    return fig
