"""Drawing a small network in plotly at fixed positions: arrows, node markers, labels that do not overlap.

The classroom figures (:mod:`kgviz.ui.figures.classroom`) are built on :func:`network_figure`.
Labels are placed in order of importance, each one only where it overlaps no label already placed
(:func:`place_labels`, boxes estimated from the font size).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import networkx as nx
import plotly.graph_objects as go

from kgviz.graph.data import KnowledgeGraph

__all__ = [
    "Edge",
    "Label",
    "Nodes",
    "network_figure",
    "kg_positions",
    "place_labels",
    "label_box",
    "plotly_text",
    "MUTED",
]

MUTED = "#c8c8c8"


@dataclass(frozen=True)
class Edge:
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
class Label:
    x: float
    y: float
    text: str
    yshift: float
    font_size: int
    color: str
    opacity: float


def label_box(lab: Label, to_px) -> tuple[float, float, float, float]:
    """Pixel box ``(x0, y0, x1, y1)`` a label covers (about 0.58 em per character, 1.25 em high)."""
    cx, cy = to_px(lab.x, lab.y)
    cy -= lab.yshift
    w, h = 0.58 * lab.font_size * len(lab.text) + 4, 1.25 * lab.font_size
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def place_labels(labels: Sequence[Label], to_px, width: float = math.inf) -> list[bool]:
    """Which labels to show: in order (most important first), each one that lies within
    ``[0, width]`` pixels across (give or take the 10 px margin) and overlaps no box already kept. ``to_px`` maps data to pixel
    coordinates (y down)."""
    kept: list[tuple[float, float, float, float]] = []
    shown = []
    for lab in labels:
        x0, y0, x1, y1 = label_box(lab, to_px)
        ok = (
            x0 >= -10
            and x1 <= width + 10
            and all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1 for a0, b0, a1, b1 in kept)
        )
        if ok:
            kept.append((x0, y0, x1, y1))
        shown.append(ok)
    return shown


@dataclass(frozen=True)
class Nodes:
    """The nodes to draw, each keyed by its id: position, label, hover text, colour and marker size."""

    pos: Mapping[int, tuple[float, float]]
    labels: Mapping[int, str]
    hover: Mapping[int, str]
    color: Mapping[int, str]
    size: Mapping[int, float]


def _label_annotation(lab: Label, background: str, *, borderpad: int) -> dict:
    """A plotly text annotation showing ``lab`` on a ``background`` box."""
    return dict(
        x=lab.x,
        y=lab.y,
        xref="x",
        yref="y",
        text=plotly_text(lab.text),
        showarrow=False,
        yshift=lab.yshift,
        font=dict(size=lab.font_size, color=lab.color),
        bgcolor=background,
        borderpad=borderpad,
    )


def _edge_marks(
    edges: Sequence[Edge], pos: Mapping[int, tuple[float, float]], directed: bool, font_size: int, edge_labels: bool
) -> tuple[list[dict], list[float], list[float], list[str], list[Label]]:
    """Each edge as an arrow annotation (a two-way pair drawn apart), the midpoints that carry its hover text,
    and its label box (a self-loop: a label above its node only)."""
    pairs = {(e.src, e.dst) for e in edges}
    span = max((max(abs(x), abs(y)) for x, y in pos.values()), default=1.0) or 1.0
    annotations: list[dict] = []
    mid_x: list[float] = []
    mid_y: list[float] = []
    mid_hover: list[str] = []
    edge_marks: list[Label] = []
    for e in edges:
        p, q = pos[e.src], pos[e.dst]
        if e.src == e.dst:  # self-loop: a small label above the node only
            mid_x.append(p[0])
            mid_y.append(p[1])
            mid_hover.append(plotly_text(e.hover))
            if edge_labels and e.label:
                edge_marks.append(
                    Label(
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
                Label(mx, my, e.label, 0, max(9, font_size - 3), e.color if e.color != MUTED else "#999", 1.0)
            )
    return annotations, mid_x, mid_y, mid_hover, edge_marks


def _marker_traces(
    nodes: Nodes, ids: list[int], mid_x: list[float], mid_y: list[float], mid_hover: list[str]
) -> list[go.Scatter]:
    """Invisible markers at the edges' midpoints (their hover text), then the nodes (size, colour, hover)."""
    pos = nodes.pos
    return [
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker=dict(size=8, opacity=0),
            hovertext=mid_hover,
            hoverinfo="text",
            showlegend=False,
        ),
        go.Scatter(
            x=[pos[n][0] for n in ids],
            y=[pos[n][1] for n in ids],
            mode="markers",
            hovertext=[plotly_text(nodes.hover[n]) for n in ids],
            hoverinfo="text",
            marker=dict(
                size=[nodes.size[n] for n in ids],
                color=[nodes.color[n] for n in ids],
                line=dict(width=1, color="white"),
            ),
            showlegend=False,
        ),
    ]


def network_figure(
    nodes: Nodes,
    edges: Sequence[Edge],
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
    pos, labels, node_size = nodes.pos, nodes.labels, nodes.size
    fig = go.Figure()
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

    annotations, mid_x, mid_y, mid_hover, edge_marks = _edge_marks(edges, pos, directed, font_size, edge_labels)
    first = [n for n in dict.fromkeys(first_labels) if n in pos]
    rest = sorted((n for n in pos if n not in set(first)), key=lambda n: (-node_size[n], n))
    node_marks = {
        n: Label(pos[n][0], pos[n][1], labels[n], node_size[n] / 2 + font_size * 0.75, font_size, "#222", 1.0)
        for n in pos
    }
    order = [node_marks[n] for n in first] + edge_marks + [node_marks[n] for n in rest]
    shown = dict(zip(map(id, order), place_labels(order, to_px, PLOT_WIDTH_PX - 20)))
    for lab in edge_marks:
        if shown[id(lab)]:
            annotations.append(_label_annotation(lab, "rgba(255,255,255,0.85)", borderpad=1))
    for n in first + rest:  # node names drawn after (above) the edge labels
        lab = node_marks[n]
        if shown[id(lab)]:
            annotations.append(_label_annotation(lab, "rgba(255,255,255,0.7)", borderpad=0))
    for tr in extra_traces:
        fig.add_trace(tr)
    ids = list(pos)
    for tr in _marker_traces(nodes, ids, mid_x, mid_y, mid_hover):
        fig.add_trace(tr)
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
