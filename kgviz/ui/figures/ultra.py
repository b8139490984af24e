"""Figures and tables of ULTRA: its four-type relation graph and the paths behind an answer.

Pure builders (library results in, ``go.Figure`` / ``pd.DataFrame`` out), no Streamlit:

- :func:`ultra_relation_figure` — ULTRA's relation graph (:func:`kgviz.models.ultra.graph.named_relation_graph`):
  the ``2R`` relations (``r`` and ``r⁻¹``) on a circle, one line per pair and interaction type, coloured by type;
- :func:`path_frame`, :func:`path_text`, :func:`path_triples` — the paths of
  :func:`kgviz.models.ultra.paths.explain_paths` as readable triples and as rows of ``kg.triples``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.ultra.graph import NamedRelationEdge
from kgviz.models.ultra.paths import ExplainedPath, PathStep
from kgviz.graph.neighbourhood import short_labels
from kgviz.ui.figures.network import plotly_text

__all__ = [
    "KIND_COLOURS",
    "KIND_MEANING",
    "ultra_relation_figure",
    "kind_counts",
    "step_text",
    "path_text",
    "path_frame",
    "path_triples",
    "path_entities",
]

# hh, tt, ht, th: the four interaction types of ULTRA's relation graph (legend order)
KIND_COLOURS = {"hh": "#1f77b4", "tt": "#2ca02c", "ht": "#9467bd", "th": "#8c564b"}
KIND_MEANING = {
    "hh": "head–head: the two relations share a head entity",
    "tt": "tail–tail: they share a tail entity",
    "ht": "head–tail: a head of the first is a tail of the second",
    "th": "tail–head: a tail of the first is a head of the second",
}
NODE_COLOUR, SELECTED = "#4c78a8", "#d62728"


def kind_counts(edges: Sequence[NamedRelationEdge]) -> dict[str, int]:
    """How many edges of each interaction type (self-loops included), in :data:`KIND_COLOURS` order."""
    c = Counter(e.kind for e in edges)
    return {k: c.get(k, 0) for k in KIND_COLOURS}


def _drawn_relations(names: Sequence[str], edges: Sequence[NamedRelationEdge], highlight: set[str], limit: int):
    """At most ``limit`` relation names: the highlighted ones, then those with most edges to them, then the busiest."""
    if len(names) <= limit:
        return list(names)
    degree = Counter(x for e in edges if e.source != e.target for x in (e.source, e.target))
    near = Counter(other for e in edges for a, other in ((e.source, e.target), (e.target, e.source)) if a in highlight)
    ranked = sorted(names, key=lambda n: (n not in highlight, -near.get(n, 0), -degree.get(n, 0), n))
    return sorted(ranked[:limit], key=list(names).index)


def _pairs(
    drawn: Sequence[str], edges: Sequence[NamedRelationEdge]
) -> tuple[dict[tuple[str, str], set[str]], Counter[str]]:
    """The interaction types of each drawn pair ``(a, b)`` (``a`` before ``b`` in ``drawn``; an edge stored as
    ``(b, a, k)`` counts as its reversed type), and each relation's number of self-loops."""
    reverse = {"hh": "hh", "tt": "tt", "ht": "th", "th": "ht"}
    order = {x: i for i, x in enumerate(drawn)}
    pairs: dict[tuple[str, str], set[str]] = {}
    loops: Counter[str] = Counter()
    for e in edges:
        if e.source not in order or e.target not in order:
            continue
        if e.source == e.target:
            loops[e.source] += 1
            continue
        a, b = sorted((e.source, e.target), key=order.__getitem__)
        pairs.setdefault((a, b), set()).add(e.kind if a == e.source else reverse[e.kind])
    return pairs, loops


def _kind_traces(kind: str, pairs: dict[tuple[str, str], set[str]], pos: dict, width: float) -> list[go.Scatter]:
    """The lines of one interaction type (offset across each pair's line: four types side by side) and an
    invisible marker at each line's middle for its hover text."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    mid_x, mid_y, hover = [], [], []
    shift = 0.018 * (list(KIND_COLOURS).index(kind) - 1.5)
    for (a, b), present in pairs.items():
        if kind not in present:
            continue
        (x0, y0), (x1, y1) = pos[a], pos[b]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        dx, dy = -(y1 - y0) / length * shift, (x1 - x0) / length * shift
        xs += [x0 + dx, x1 + dx, None]
        ys += [y0 + dy, y1 + dy, None]
        mid_x.append((x0 + x1) / 2 + dx)
        mid_y.append((y0 + y1) / 2 + dy)
        hover.append(plotly_text(f"{kind}: {a} — {b}"))
    colour = KIND_COLOURS[kind]
    return [
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color=colour, width=width),
            name=plotly_text(KIND_MEANING[kind]),
            hoverinfo="skip",
            legendgroup=kind,
        ),
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker=dict(size=6, color=colour, opacity=0.0),
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
            legendgroup=kind,
        ),
    ]


def _outward(x: float, y: float) -> str:
    """Where a node's label goes so it lies outside the circle: above, below, left or right of the node."""
    if abs(x) > 0.75:
        return "middle right" if x > 0 else "middle left"
    return "top center" if y >= 0 else "bottom center"


def ultra_relation_figure(
    names: Sequence[str],
    edges: Sequence[NamedRelationEdge],
    *,
    highlight: Iterable[str] = (),
    max_nodes: int = 16,
    height: int = 640,
) -> go.Figure:
    """ULTRA's relation graph: the relations ``names`` (``2R``: ``r`` then ``r⁻¹``) on a circle; for each pair
    ``{i, j}`` one straight line per interaction type ``k`` it has (``(i, j, k)`` or ``(j, i, k')`` stored,
    ``k'`` the reversed type), drawn side by side (offset across the pair's line) and coloured by type
    (:data:`KIND_COLOURS`), with a legend. Self-loops (a relation with itself) are counted in the hover text
    of the node, not drawn. With more than ``max_nodes`` relations only the ``highlight`` ones and their
    most connected neighbours are drawn (a note says how many)."""
    hl = set(highlight)
    drawn = _drawn_relations(list(names), edges, hl, max_nodes)
    n = len(drawn)
    angle = [math.pi / 2 - 2 * math.pi * k / max(n, 1) for k in range(n)]
    pos = {x: (math.cos(a), math.sin(a)) for x, a in zip(drawn, angle)}
    pairs, loops = _pairs(drawn, edges)
    fig = go.Figure([t for kind in KIND_COLOURS for t in _kind_traces(kind, pairs, pos, 2.0 if hl else 2.5)])
    labels = dict(zip(drawn, short_labels(drawn, 22)))
    fig.add_trace(
        go.Scatter(
            x=[pos[x][0] for x in drawn],
            y=[pos[x][1] for x in drawn],
            mode="markers+text",
            marker=dict(
                size=[26 if x in hl else 18 for x in drawn], color=[SELECTED if x in hl else NODE_COLOUR for x in drawn]
            ),
            text=[plotly_text(labels[x]) for x in drawn],
            textposition=[_outward(*pos[x]) for x in drawn],  # labels outside the circle, off the lines
            textfont=dict(size=14),
            hovertext=[plotly_text(f"{x}: {loops.get(x, 0)} self-loop(s) (not drawn)") for x in drawn],
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis=dict(visible=False, range=[-1.6, 1.6]),
        yaxis=dict(visible=False, range=[-1.25, 1.25], scaleanchor="x"),
        legend=dict(orientation="h", y=-0.02, title_text="interaction type"),
        plot_bgcolor="white",
        meta={"relations_drawn": n, "relations": len(names), "pairs": len(pairs)},
    )
    if n < len(names):
        note = f"showing {n} of {len(names)} relations"
        fig.add_annotation(text=note, xref="paper", yref="paper", x=1, y=1, showarrow=False, font=dict(size=11))
    return fig


def step_text(step: PathStep) -> str:
    """One step as a triple: ``(h, r, t)``, or ``(h, r, t) read backwards`` when the path walks it tail → head."""
    triple = f"({step.head}, {step.relation}, {step.tail})"
    return f"{triple} read backwards" if step.inverse else triple


def path_text(path: ExplainedPath, anchor: str) -> str:
    """The walk from ``anchor``: ``A —r→ B —s⁻¹→ C`` (``⁻¹``: a triple walked from its tail to its head)."""
    out, here = [anchor], anchor
    for step in path.steps:
        here = step.head if step.inverse else step.tail
        out.append(f"—{step.relation}{'⁻¹' if step.inverse else ''}→ {here}")
    return " ".join(out)


def path_frame(paths: Sequence[ExplainedPath], anchor: str) -> pd.DataFrame:
    """One row per path, best first: its weight (mean edge gradient), length, the walk, and its triples."""
    return pd.DataFrame(
        [
            {
                "path": i + 1,
                "weight": p.weight,
                "length": len(p.steps),
                "walk": path_text(p, anchor),
                "triples": "; ".join(step_text(s) for s in p.steps),
            }
            for i, p in enumerate(paths)
        ],
        columns=["path", "weight", "length", "walk", "triples"],
    )


def path_triples(kg: KnowledgeGraph, paths: Sequence[ExplainedPath]) -> list[int]:
    """Rows of ``kg.triples`` that the paths walk (each once, in order of first use)."""
    index = {(int(h), int(r), int(t)): k for k, (h, r, t) in enumerate(kg.triples.tolist())}
    out: list[int] = []
    for p in paths:
        for s in p.steps:
            key = (kg.entity_index[s.head], kg.relation_index[s.relation], kg.entity_index[s.tail])
            k = index.get(key)
            if k is not None and k not in out:
                out.append(k)
    return out


def path_entities(kg: KnowledgeGraph, paths: Sequence[ExplainedPath]) -> list[int]:
    """Ids of the entities the paths pass through (each once, in order of first visit)."""
    names = dict.fromkeys(x for p in paths for s in p.steps for x in (s.head, s.tail))
    return [kg.entity_index[n] for n in names]
