"""Tables and figures of the per-KG leaderboard (:class:`kgviz.evaluation.leaderboard.Leaderboard`).

Pure builders: a leaderboard in, ``pd.DataFrame`` / ``go.Figure`` out; the Self-check page only shows them.
Validation facts *chose* (the scorer, the weights, the temperature); test facts *report*.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go

from kgviz.evaluation.leaderboard import SCENARIOS, Leaderboard

__all__ = [
    "SPLIT_WORDS",
    "leaderboard_frame",
    "scenario_methods",
    "scenario_figure",
    "reliability_figure",
    "trained_lines",
]

SPLIT_WORDS = {"validation": "chose", "test": "reports"}  # what each split of held-out facts is for


def leaderboard_frame(board: Leaderboard) -> pd.DataFrame:
    """One row per method (``recommended`` first, then by validation MRR): MRR with its 95 % bootstrap
    interval, Hits@1, Hits@10 on the facts that chose (validation) and on those that report (test)."""
    out: dict[str, dict] = {}
    for row in board.rows:
        word = SPLIT_WORDS.get(row["split"])
        if word is None:
            continue
        line = out.setdefault(row["method"], {"method": row["method"]})
        line[f"{word}: MRR"] = row["mrr"]
        line[f"{word}: 95% interval"] = f"{row['mrr_low']:.3f}–{row['mrr_high']:.3f}"
        line[f"{word}: Hits@1"] = row["hits1"]
        line[f"{word}: Hits@10"] = row["hits10"]
    frame = pd.DataFrame(list(out.values()))
    first = frame["method"] == "recommended"
    return pd.concat([frame[first], frame[~first].sort_values("chose: MRR", ascending=False)], ignore_index=True)


def scenario_methods(board: Leaderboard, limit: int = 4) -> list[str]:
    """``recommended``, the best InGram row, counting's best row and the best other rows, on validation MRR."""
    val = sorted(
        ((r["mrr"], r["method"]) for r in board.rows if r["split"] == "validation" and r["method"] != "recommended"),
        reverse=True,
    )
    picks = ["recommended"]
    for test in (lambda m: m.startswith("InGram"), lambda m: m.startswith("relation-side frequency"), lambda m: True):
        m = next((m for _, m in val if test(m) and m not in picks), None)
        if m is not None and len(picks) < limit:
            picks.append(m)
    return picks


def scenario_figure(board: Leaderboard, methods: Sequence[str], split: str = "test") -> go.Figure:
    """Grouped bars: MRR per half-link scenario (x, with its query count) for each of ``methods``."""
    fig = go.Figure()
    for method in methods:
        table = board.scenarios[method][split]
        labels = [f"{s} (n={table[s]['queries']})" for s in SCENARIOS]
        fig.add_bar(
            name=method,
            x=labels,
            y=[table[s]["mrr"] or 0.0 for s in SCENARIOS],
            hovertemplate="%{x}<br>MRR %{y:.3f}<extra>" + method.replace("<", "&lt;") + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        title=f"MRR per half-link scenario ({SPLIT_WORDS[split]}: {split} facts; n = queries)",
        yaxis={"title": "MRR", "range": [0, 1]},
        legend={"orientation": "h", "y": -0.3},
        height=420,
        margin={"t": 50, "b": 10},
    )
    return fig


def reliability_figure(calibration: dict, label: str) -> go.Figure:
    """Reliability diagram of the top answer on test facts: accuracy per confidence bin (bars, with counts)
    against the diagonal of perfect calibration; ECE and temperature in the title."""
    bins = [b for b in calibration["bins"] if b["count"]]
    fig = go.Figure()
    fig.add_bar(
        x=[(b["low"] + b["high"]) / 2 for b in bins],
        y=[b["accuracy"] for b in bins],
        width=[b["high"] - b["low"] for b in bins],
        customdata=[[b["count"], b["confidence"]] for b in bins],
        hovertemplate="confidence %{customdata[1]:.2f}<br>accuracy %{y:.2f}<br>%{customdata[0]} queries<extra></extra>",
        name="accuracy",
        marker={"line": {"width": 1, "color": "white"}},
    )
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated", line={"dash": "dash"})
    fig.update_layout(
        title=f"Reliability of {label} on test facts: ECE {calibration['test_ece']:.3f} "
        f"(temperature {calibration['temperature']:.3g}, fit on validation facts)",
        xaxis={"title": "confidence of the top answer", "range": [0, 1]},
        yaxis={"title": "share of top answers that are right", "range": [0, 1]},
        height=400,
        margin={"t": 50, "b": 10},
    )
    return fig


def trained_lines(board: Leaderboard) -> list[str]:
    """What was trained for how long: ``"RotatE: 5 folds, 3.9 s in all (8–21 epochs a fold)"``."""
    out = []
    for name, runs in board.trained.items():
        if runs:
            epochs = [e for _, e in runs]
            out.append(
                f"{name}: {len(runs)} fold(s), {sum(s for s, _ in runs):.1f} s in all "
                f"({min(epochs)}–{max(epochs)} epochs a fold)"
            )
    return out
