"""Pure figure builders: data in, plotly figure / pandas table / self-contained HTML out.

Nothing here imports Streamlit, so every builder is unit-testable on its own.

Graph pages are built by :mod:`kgviz.ui.html_graph` (offline, names escaped).

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``E`` edges, ``H`` heads.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import scipy.sparse as sp

from ..data import KnowledgeGraph
from ..inference import Candidate
from ..model import LayerAttention
from ..relgraph import Contribution, binned_edges, relation_label, strongest_pairs
from .html_graph import network_html

# 20 distinguishable relation colours, none red or orange (those mark selections and queries);
# relation r is drawn in PALETTE[r % 20], in the explorer's views and in the classroom alike.
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#e377c2", "#bcbd22", "#7f7f7f",
           "#393b79", "#637939", "#6b6ecf", "#8c6d31", "#3182bd", "#31a354", "#756bb1", "#636363",
           "#9edae5", "#c5b0d5", "#dbdb8d", "#aec7e8")
HIGHLIGHT = "#e6194b"
FADED = "rgba(180,180,180,0.35)"

def relation_colour(r: int, num_relations: int | None = None) -> str:
    """Colour of relation ``r``; an inverse ``r + R`` gets the colour of ``r``."""
    if num_relations:
        r = r % num_relations
    return PALETTE[r % len(PALETTE)]


def bin_colour(b: int, num_bins: int) -> str:
    """Dark red for bin 0 (strongest) fading to pale blue for the last bin."""
    t = 0.0 if num_bins <= 1 else b / (num_bins - 1)
    lo, hi = np.array([178, 24, 43]), np.array([146, 197, 222])
    r, g, bl = (lo + t * (hi - lo)).round().astype(int)
    return f"#{r:02x}{g:02x}{bl:02x}"


# ---------------------------------------------------------------- KG view


def kg_network_html(kg: KnowledgeGraph, triple_ids: np.ndarray | None = None, *,
                    entity: int | None = None, relation: int | None = None,
                    height: int = 520) -> str:
    """The KG (or the triples ``triple_ids`` of it) as a directed pyvis graph.

    Edges are coloured by relation; hovering an edge shows its triple. The selected ``entity``
    and the edges of the selected ``relation`` are highlighted, other relations faded.
    """
    t = kg.triples if triple_ids is None else kg.triples[triple_ids]
    ents = sorted(set(t[:, 0].tolist()) | set(t[:, 2].tolist()))
    if entity is not None and entity not in ents:
        ents.append(entity)
    deg = np.bincount(kg.triples[:, [0, 2]].ravel(), minlength=kg.num_entities)
    nodes = []
    for e in ents:
        name = kg.entities[e]
        node = {"id": int(e), "label": name, "title": f"{name}\n{int(deg[e])} triples",
                "size": 12 + 2 * min(int(deg[e]), 10), "color": "#97c2fc", "font": {"size": 20}}
        if e == entity:
            node.update(color={"background": "#ffe08a", "border": HIGHLIGHT}, borderWidth=4)
        nodes.append(node)
    edges = []
    for h, r, tl in t.tolist():
        hn, rn, tn = kg.entities[h], kg.relations[r], kg.entities[tl]
        colour = relation_colour(r)
        width = 2
        if relation is not None:
            colour, width = (HIGHLIGHT, 5) if r == relation else (FADED, 1)
        edges.append({"from": int(h), "to": int(tl), "title": f"({hn}, {rn}, {tn})",
                      "label": rn, "color": colour, "width": width,
                      "font": {"size": 10, "color": "#555555", "strokeWidth": 0}})
    return network_html(nodes, edges, directed=True, height=height)


def relation_legend(kg: KnowledgeGraph) -> pd.DataFrame:
    """Relation, colour and number of triples, for a legend next to the KG view."""
    counts = np.bincount(kg.triples[:, 1], minlength=kg.num_relations)
    return pd.DataFrame({"relation": list(kg.relations),
                         "colour": [relation_colour(r) for r in range(kg.num_relations)],
                         "triples": counts.astype(int)})


# ---------------------------------------------------------------- relation graph


def matrix_labels(relations: Sequence[str], size: int) -> list[str]:
    """Node labels of a relation matrix of ``size`` rows: ``R`` names or ``2R`` with inverses."""
    return [relation_label(r, relations) if size == 2 * len(relations) else relations[r]
            for r in range(size)]


def strongest_pairs_frame(matrix: sp.spmatrix, labels: Sequence[str], num_bins: int,
                          top: int = 20) -> pd.DataFrame:
    """The ``top`` strongest off-diagonal pairs ``i < j`` with weight and bin (bin 0 strongest)."""
    pairs = strongest_pairs(matrix, top)
    bins = {(int(i), int(j)): int(b) for i, j, b in binned_edges(matrix, num_bins).tolist()}
    m = sp.csr_matrix(matrix)
    rows = [{"relation i": labels[i], "relation j": labels[j], "weight": float(m[i, j]),
             "bin": bins.get((int(i), int(j)), -1), "i": int(i), "j": int(j)} for i, j in pairs]
    return pd.DataFrame(rows, columns=["relation i", "relation j", "weight", "bin", "i", "j"])


def relation_network_html(matrix: sp.spmatrix, labels: Sequence[str], num_bins: int, *,
                          num_relations: int, selected: int | None = None,
                          pair: tuple[int, int] | None = None, max_edges: int = 300,
                          height: int = 520) -> tuple[str, int]:
    """Relation graph as an undirected pyvis graph: width ∝ weight, colour = bin.

    Only the ``max_edges`` strongest off-diagonal edges are drawn; returns ``(html, drawn)``.
    Node tooltips give the self-affinity ``A[r, r]``; the selected relation and pair are marked.
    """
    m = sp.csr_matrix(matrix)
    edges_binned = binned_edges(m, num_bins)
    off = edges_binned[edges_binned[:, 0] < edges_binned[:, 1]]
    w = np.asarray(m[off[:, 0], off[:, 1]]).ravel() if len(off) else np.zeros(0)
    order = np.argsort(-w, kind="stable")[:max_edges]
    wmax = float(w.max()) if len(w) else 1.0
    diag = m.diagonal()
    nodes = []
    for r, name in enumerate(labels):
        node = {"id": r, "label": name, "title": f"{name}\nself-affinity A[r, r] = {diag[r]:.4f}",
                "color": relation_colour(r, num_relations), "shape": "dot", "size": 16,
                "font": {"size": 22}}
        if r == selected or (pair is not None and r in pair):
            node.update(color={"background": relation_colour(r, num_relations), "border": HIGHLIGHT},
                        borderWidth=5, size=24)
        nodes.append(node)
    edges = []
    for k in order:
        i, j, b = (int(x) for x in off[k])
        is_pair = pair is not None and {i, j} == set(pair)
        colour = HIGHLIGHT if is_pair else bin_colour(b, num_bins)
        if selected is not None and selected not in (i, j) and not is_pair:
            colour = FADED
        edges.append({"from": i, "to": j, "width": 1 + 9 * float(w[k]) / wmax, "color": colour,
                      "title": f"{labels[i]} — {labels[j]}\nweight {w[k]:.4f}, bin {b}"})
    return network_html(nodes, edges, directed=False, height=height), len(edges)


def affinity_heatmap(matrix: sp.spmatrix, labels: Sequence[str], *,
                     pair: tuple[int, int] | None = None, title: str = "") -> go.Figure:
    """Heatmap of the relation matrix; zero entries are blank; the selected pair is outlined.

    The colour scale ends at the largest off-diagonal weight (larger self-affinities saturate);
    hovering a cell shows its exact weight.
    """
    z = sp.csr_matrix(matrix).toarray().astype(float)
    z[z == 0] = np.nan
    # Self-affinities dwarf the pairs on real KGs: cap the colour scale at the largest pair.
    off = z[~np.eye(len(z), dtype=bool) & ~np.isnan(z)]
    zmax = float(off.max()) if off.size else None
    fig = go.Figure(go.Heatmap(
        z=z, x=list(labels), y=list(labels), colorscale="Viridis", hoverongaps=False, zmin=0,
        zmax=zmax, colorbar={"title": "weight"}, hoverinfo="skip"))
    # Near-transparent markers on the non-zero cells carry hover and click-to-select
    # (Streamlit reports selections of scatter points, not of heatmap cells); a point's
    # customdata is [weight, row id, column id].
    rows, cols = np.nonzero(~np.isnan(z))
    fig.add_trace(go.Scatter(
        x=[labels[c] for c in cols], y=[labels[r] for r in rows], mode="markers",
        marker={"symbol": "square", "size": 14, "opacity": 0.01, "color": "#000"},
        customdata=np.stack([z[rows, cols], rows, cols], axis=1), showlegend=False,
        hovertemplate="%{y} — %{x}<br>weight %{customdata[0]:.4f}<extra></extra>"))
    _outline(fig, pair)
    fig.update_layout(title=title, height=max(380, 18 * len(labels) + 160),
                      yaxis={"autorange": "reversed"}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def _outline(fig: go.Figure, pair: tuple[int, int] | None) -> None:
    if pair is None:
        return
    for i, j in {pair, pair[::-1]}:
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line={"color": HIGHLIGHT, "width": 3})


def _term(c: Contribution) -> str:
    if c.count_i == c.count_j == 1:
        return f"(1/{c.degree})²"
    return f"{c.count_i}·{c.count_j}/{c.degree}²"


def beta_breakdown(contributions: Sequence[Contribution], entities: Sequence[str],
                   pair_labels: Sequence[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Table of the shared entities of a relation pair and the formula of its weight.

    Each row is one term ``count_i · count_j / degree²``; the formula reads like the lecture's
    ``(1/3)² + (1/7)² = 0.13``. ``pair_labels`` (optional, one per contribution) names the
    sub-pair a term belongs to when the pair is a merged relation family.
    """
    rows = []
    for k, c in enumerate(contributions):
        row = {"entity": entities[c.entity], "role": c.role, "count i": c.count_i,
               "count j": c.count_j, "degree": c.degree, "term": _term(c), "contribution": c.value}
        if pair_labels is not None:
            row = {"pair": pair_labels[k], **row}
        rows.append(row)
    total = float(sum(c.value for c in contributions))
    formula = " + ".join(_term(c) for c in contributions) if contributions else "0"
    return pd.DataFrame(rows), f"{formula} = {total:.2f}"


# ---------------------------------------------------------------- attention


def relation_attention_heatmap(att: LayerAttention, labels: Sequence[str],
                               head: int | None = None, *, selected: int | None = None,
                               title: str = "") -> go.Figure:
    """Relation-level attention α[i ← j] of one layer: rows receive, columns send.

    ``head=None`` averages over heads. Non-edges are blank; hover shows α and the edge's bin.
    """
    n = len(labels)
    i, j = att.edge_index[0].cpu().numpy(), att.edge_index[1].cpu().numpy()
    alpha = att.alpha.cpu().numpy()
    a = alpha.mean(1) if head is None else alpha[:, head]
    z = np.full((n, n), np.nan)
    bins = np.full((n, n), np.nan)
    z[i, j] = a
    bins[i, j] = att.edge_type.cpu().numpy()
    fig = go.Figure(go.Heatmap(
        z=z, x=list(labels), y=list(labels), customdata=bins, colorscale="Magma", zmin=0,
        hoverongaps=False, colorbar={"title": "α"},
        hovertemplate="%{y} ← %{x}<br>α = %{z:.3f}<br>bin %{customdata:.0f}<extra></extra>"))
    if selected is not None:
        fig.add_shape(type="rect", x0=-0.5, x1=n - 0.5, y0=selected - 0.5, y1=selected + 0.5,
                      line={"color": HIGHLIGHT, "width": 2})
    fig.update_layout(title=title, height=max(380, 18 * n + 160), yaxis={"autorange": "reversed"},
                      xaxis_title="sender j", yaxis_title="receiver i",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
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
        "sender id": send.astype(int), "relation id": rel.astype(int),
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
    fig = go.Figure([go.Bar(name=h, x=labels, y=f[h], hovertemplate="%{x}<br>α = %{y:.3f}")
                     for h in heads])
    fig.update_layout(barmode="group", yaxis_title="α", height=420, legend_title="head",
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def entity_attention_html(frame: pd.DataFrame, entity: int, kg: KnowledgeGraph, *,
                          column: str = "mean α", top: int = 30, height: int = 460) -> str:
    """The entity's incoming neighbourhood; edge width ∝ α (``column``: a head or the mean)."""
    f = frame[frame["relation"] != "(self-loop)"].head(top)
    name = kg.entities[entity]
    nodes = [{"id": int(entity), "label": name, "title": name,
              "color": {"background": "#ffe08a", "border": HIGHLIGHT}, "borderWidth": 4, "size": 26}]
    seen = {int(entity)}
    edges = []
    amax = float(f[column].max()) if len(f) else 1.0
    for _, r in f.iterrows():
        u = int(r["sender id"])
        if u not in seen:
            seen.add(u)
            nodes.append({"id": u, "label": r["sender"], "title": r["sender"], "color": "#97c2fc"})
        a = float(r[column])
        edges.append({"from": u, "to": int(entity), "width": 1 + 12 * a / max(amax, 1e-12),
                      "color": relation_colour(int(r["relation id"]), kg.num_relations),
                      "title": f"{r['sender']} —{r['relation']}→ {name}\nα = {a:.3f}"})
    return network_html(nodes, edges, directed=True, height=height)


# ---------------------------------------------------------------- predictions


def ranking_frame(candidates: Sequence[Candidate]) -> pd.DataFrame:
    """Ranked candidates: score (mean over seeds) ± std, known fact flag, rank range over seeds."""
    return pd.DataFrame({
        "rank": [c.rank for c in candidates],
        "entity": [c.name for c in candidates],
        "score": [c.score for c in candidates],
        "score std": [c.score_std for c in candidates],
        "known": [c.known for c in candidates],
        "best rank": [c.rank_min for c in candidates],
        "worst rank": [c.rank_max for c in candidates],
    })


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
    fig = go.Figure(go.Bar(
        x=scores - floor, base=floor, y=[f"{r}. {e}" for r, e in zip(frame["rank"], frame["entity"])],
        orientation="h", marker_color=colours,
        error_x={"type": "data", "array": frame["score std"], "visible": True},
        customdata=np.stack([frame["best rank"], frame["worst rank"], scores], axis=1) if len(frame) else None,
        hovertemplate="%{y}<br>score %{customdata[2]:.3f}<br>rank over seeds %{customdata[0]}–%{customdata[1]}"
                      "<extra></extra>"))
    fig.update_layout(title=title, yaxis={"autorange": "reversed"},
                      xaxis_title=f"score (mean over seeds); bars start at {floor:.3f}",
                      height=max(300, 26 * len(frame) + 120), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def rank_spread_figure(frame: pd.DataFrame) -> go.Figure:
    """Each candidate's best-to-worst rank over the seed ensemble, with its ensemble rank."""
    labels = [f"{r}. {e}" for r, e in zip(frame["rank"], frame["entity"])]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["best rank"], y=labels, mode="markers", name="best",
                             marker={"symbol": "line-ns-open", "size": 14}))
    fig.add_trace(go.Scatter(x=frame["worst rank"], y=labels, mode="markers", name="worst",
                             marker={"symbol": "line-ns-open", "size": 14}))
    fig.add_trace(go.Scatter(x=frame["rank"], y=labels, mode="markers", name="ensemble",
                             marker={"size": 9}))
    for b, w, y in zip(frame["best rank"], frame["worst rank"], labels):
        fig.add_shape(type="line", x0=b, x1=w, y0=y, y1=y, line={"color": "#888", "width": 2})
    fig.update_layout(xaxis_title="rank under one seed", yaxis={"autorange": "reversed"},
                      height=max(300, 26 * len(frame) + 120), margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


# ---------------------------------------------------------------- what-if


def pair_weights(matrix: sp.spmatrix, labels: Sequence[str]) -> dict[tuple[str, str], float]:
    """``{(label_i, label_j): weight}`` over the non-zero entries with ``i <= j``."""
    coo = sp.triu(sp.csr_matrix(matrix)).tocoo()
    return {(labels[i], labels[j]): float(w) for i, j, w in zip(coo.row, coo.col, coo.data)}


def affinity_changes(before: dict[tuple[str, str], float],
                     after: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Relation pairs whose weight changed, by name, sorted by the size of the change."""
    keys = set(before) | set(after)
    rows = [{"relation i": a, "relation j": b, "before": before.get((a, b), 0.0),
             "after": after.get((a, b), 0.0)} for a, b in keys]
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
