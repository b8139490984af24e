"""Figures of the classroom walkthrough: pure builders (data → ``go.Figure``), no Streamlit.

Two kinds of graph, both with fixed positions (so a node stays put from one step to the next)
and highlighted nodes/edges for the step on screen:

- :func:`kg_figure` — the entity graph (nodes = entities, arrows = triples);
- :func:`relation_figure` — a relation graph (nodes = relations, undirected weighted edges),
  for the lecture's β view and for the exact ``2R`` graph the model uses.

Large KGs are cut to the neighbourhood of the highlighted nodes (``max_nodes``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..data import KnowledgeGraph
from ..neighbourhood import neighbourhood_entities, short_labels
from .colours import relation_colour

__all__ = [
    "kg_figure",
    "relation_figure",
    "kg_positions",
    "lecture_beta_table",
    "place_labels",
    "plotly_text",
    "HIGHLIGHT",
    "QUERY",
]

# Relations take figures.PALETTE, which has no red or orange: those mark the query and the highlights.
HIGHLIGHT = "#ff7f0e"
QUERY = "#d62728"
MUTED = "#c8c8c8"
NODE = "#4c78a8"


@dataclass(frozen=True)
class _Edge:
    src: int
    dst: int
    label: str
    color: str
    width: float
    opacity: float
    hover: str


def plotly_text(s: str) -> str:
    """``s`` as literal text in a plotly label: ``&``, ``<``, ``>`` escaped, quotes left alone
    (plotly shows ``&quot;`` literally: it decodes only a few named entities)."""
    return html.escape(s, quote=False)


def kg_positions(kg: KnowledgeGraph, nodes: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Deterministic 2-D positions of ``nodes`` (Kamada–Kawai; spring layout, seed 0, when large)."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    keep = set(nodes)
    g.add_edges_from((h, t) for h, _, t in kg.triples.tolist() if h in keep and t in keep and h != t)
    if len(g) <= 1:
        return {n: (0.0, 0.0) for n in g}
    if len(g) <= 80 and nx.is_connected(g):
        pos = nx.kamada_kawai_layout(g)
    else:
        pos = nx.spring_layout(g, seed=0, k=1.6 / math.sqrt(len(g)), iterations=200)
    return {int(n): (float(x), float(y)) for n, (x, y) in pos.items()}


def _offset(p, q, amount):
    """Shift segment ``p→q`` sideways by ``amount`` (for a pair of opposite edges)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy) or 1.0
    ox, oy = -dy / n * amount, dx / n * amount
    return (x0 + ox, y0 + oy), (x1 + ox, y1 + oy)


PLOT_WIDTH_PX = 440  # the width a classroom figure gets in its column (at least), for placing labels


@dataclass(frozen=True)
class _Label:
    x: float
    y: float
    text: str
    yshift: float
    font_size: int
    color: str
    opacity: float


def _label_box(lab: _Label, to_px) -> tuple[float, float, float, float]:
    """Pixel box ``(x0, y0, x1, y1)`` a label covers (about 0.58 em per character, 1.25 em high)."""
    cx, cy = to_px(lab.x, lab.y)
    cy -= lab.yshift
    w, h = 0.58 * lab.font_size * len(lab.text) + 4, 1.25 * lab.font_size
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def place_labels(labels: Sequence[_Label], to_px, width: float = math.inf) -> list[bool]:
    """Which labels to show: in order (most important first), each one that lies within
    ``[0, width]`` pixels across (give or take the 10 px margin) and overlaps no box already kept. ``to_px`` maps data to pixel
    coordinates (y down)."""
    kept: list[tuple[float, float, float, float]] = []
    shown = []
    for lab in labels:
        x0, y0, x1, y1 = _label_box(lab, to_px)
        ok = (
            x0 >= -10
            and x1 <= width + 10
            and all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1 for a0, b0, a1, b1 in kept)
        )
        if ok:
            kept.append((x0, y0, x1, y1))
        shown.append(ok)
    return shown


def _network(
    pos: Mapping[int, tuple[float, float]],
    labels: Mapping[int, str],
    node_hover: Mapping[int, str],
    node_color: Mapping[int, str],
    node_size: Mapping[int, float],
    edges: Sequence[_Edge],
    *,
    directed: bool,
    font_size: int,
    height: int,
    edge_labels: bool,
    extra_traces: Sequence[go.Scatter] = (),
    first_labels: Iterable[int] = (),
) -> go.Figure:
    """Nodes, arrows and labels; labels that would overlap one already placed are left out
    (node labels of ``first_labels`` first, then edge labels, then the other node labels, larger
    nodes first). ``layout.meta`` counts them: ``node_labels``/``edge_labels`` shown of
    ``nodes``/``labelled_edges``."""
    fig = go.Figure()
    pairs = {(e.src, e.dst) for e in edges}
    span = max((max(abs(x), abs(y)) for x, y in pos.values()), default=1.0) or 1.0
    pad = 0.18 * span
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    xr = (min(xs) - 1.6 * pad, max(xs) + 1.6 * pad)  # room for the names of the outer nodes
    yr = (min(ys) - pad, max(ys) + pad * 1.3)

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (
            (x - xr[0]) / (xr[1] - xr[0] or 1) * (PLOT_WIDTH_PX - 20),
            (yr[1] - y) / (yr[1] - yr[0] or 1) * (height - 20),
        )

    annotations, mid_x, mid_y, mid_hover = [], [], [], []
    edge_marks: list[_Label] = []
    for e in edges:
        p, q = pos[e.src], pos[e.dst]
        if e.src == e.dst:  # self-loop: a small label above the node only
            mid_x.append(p[0])
            mid_y.append(p[1])
            mid_hover.append(plotly_text(e.hover))
            if edge_labels and e.label:
                edge_marks.append(
                    _Label(
                        p[0],
                        p[1],
                        e.label,
                        font_size * 1.6,
                        max(9, font_size - 3),
                        e.color if e.color != MUTED else "#999",
                        1.0,
                    )
                )
            continue
        if (e.dst, e.src) in pairs and directed:
            p, q = _offset(p, q, 0.025 * span)
        annotations.append(
            dict(
                x=q[0],
                y=q[1],
                ax=p[0],
                ay=p[1],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=3 if directed else 0,
                arrowsize=1.1,
                arrowwidth=e.width,
                arrowcolor=e.color,
                opacity=e.opacity,
                standoff=11,
                startstandoff=11,
            )
        )
        mx, my = (p[0] + q[0]) / 2, (p[1] + q[1]) / 2
        mid_x.append(mx)
        mid_y.append(my)
        mid_hover.append(plotly_text(e.hover))
        if edge_labels and e.label:  # a label box that hides the line under it; grey on a muted edge
            edge_marks.append(
                _Label(mx, my, e.label, 0, max(9, font_size - 3), e.color if e.color != MUTED else "#999", 1.0)
            )
    first = [n for n in dict.fromkeys(first_labels) if n in pos]
    rest = sorted((n for n in pos if n not in set(first)), key=lambda n: (-node_size[n], n))
    node_marks = {
        n: _Label(pos[n][0], pos[n][1], labels[n], node_size[n] / 2 + font_size * 0.75, font_size, "#222", 1.0)
        for n in pos
    }
    order = [node_marks[n] for n in first] + edge_marks + [node_marks[n] for n in rest]
    shown = dict(zip(map(id, order), place_labels(order, to_px, PLOT_WIDTH_PX - 20)))
    for lab in edge_marks:
        if shown[id(lab)]:
            annotations.append(
                dict(
                    x=lab.x,
                    y=lab.y,
                    xref="x",
                    yref="y",
                    text=plotly_text(lab.text),
                    showarrow=False,
                    yshift=lab.yshift,
                    font=dict(size=lab.font_size, color=lab.color),
                    bgcolor="rgba(255,255,255,0.85)",
                    borderpad=1,
                )
            )
    for n in first + rest:  # node names drawn after (above) the edge labels
        lab = node_marks[n]
        if shown[id(lab)]:
            annotations.append(
                dict(
                    x=lab.x,
                    y=lab.y,
                    xref="x",
                    yref="y",
                    text=plotly_text(lab.text),
                    showarrow=False,
                    yshift=lab.yshift,
                    font=dict(size=font_size, color="#222"),
                    bgcolor="rgba(255,255,255,0.7)",
                    borderpad=0,
                )
            )
    for tr in extra_traces:
        fig.add_trace(tr)
    fig.add_trace(
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker=dict(size=8, opacity=0),
            hovertext=mid_hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    ids = list(pos)
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in ids],
            y=[pos[n][1] for n in ids],
            mode="markers",
            hovertext=[plotly_text(node_hover[n]) for n in ids],
            hoverinfo="text",
            marker=dict(
                size=[node_size[n] for n in ids], color=[node_color[n] for n in ids], line=dict(width=1, color="white")
            ),
            showlegend=False,
        )
    )
    fig.update_layout(
        annotations=annotations,
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False, range=list(xr)),
        yaxis=dict(visible=False, range=list(yr)),
        plot_bgcolor="white",
        paper_bgcolor="white",
        dragmode="pan",
        meta={
            "nodes": len(ids),
            "node_labels": sum(shown[id(node_marks[n])] for n in ids),
            "labelled_edges": len(edge_marks),
            "edge_labels": sum(shown[id(m)] for m in edge_marks),
        },
        legend=dict(orientation="h", yanchor="bottom", y=0, x=0, font=dict(size=max(10, font_size - 2))),
    )
    return fig


def kg_figure(
    kg: KnowledgeGraph,
    *,
    highlight_nodes: Iterable[int] = (),
    highlight_edges: Iterable[int] = (),
    edge_width: Mapping[int, float] | None = None,
    edge_hover: Mapping[int, str] | None = None,
    node_hover: Mapping[int, str] | None = None,
    query: tuple[int, str, int | None] | None = None,
    max_nodes: int = 30,
    font_size: int = 14,
    height: int = 520,
) -> go.Figure:
    """The entity graph with highlighted nodes and triples.

    Args:
        highlight_nodes: entity ids drawn large and orange (their names are placed first).
        highlight_edges: triple indices (rows of ``kg.triples``) drawn thick in their relation's
            colour; when any is given, the other triples are muted (grey). Without them every
            arrow has its relation's colour.
        edge_width: optional width per triple index (e.g. proportional to attention).
        query: ``(anchor, relation name, answer or None)``: a dashed red "?" edge from the anchor.
        max_nodes: larger KGs show the highlighted nodes and their neighbourhood only.

    Names are :func:`kgviz.neighbourhood.short_labels` (full names on hover); a label that would
    overlap another is left out (:func:`place_labels`).
    """
    hl_nodes = [int(n) for n in highlight_nodes]
    hl_edges = {int(e) for e in highlight_edges}
    focus = hl_nodes + ([query[0]] if query else [])
    nodes = neighbourhood_entities(kg, focus + [int(x) for e in hl_edges for x in kg.triples[e, [0, 2]]], max_nodes)
    keep = set(nodes)
    pos = kg_positions(kg, nodes)
    muting = bool(hl_edges)
    rel_color = {r: relation_colour(r) for r in range(kg.num_relations)}
    rel_name = short_labels(kg.relations, 20)
    edges = []
    for k, (h, r, t) in enumerate(kg.triples.tolist()):
        if h not in keep or t not in keep:
            continue
        on = k in hl_edges or not muting
        width = (edge_width or {}).get(k, 3.0 if (k in hl_edges) else 1.5)
        edge_hover_text = (edge_hover or {}).get(k, f"{kg.entities[h]} —{kg.relations[r]}→ {kg.entities[t]}")
        edges.append(
            _Edge(h, t, rel_name[r], rel_color[r] if on else MUTED, width, 1.0 if on else 0.55, edge_hover_text)
        )
    hl = set(hl_nodes)
    labels = dict(zip(nodes, short_labels([kg.entities[n] for n in nodes], 24)))
    color = {n: HIGHLIGHT if n in hl else (NODE if not (hl or muting) else "#9db4cf") for n in nodes}
    size = {n: 26 if n in hl else 16 for n in nodes}
    hover = {n: (node_hover or {}).get(n, kg.entities[n]) for n in nodes}
    extra = []
    if query is not None:
        anchor, query_rel, answer = query
        if anchor in pos:
            ax, ay = pos[anchor]
            if answer is not None and answer in pos:
                tx, ty = pos[answer]
            else:
                span = max((max(abs(x), abs(y)) for x, y in pos.values()), default=1.0) or 1.0
                tx, ty = ax + 0.25 * span, ay - 0.25 * span
            extra.append(
                go.Scatter(
                    x=[ax, tx],
                    y=[ay, ty],
                    mode="lines",  # named in the legend
                    line=dict(color=QUERY, width=3, dash="dash"),
                    hoverinfo="skip",
                    name=plotly_text(f"query: {query_rel} ?"),
                )
            )
            color[anchor] = QUERY if anchor not in hl else HIGHLIGHT
            size[anchor] = 26
    fig = _network(
        pos,
        labels,
        hover,
        color,
        size,
        edges,
        directed=True,
        font_size=font_size,
        height=height,
        edge_labels=len(edges) <= 70,
        extra_traces=extra,
        first_labels=focus,
    )
    if len(nodes) < kg.num_entities:
        fig.add_annotation(
            text=f"showing {len(nodes)} of {kg.num_entities} entities",
            xref="paper",
            yref="paper",
            x=1,
            y=0,
            showarrow=False,
            font=dict(size=11, color="#777"),
        )
    return fig


def relation_figure(
    labels: Sequence[str],
    weights: np.ndarray,
    *,
    highlight: Iterable[int] = (),
    highlight_pairs: Iterable[tuple[int, int]] = (),
    edge_text: Mapping[tuple[int, int], str] | None = None,
    edge_width: Mapping[tuple[int, int], float] | None = None,
    edge_color: Mapping[tuple[int, int], str] | None = None,
    max_nodes: int = 16,
    max_edges: int = 60,
    font_size: int = 14,
    height: int = 480,
) -> go.Figure:
    """An undirected relation graph on a circle, edge labels = weights with 2 decimals (grey on a
    muted edge; labels that would overlap are left out, ``layout.meta`` counts them).

    ``weights`` is a dense symmetric ``(n, n)`` matrix; the diagonal (self-loops) is not drawn.
    Pairs are ``(i, j)`` with ``i < j``. With more than ``max_nodes`` relations only the
    highlighted ones and their strongest neighbours (or the strongest pairs) are drawn; at most
    ``max_edges`` edges, strongest first, plus the highlighted pairs. ``edge_text`` replaces the
    weights as labels (an edge missing from it gets none).
    """
    w = np.asarray(weights, dtype=float)
    hl_pairs = {(min(p), max(p)) for p in highlight_pairs}
    hl = {int(x) for x in highlight} | {x for p in hl_pairs for x in p}
    iu, ju = np.nonzero(np.triu(w, k=1))
    order = np.lexsort((ju, iu, -w[iu, ju]))
    ranked = [(int(iu[k]), int(ju[k])) for k in order]
    nodes = list(range(len(labels)))
    if len(nodes) > max_nodes:
        keep = list(dict.fromkeys(sorted(hl)))
        touching = [p for p in ranked if p[0] in hl or p[1] in hl] if hl else ranked
        for p in touching + ranked:
            for x in p:
                if len(keep) < max_nodes and x not in keep:
                    keep.append(x)
        nodes = sorted(keep)
    kept = set(nodes)
    chosen = [p for p in ranked if p[0] in kept and p[1] in kept][:max_edges]
    chosen += [p for p in hl_pairs if p not in chosen and w[p] > 0]
    n = len(nodes)
    pos = {
        x: (math.cos(math.pi / 2 - 2 * math.pi * k / max(n, 1)), math.sin(math.pi / 2 - 2 * math.pi * k / max(n, 1)))
        for k, x in enumerate(nodes)
    }
    muting = bool(hl_pairs or hl)
    wmax = max((w[p] for p in chosen), default=1.0) or 1.0
    edges = []
    for p in chosen:
        on = (p in hl_pairs) or (not hl_pairs and (not hl or p[0] in hl or p[1] in hl))
        width = (edge_width or {}).get(p, 1.0 + 5.0 * w[p] / wmax)
        color = (edge_color or {}).get(p, HIGHLIGHT if p in hl_pairs else "#4c78a8")
        text = f"{w[p]:.2f}" if edge_text is None else edge_text.get(p, "")
        edges.append(
            _Edge(
                p[0],
                p[1],
                text,
                color if on or not muting else MUTED,
                width,
                1.0 if on or not muting else 0.5,
                f"{labels[p[0]]} — {labels[p[1]]}: {w[p]:.4f}",
            )
        )
    node_color = {i: HIGHLIGHT if i in hl else NODE for i in nodes}
    node_size = {i: 30 if i in hl else 22 for i in nodes}
    names = dict(zip(nodes, short_labels([labels[i] for i in nodes], 24)))
    fig = _network(
        pos,
        names,
        {i: labels[i] for i in nodes},
        node_color,
        node_size,
        edges,
        directed=False,
        font_size=font_size,
        height=height,
        edge_labels=len(edges) <= 45,
        first_labels=sorted(hl),
    )
    if n < len(labels):
        fig.add_annotation(
            text=f"showing {n} of {len(labels)} relations",
            xref="paper",
            yref="paper",
            x=1,
            y=0,
            showarrow=False,
            font=dict(size=11, color="#777"),
        )
    return fig


def lecture_beta_table(beta: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """The lecture's ``(R, R)`` β as a table: two decimals, ``·`` for no edge, ``—`` on the
    diagonal (the lecture's relation graph has no self-loops; ``β(r, r)`` is not an edge)."""
    cells = [
        ["—" if i == j else (f"{beta[i, j]:.2f}" if beta[i, j] else "·") for j in range(len(names))]
        for i in range(len(names))
    ]
    return pd.DataFrame(cells, index=list(names), columns=list(names))
