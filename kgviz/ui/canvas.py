"""The drawing canvas: a KG as a React Flow diagram (``streamlit-flow-component``) and back.

Nodes are entities, edges are triples labelled with their relation. The component renders node
text as Markdown with raw HTML enabled, so names are HTML-escaped and Markdown-escaped before
they are shown; the raw name travels in ``data["name"]``.
"""
from __future__ import annotations

import math

from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from ..data import KnowledgeGraph
from .markup import display_text

MAX_CANVAS_TRIPLES = 150  # larger KGs are edited in the table


def kg_to_flow(kg: KnowledgeGraph, radius: float = 260.0) -> StreamlitFlowState:
    """Entities on a circle, one labelled arrow per triple."""
    n = max(kg.num_entities, 1)
    nodes = [StreamlitFlowNode(
        id=f"n{e}", pos=(radius * math.cos(2 * math.pi * e / n), radius * math.sin(2 * math.pi * e / n)),
        data={"content": display_text(name), "name": name}, connectable=True, deletable=True,
        selectable=True, style={}) for e, name in enumerate(kg.entities)]
    edges = [StreamlitFlowEdge(
        id=f"t{k}", source=f"n{h}", target=f"n{t}", label=kg.relations[r], deletable=True,
        marker_end={"type": "arrowclosed"}, label_show_bg=True, focusable=True, style={},
        label_style={}, label_bg_style={}) for k, (h, r, t) in enumerate(kg.triples.tolist())]
    return StreamlitFlowState(nodes, edges)


def node_name(node: StreamlitFlowNode) -> str:
    """The entity name of a node: the stored raw name, else the text typed into a new node."""
    data = node.data or {}
    return str(data.get("name") or data.get("content") or node.id).strip()


def flow_to_triples(state: StreamlitFlowState, default_relation: str) -> list[tuple[str, str, str]]:
    """The triples drawn on the canvas; an edge without a label gets ``default_relation``."""
    names = {n.id: node_name(n) for n in state.nodes}
    out = []
    for e in state.edges:
        if e.source in names and e.target in names:
            out.append((names[e.source], (e.label or default_relation).strip(), names[e.target]))
    return out
