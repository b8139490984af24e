"""Figures of the classroom walkthrough: pure builders (data → ``go.Figure``), no Streamlit.

Two kinds of graph, both with fixed positions (so a node stays put from one step to the next)
and highlighted nodes/edges for the step on screen:

- :func:`kg_figure` — the entity graph (nodes = entities, arrows = triples);
- :func:`relation_figure` — a relation graph (nodes = relations, undirected weighted edges),
  for the lecture's β view and for the exact ``2R`` graph the model uses.

Large KGs are cut to the neighbourhood of the highlighted nodes (``max_nodes``).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kgviz.graph.data import KnowledgeGraph
from kgviz.graph.neighbourhood import neighbourhood_entities, short_labels
from kgviz.ui.figures.colours import relation_colour
from kgviz.ui.figures.network import MUTED, Edge, Nodes, kg_positions, network_figure, plotly_text

__all__ = [
    "kg_figure",
    "relation_figure",
    "lecture_beta_table",
    "HIGHLIGHT",
    "QUERY",
]

# Relations take figures.PALETTE, which has no red or orange: those mark the query and the highlights.
HIGHLIGHT = "#ff7f0e"
QUERY = "#d62728"
NODE = "#4c78a8"


def _corner_note(fig: go.Figure, text: str) -> None:
    """A small grey note in the figure's lower right corner (e.g. how much of the graph is shown)."""
    fig.add_annotation(
        text=text, xref="paper", yref="paper", x=1, y=0, showarrow=False, font=dict(size=11, color="#777")
    )


def _query_trace(
    query: tuple[int, str, int | None],
    pos: Mapping[int, tuple[float, float]],
    hl: set[int],
    color: dict[int, str],
    size: dict[int, int],
) -> list[go.Scatter]:
    """The query's dashed red "?" edge from its anchor (to its answer, or off to the side); marks the anchor."""
    extra = []
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
    return extra


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

    Names are :func:`kgviz.graph.neighbourhood.short_labels` (full names on hover); a label that would
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
            Edge(h, t, rel_name[r], rel_color[r] if on else MUTED, width, 1.0 if on else 0.55, edge_hover_text)
        )
    hl = set(hl_nodes)
    labels = dict(zip(nodes, short_labels([kg.entities[n] for n in nodes], 24)))
    color = {n: HIGHLIGHT if n in hl else (NODE if not (hl or muting) else "#9db4cf") for n in nodes}
    size = {n: 26 if n in hl else 16 for n in nodes}
    hover = {n: (node_hover or {}).get(n, kg.entities[n]) for n in nodes}
    extra = [] if query is None else _query_trace(query, pos, hl, color, size)
    fig = network_figure(
        Nodes(pos, labels, hover, color, size),
        edges,
        directed=True,
        font_size=font_size,
        height=height,
        edge_labels=len(edges) <= 70,
        extra_traces=extra,
        first_labels=focus,
    )
    if len(nodes) < kg.num_entities:
        _corner_note(fig, f"showing {len(nodes)} of {kg.num_entities} entities")
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
            Edge(
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
    fig = network_figure(
        Nodes(pos, names, {i: labels[i] for i in nodes}, node_color, node_size),
        edges,
        directed=False,
        font_size=font_size,
        height=height,
        edge_labels=len(edges) <= 45,
        first_labels=sorted(hl),
    )
    if n < len(labels):
        _corner_note(fig, f"showing {n} of {len(labels)} relations")
    return fig


def lecture_beta_table(beta: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """The lecture's ``(R, R)`` β as a table: two decimals, ``·`` for no edge, ``—`` on the
    diagonal (the lecture's relation graph has no self-loops; ``β(r, r)`` is not an edge)."""
    cells = [
        ["—" if i == j else (f"{beta[i, j]:.2f}" if beta[i, j] else "·") for j in range(len(names))]
        for i in range(len(names))
    ]
    return pd.DataFrame(cells, index=list(names), columns=list(names))
