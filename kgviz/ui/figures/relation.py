"""Figure builders of the relation graph view: the pyvis graph coloured by bin, its legend, the
strongest pairs, the affinity heatmap and the β breakdown of a pair. Pure, no Streamlit.

Symbols: ``R`` relations (``2R`` with inverses), ``A`` the relation matrix shown.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import scipy.sparse as sp

from kgviz.graph.relgraph import Contribution, binned_edges, relation_label, strongest_pairs
from kgviz.ui.figures.colours import FADED, HIGHLIGHT, bin_colour, relation_colour
from kgviz.ui.figures.html_graph import network_html


def bin_summary(matrix: sp.spmatrix, num_bins: int) -> pd.DataFrame:
    """Per bin (as :func:`kgviz.graph.relgraph.binned_edges` assigns them, bin 0 strongest): colour,
    number of pairs ``i < j``, number of self-affinities ``A[r, r]``, smallest and largest weight.

    In the lecture and merged views the self-affinities are the largest entries, so bin 0 may
    hold self-affinities only and the strongest pairs start in a later bin.
    """
    m = sp.csr_matrix(matrix)
    e = binned_edges(m, num_bins)
    w = np.asarray(m[e[:, 0], e[:, 1]]).ravel() if len(e) else np.zeros(0)
    rows = []
    for b in range(num_bins):
        sel = e[:, 2] == b
        rows.append(
            {
                "bin": b,
                "colour": bin_colour(b, num_bins),
                "pairs": int((sel & (e[:, 0] < e[:, 1])).sum()),
                "self": int((sel & (e[:, 0] == e[:, 1])).sum()),
                "smallest": float(w[sel].min()) if sel.any() else float("nan"),
                "largest": float(w[sel].max()) if sel.any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def bin_legend_html(summary: pd.DataFrame, drawn_bins: Sequence[int]) -> str:
    """A one-line HTML legend of the bins drawn (colour swatch, bin, weights); numbers only, no
    user text. Bins holding only self-affinities are named as such (they are not drawn)."""
    parts = []
    for _, row in summary.iterrows():
        b = int(row["bin"])
        if b in drawn_bins:
            parts.append(
                f'<span style="color:{row["colour"]};font-size:1.2em">■</span> bin {b} '
                f"({row['smallest']:.3g}–{row['largest']:.3g})"
            )
        elif row["pairs"] == 0 and row["self"] > 0:
            parts.append(f"bin {b}: self-affinities only, not drawn")
    return " · ".join(parts)


def matrix_labels(relations: Sequence[str], size: int) -> list[str]:
    """Node labels of a relation matrix of ``size`` rows: ``R`` names or ``2R`` with inverses."""
    return [relation_label(r, relations) if size == 2 * len(relations) else relations[r] for r in range(size)]


def strongest_pairs_frame(matrix: sp.spmatrix, labels: Sequence[str], num_bins: int, top: int = 20) -> pd.DataFrame:
    """The ``top`` strongest off-diagonal pairs ``i < j`` with weight and bin (bin 0 strongest)."""
    pairs = strongest_pairs(matrix, top)
    bins = {(int(i), int(j)): int(b) for i, j, b in binned_edges(matrix, num_bins).tolist()}
    m = sp.csr_matrix(matrix)
    rows = [
        {
            "relation i": labels[i],
            "relation j": labels[j],
            "weight": float(m[i, j]),
            "bin": bins.get((int(i), int(j)), -1),
            "i": int(i),
            "j": int(j),
        }
        for i, j in pairs
    ]
    return pd.DataFrame(rows, columns=["relation i", "relation j", "weight", "bin", "i", "j"])


def relation_network_html(
    matrix: sp.spmatrix,
    labels: Sequence[str],
    num_bins: int,
    *,
    num_relations: int,
    selected: int | None = None,
    pair: tuple[int, int] | None = None,
    ids: Sequence[int] | None = None,
    short: Sequence[str] | None = None,
    max_edges: int = 300,
    height: int = 520,
) -> tuple[str, list[int]]:
    """Relation graph as an undirected pyvis graph: width ∝ weight, colour = bin (:func:`bin_colour`).

    Only the relations ``ids`` (all by default) are drawn, with the ``max_edges`` strongest
    off-diagonal edges among them; nodes are labelled ``short`` (default ``labels``), the
    tooltip gives the full name and the self-affinity ``A[r, r]``. The selected relation and pair
    are outlined in red and the pair's edge is red; with a relation selected, edges not touching
    it are grey. Returns ``(html, bins)``: the bin of each drawn edge.
    """
    m = sp.csr_matrix(matrix)
    shown = list(range(m.shape[0])) if ids is None else [int(i) for i in ids]
    names = list(labels) if short is None else list(short)
    keep = np.zeros(m.shape[0], dtype=bool)
    keep[shown] = True
    edges_binned = binned_edges(m, num_bins)
    off = edges_binned[(edges_binned[:, 0] < edges_binned[:, 1]) & keep[edges_binned[:, 0]] & keep[edges_binned[:, 1]]]
    w = np.asarray(m[off[:, 0], off[:, 1]]).ravel() if len(off) else np.zeros(0)
    order = np.argsort(-w, kind="stable")[:max_edges]
    wmax = float(w.max()) if len(w) else 1.0
    diag = m.diagonal()
    nodes = []
    for r in shown:
        node = {
            "id": r,
            "label": names[r],
            "title": f"{labels[r]}\nself-affinity A[r, r] = {diag[r]:.4f}",
            "color": relation_colour(r, num_relations),
            "shape": "dot",
            "size": 16,
            "font": {"size": 22 if len(shown) <= 15 else 40, "strokeWidth": 4, "strokeColor": "#ffffff"},
        }
        if r == selected or (pair is not None and r in pair):
            node.update(
                color={"background": relation_colour(r, num_relations), "border": HIGHLIGHT}, borderWidth=5, size=24
            )
        nodes.append(node)
    edges, bins = [], []
    for k in order:
        i, j, b = (int(x) for x in off[k])
        is_pair = pair is not None and {i, j} == set(pair)
        colour = HIGHLIGHT if is_pair else bin_colour(b, num_bins)
        if selected is not None and selected not in (i, j) and not is_pair:
            colour = FADED
        edges.append(
            {
                "from": i,
                "to": j,
                "width": 1 + 9 * float(w[k]) / wmax,
                "color": colour,
                "title": f"{labels[i]} — {labels[j]}\nweight {w[k]:.4f}, bin {b}",
            }
        )
        bins.append(b)
    return network_html(nodes, edges, directed=False, height=height), bins


def affinity_heatmap(
    matrix: sp.spmatrix,
    labels: Sequence[str],
    *,
    pair: tuple[int, int] | None = None,
    title: str = "",
    ids: Sequence[int] | None = None,
    short: Sequence[str] | None = None,
) -> go.Figure:
    """Heatmap of the relation matrix; zero entries are blank; the selected pair is outlined.

    ``ids`` picks and orders the relations shown (all, in id order, by default; see
    :func:`kgviz.graph.neighbourhood.cluster_order`); axes show ``short`` labels, hover the full ones.
    The colour scale ends at the largest off-diagonal weight shown (larger self-affinities
    saturate); hovering a cell shows its exact weight.
    """
    shown = list(range(matrix.shape[0])) if ids is None else [int(i) for i in ids]
    axis = [(labels if short is None else short)[i] for i in shown]
    full = [labels[i] for i in shown]
    z = sp.csr_matrix(matrix)[shown][:, shown].toarray().astype(float)
    z[z == 0] = np.nan
    # Self-affinities dwarf the pairs on real KGs: cap the colour scale at the largest pair.
    off = z[~np.eye(len(z), dtype=bool) & ~np.isnan(z)]
    zmax = float(off.max()) if off.size else None
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=axis,
            y=axis,
            colorscale="Viridis",
            hoverongaps=False,
            zmin=0,
            zmax=zmax,
            colorbar={"title": "weight"},
            hoverinfo="skip",
        )
    )
    # Near-transparent markers on the non-zero cells carry hover and click-to-select
    # (Streamlit reports selections of scatter points, not of heatmap cells); a point's
    # customdata is [weight, row id, column id] (ids of the matrix).
    rows, cols = np.nonzero(~np.isnan(z))
    ids_arr = np.asarray(shown)
    fig.add_trace(
        go.Scatter(
            x=[axis[c] for c in cols],
            y=[axis[r] for r in rows],
            mode="markers",
            marker={"symbol": "square", "size": 14, "opacity": 0.01, "color": "#000"},
            customdata=np.stack([z[rows, cols], ids_arr[rows], ids_arr[cols]], axis=1),
            showlegend=False,
            text=[f"{full[r]} — {full[c]}" for r, c in zip(rows, cols)],
            hovertemplate="%{text}<br>weight %{customdata[0]:.4f}<extra></extra>",
        )
    )
    if pair is not None and pair[0] in shown and pair[1] in shown:
        _outline(fig, (shown.index(pair[0]), shown.index(pair[1])))
    fig.update_layout(
        title=title,
        height=max(380, 18 * len(shown) + 200),
        yaxis={"autorange": "reversed", "tickfont": {"size": 12}},
        xaxis={"tickfont": {"size": 12}},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def _outline(fig: go.Figure, pair: tuple[int, int] | None) -> None:
    if pair is None:
        return
    for i, j in {pair, pair[::-1]}:
        fig.add_shape(
            type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5, line={"color": HIGHLIGHT, "width": 3}
        )


def _term(c: Contribution) -> str:
    if c.count_i == c.count_j == 1:
        return f"(1/{c.degree})²"
    return f"{c.count_i}·{c.count_j}/{c.degree}²"


def beta_breakdown(
    contributions: Sequence[Contribution],
    entities: Sequence[str],
    pair_labels: Sequence[str] | None = None,
    *,
    max_terms: int = 8,
) -> tuple[pd.DataFrame, str]:
    """Table of the shared entities of a relation pair and the formula of its weight.

    Each row is one term ``count_i · count_j / degree²``; the formula reads like the lecture's
    ``(1/3)² + (1/7)² = 0.13``, its first ``max_terms`` terms then ``+ … (k more terms)``.
    ``pair_labels`` (optional, one per contribution) names the sub-pair a term belongs to when
    the pair is a merged relation family.
    """
    rows = []
    for k, c in enumerate(contributions):
        row = {
            "entity": entities[c.entity],
            "role": c.role,
            "count i": c.count_i,
            "count j": c.count_j,
            "degree": c.degree,
            "term": _term(c),
            "contribution": c.value,
        }
        if pair_labels is not None:
            row = {"pair": pair_labels[k], **row}
        rows.append(row)
    total = float(sum(c.value for c in contributions))
    formula = " + ".join(_term(c) for c in contributions[:max_terms]) if contributions else "0"
    if len(contributions) > max_terms:
        rest = len(contributions) - max_terms
        formula += f" + … ({rest} more term{'s' if rest > 1 else ''})"
    return pd.DataFrame(rows), f"{formula} = {total:.2f}"
