"""Pure figure builders: data in, plotly figure / pandas table / self-contained HTML out.

Nothing here imports Streamlit, so every builder is unit-testable on its own.

Graph pages are built by :mod:`kgviz.ui.figures.html_graph` (offline, names escaped); the relation
graph's builders are in :mod:`kgviz.ui.figures.relation` and the colours in
:mod:`kgviz.ui.figures.colours`, both re-exported here.

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``E`` edges, ``H`` heads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import scipy.sparse as sp

from kgviz.graph.data import KnowledgeGraph
from kgviz.graph.neighbourhood import short_labels
from kgviz.ui.markup import count_of, kg_counts, name_md
from kgviz.graph.relgraph import relation_label
from kgviz.ui.figures.html_graph import network_html

from kgviz.ui.figures.colours import FADED, HIGHLIGHT, PALETTE, bin_colour, relation_colour  # noqa: F401
from kgviz.ui.figures.relation import affinity_heatmap, beta_breakdown, bin_legend_html, bin_summary  # noqa: F401
from kgviz.ui.figures.relation import matrix_labels, relation_network_html, strongest_pairs_frame  # noqa: F401

if TYPE_CHECKING:  # torch: the KG view draws without it
    from kgviz.models.ingram.predictor import Candidate
    from kgviz.models.ingram.network import LayerAttention


# ---------------------------------------------------------------- KG view


def kg_network_html(
    kg: KnowledgeGraph,
    triple_ids: np.ndarray | None = None,
    *,
    entity: int | None = None,
    relation: int | None = None,
    height: int = 520,
) -> str:
    """The KG (or the triples ``triple_ids`` of it) as a directed pyvis graph.

    Edges are coloured by relation; hovering an edge shows its triple. The selected ``entity``
    is highlighted; the edges of the selected ``relation`` keep their relation's colour, drawn
    thick with their label, and the other relations are faded. Node labels are
    :func:`kgviz.graph.neighbourhood.short_labels` of the drawn names (the full name is the tooltip).
    """
    t = kg.triples if triple_ids is None else kg.triples[triple_ids]
    ents = sorted(set(t[:, 0].tolist()) | set(t[:, 2].tolist()))
    if entity is not None and entity not in ents:
        ents.append(entity)
    deg = np.bincount(kg.triples[:, [0, 2]].ravel(), minlength=kg.num_entities)
    short = dict(zip(ents, short_labels([kg.entities[e] for e in ents], 24)))
    nodes = []
    for e in ents:
        name = kg.entities[e]
        node = {
            "id": int(e),
            "label": short[e],
            "title": f"{name}\n{int(deg[e])} triples",
            "size": 12 + 2 * min(int(deg[e]), 10),
            "color": "#97c2fc",
            "font": {"size": 20 if len(ents) <= 20 else 30, "strokeWidth": 4, "strokeColor": "#ffffff"},
        }
        if e == entity:
            node.update(color={"background": "#ffe08a", "border": HIGHLIGHT}, borderWidth=4)
        nodes.append(node)
    edges = []
    for h, r, tl in t.tolist():
        hn, rn, tn = kg.entities[h], kg.relations[r], kg.entities[tl]
        colour, width, label = relation_colour(r), 2, rn
        if relation is not None and r != relation:
            colour, width, label = FADED, 1, ""
        elif relation is not None:
            width = 6
        edges.append(
            {
                "from": int(h),
                "to": int(tl),
                "title": f"({hn}, {rn}, {tn})",
                "label": label,
                "color": colour,
                "width": width,
                "font": {"size": 12, "color": "#444444", "strokeWidth": 3, "strokeColor": "#ffffff"},
            }
        )
    return network_html(nodes, edges, directed=True, height=height)


def relation_legend(
    kg: KnowledgeGraph, triple_ids: np.ndarray | None = None, *, selected: int | None = None
) -> pd.DataFrame:
    """Relation (short name, ``▶`` before the selected one), colour and number of triples, for a
    legend next to the KG view; with ``triple_ids`` (a partial drawing) also the triples drawn,
    and the relations drawn come first."""
    counts = np.bincount(kg.triples[:, 1], minlength=kg.num_relations)
    names = short_labels(kg.relations, 30)
    frame = pd.DataFrame(
        {
            "relation": [("▶ " if r == selected else "") + names[r] for r in range(kg.num_relations)],
            "colour": [relation_colour(r) for r in range(kg.num_relations)],
            "triples": counts.astype(int),
        }
    )
    if triple_ids is not None:
        frame["drawn"] = np.bincount(kg.triples[triple_ids, 1], minlength=kg.num_relations).astype(int)
        frame = frame.sort_values(["drawn", "triples"], ascending=False, kind="stable").reset_index(drop=True)
    return frame


def neighbourhood_summary(kg: KnowledgeGraph, centre: Sequence[int], triple_ids: np.ndarray) -> str:
    """In words, what a partial drawing of a large KG shows and what it leaves out (Markdown)."""
    t = kg.triples[triple_ids]
    shown = len(set(t[:, [0, 2]].ravel().tolist())) if len(t) else 0
    rels = len(set(t[:, 1].tolist()))
    centres = ", ".join(f"**{name_md(kg.entities[c])}**" for c in centre)
    return (
        f"Large KG ({kg_counts(kg.num_entities, kg.num_relations, kg.num_triples)}): drawing the "
        f"neighbourhood of {centres} — {count_of(shown, 'entity', 'entities')} (nearest first, "
        f"best-connected first), {count_of(len(t), 'triple')} of {count_of(rels, 'relation')}. Not drawn: "
        f"{count_of(kg.num_entities - shown, 'entity', 'entities')}, "
        f"{count_of(kg.num_triples - len(t), 'triple')}. Select another entity or relation in the "
        "sidebar to move the drawing."
    )


# ---------------------------------------------------------------- attention


def relation_attention_heatmap(
    att: LayerAttention,
    labels: Sequence[str],
    head: int | None = None,
    *,
    selected: int | None = None,
    title: str = "",
    ids: Sequence[int] | None = None,
    short: Sequence[str] | None = None,
) -> go.Figure:
    """Relation-level attention α[i ← j] of one layer: rows receive, columns send.

    ``head=None`` averages over heads. ``ids`` picks and orders the relations shown (all by
    default); axes show ``short`` labels, hover the full ones. Non-edges are blank; hover shows
    α and the edge's bin; the selected relation's row is outlined.
    """
    n = len(labels)
    shown = list(range(n)) if ids is None else [int(i) for i in ids]
    axis = [(labels if short is None else short)[i] for i in shown]
    i, j = att.edge_index[0].cpu().numpy(), att.edge_index[1].cpu().numpy()
    alpha = att.alpha.cpu().numpy()
    a = alpha.mean(1) if head is None else alpha[:, head]
    z = np.full((n, n), np.nan)
    bins = np.full((n, n), np.nan)
    z[i, j] = a
    bins[i, j] = att.edge_type.cpu().numpy()
    z, bins = z[shown][:, shown], bins[shown][:, shown]
    full = np.array([[f"{labels[r]} ← {labels[c]}" for c in shown] for r in shown])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=axis,
            y=axis,
            customdata=np.dstack([bins, full]),
            colorscale="Magma",
            zmin=0,
            hoverongaps=False,
            colorbar={"title": "α"},
            hovertemplate="%{customdata[1]}<br>α = %{z:.3f}<br>bin %{customdata[0]}<extra></extra>",
        )
    )
    if selected is not None and selected in shown:
        k = shown.index(selected)
        fig.add_shape(
            type="rect", x0=-0.5, x1=len(shown) - 0.5, y0=k - 0.5, y1=k + 0.5, line={"color": HIGHLIGHT, "width": 2}
        )
    fig.update_layout(
        title=title,
        height=max(380, 18 * len(shown) + 200),
        yaxis={"autorange": "reversed"},
        xaxis_title="sender j",
        yaxis_title="receiver i",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def entity_attention_frame(att: LayerAttention, entity: int, kg: KnowledgeGraph) -> pd.DataFrame:
    """Incoming messages of ``entity`` in one entity layer: sender, relation, α per head, mean α.

    The self-loop is the row with relation ``(self-loop)``. Rows sorted by mean α, largest first.
    """
    recv = att.edge_index[0].cpu().numpy()
    sel = np.nonzero(recv == entity)[0]
    send = att.edge_index[1].cpu().numpy()[sel]
    rel = att.edge_type.cpu().numpy()[sel]
    alpha = att.alpha.cpu().numpy()[sel]  # (k, H)
    rows = {
        "sender": [kg.entities[u] for u in send],
        "relation": ["(self-loop)" if r < 0 else relation_label(int(r), kg.relations) for r in rel],
        "sender id": send.astype(int),
        "relation id": rel.astype(int),
    }
    for h in range(alpha.shape[1]):
        rows[f"head {h}"] = alpha[:, h]
    rows["mean α"] = alpha.mean(1) if len(alpha) else np.zeros(0)
    return pd.DataFrame(rows).sort_values("mean α", ascending=False, kind="stable").reset_index(drop=True)


def _message_label(row) -> str:
    return f"{row['sender']} —{row['relation']}→" if row["relation"] != "(self-loop)" else "(self-loop)"


def entity_attention_bar(frame: pd.DataFrame, top: int = 20) -> go.Figure:
    """Grouped bars: α of each incoming message (the ``top`` largest by mean α), one bar per head."""
    f = frame.head(top)
    labels = [_message_label(r) for _, r in f.iterrows()]
    heads = [c for c in f.columns if c.startswith("head ")]
    fig = go.Figure([go.Bar(name=h, x=labels, y=f[h], hovertemplate="%{x}<br>α = %{y:.3f}") for h in heads])
    fig.update_layout(
        barmode="group", yaxis_title="α", height=420, legend_title="head", margin={"l": 10, "r": 10, "t": 30, "b": 10}
    )
    return fig


def entity_attention_html(
    frame: pd.DataFrame, entity: int, kg: KnowledgeGraph, *, column: str = "mean α", top: int = 30, height: int = 460
) -> str:
    """The entity's incoming neighbourhood; edge width ∝ α (``column``: a head or the mean)."""
    f = frame[frame["relation"] != "(self-loop)"].head(top)
    name = kg.entities[entity]
    nodes = [
        {
            "id": int(entity),
            "label": name,
            "title": name,
            "color": {"background": "#ffe08a", "border": HIGHLIGHT},
            "borderWidth": 4,
            "size": 26,
        }
    ]
    seen = {int(entity)}
    edges = []
    amax = float(f[column].max()) if len(f) else 1.0
    for _, r in f.iterrows():
        u = int(r["sender id"])
        if u not in seen:
            seen.add(u)
            nodes.append({"id": u, "label": r["sender"], "title": r["sender"], "color": "#97c2fc"})
        a = float(r[column])
        edges.append(
            {
                "from": u,
                "to": int(entity),
                "width": 1 + 12 * a / max(amax, 1e-12),
                "color": relation_colour(int(r["relation id"]), kg.num_relations),
                "title": f"{r['sender']} —{r['relation']}→ {name}\nα = {a:.3f}",
            }
        )
    return network_html(nodes, edges, directed=True, height=height)


# ---------------------------------------------------------------- predictions


def ranking_frame(candidates: Sequence[Candidate]) -> pd.DataFrame:
    """Ranked candidates: score (mean over seeds) ± std, known fact flag, rank range over seeds."""
    return pd.DataFrame(
        {
            "rank": [c.rank for c in candidates],
            "entity": [c.name for c in candidates],
            "score": [c.score for c in candidates],
            "score std": [c.score_std for c in candidates],
            "known": [c.known for c in candidates],
            "best rank": [c.rank_min for c in candidates],
            "worst rank": [c.rank_max for c in candidates],
        }
    )


def ranking_bar(frame: pd.DataFrame, title: str = "", floor: float | None = None) -> go.Figure:
    """Horizontal bars of the candidates' scores with ±std error bars; known facts in grey, candidates a
    constraint puts after the others (column ``note``, if any) in orange.

    Scores are often all negative: every bar starts at ``floor`` (default: a little below the lowest
    score shown; pass the lowest score of all candidates) and ends at the score, so the best
    candidate has the longest bar and the axis still reads in scores.
    """
    scores = frame["score"].to_numpy(dtype=float)
    if floor is None and len(scores):
        spread = float(scores.max() - scores.min()) or 1.0
        floor = float(scores.min()) - 0.05 * spread
    floor = 0.0 if floor is None else floor
    notes = frame["note"] if "note" in frame else [""] * len(frame)
    colours = ["#9e9e9e" if k else ("#ff7f0e" if n else "#1f77b4") for k, n in zip(frame["known"], notes)]
    fig = go.Figure(
        go.Bar(
            x=scores - floor,
            base=floor,
            y=[f"{r}. {e}" for r, e in zip(frame["rank"], frame["entity"])],
            orientation="h",
            marker_color=colours,
            error_x={"type": "data", "array": frame["score std"], "visible": True},
            customdata=np.stack([frame["best rank"], frame["worst rank"], scores], axis=1) if len(frame) else None,
            hovertemplate="%{y}<br>score %{customdata[2]:.3f}<br>rank over seeds %{customdata[0]}–%{customdata[1]}"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        yaxis={"autorange": "reversed"},
        xaxis_title=f"score (mean over seeds); bars start at {floor:.3f}",
        height=max(300, 26 * len(frame) + 120),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def rank_spread_figure(frame: pd.DataFrame) -> go.Figure:
    """Each candidate's best-to-worst rank over the seed ensemble, with its ensemble rank."""
    labels = [f"{r}. {e}" for r, e in zip(frame["rank"], frame["entity"])]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=frame["best rank"], y=labels, mode="markers", name="best", marker={"symbol": "line-ns-open", "size": 14}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["worst rank"], y=labels, mode="markers", name="worst", marker={"symbol": "line-ns-open", "size": 14}
        )
    )
    fig.add_trace(go.Scatter(x=frame["rank"], y=labels, mode="markers", name="ensemble", marker={"size": 9}))
    fig.update_layout(  # the shapes in one update: add_shape validates the whole layout each time
        shapes=[
            {"type": "line", "x0": b, "x1": w, "y0": y, "y1": y, "line": {"color": "#888", "width": 2}}
            for b, w, y in zip(frame["best rank"], frame["worst rank"], labels)
        ],
        xaxis_title="rank under one seed",
        yaxis={"autorange": "reversed"},
        height=max(300, 26 * len(frame) + 120),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return fig


# ---------------------------------------------------------------- what-if


def pair_weights(matrix: sp.spmatrix, labels: Sequence[str]) -> dict[tuple[str, str], float]:
    """``{(label_i, label_j): weight}`` over the non-zero entries with ``i <= j``."""
    coo = sp.triu(sp.csr_matrix(matrix)).tocoo()
    return {(labels[i], labels[j]): float(w) for i, j, w in zip(coo.row, coo.col, coo.data)}


def affinity_changes(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Relation pairs whose weight changed, by name, sorted by the size of the change."""
    keys = set(before) | set(after)
    rows = [
        {"relation i": a, "relation j": b, "before": before.get((a, b), 0.0), "after": after.get((a, b), 0.0)}
        for a, b in keys
    ]
    f = pd.DataFrame(rows, columns=["relation i", "relation j", "before", "after"])
    f["change"] = f["after"] - f["before"]
    f = f[f["change"].abs() > 1e-12]
    return f.reindex(f["change"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def attention_of_relation(att: LayerAttention, relation: int, labels: Sequence[str]) -> pd.Series:
    """Mean-over-heads α of the senders of ``relation`` in one relation layer, by sender label."""
    recv = att.edge_index[0].cpu().numpy()
    sel = recv == relation
    send = att.edge_index[1].cpu().numpy()[sel]
    alpha = att.alpha.cpu().numpy()[sel].mean(1)
    return pd.Series(alpha, index=[labels[j] for j in send], name="α").sort_values(ascending=False)
