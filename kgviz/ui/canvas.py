"""The drawing canvas: a KG as a React Flow diagram (``streamlit-flow-component``) and back.

Nodes are entities, edges are triples labelled with their relation. The component renders node
text as Markdown with raw HTML enabled, so names are HTML-escaped and Markdown-escaped before
they are shown; the raw name travels in ``data["name"]``.
"""

from __future__ import annotations

import math

from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
from streamlit_flow.state import StreamlitFlowState

from kgviz.graph.data import KnowledgeGraph
from kgviz.ui.figures.network import kg_positions
from kgviz.ui.markup import display_text

MAX_CANVAS_TRIPLES = 150  # larger KGs are edited in the table
FALLBACK_RELATION = "related to"  # the relation of a new edge when "new relation…" is left empty


# Edges between the same two entities take different path shapes, so their labels sit apart.
PARALLEL_EDGE_TYPES = ("default", "straight", "smoothstep", "step", "simplebezier")


def canvas_positions(kg: KnowledgeGraph) -> dict[int, tuple[float, float]]:
    """Pixel positions of the entities: a force-directed layout (Kamada–Kawai, as the classroom's
    figures), spread with the number of entities so that edge labels have room; an entity
    without triples goes on a row below."""
    pos = kg_positions(kg, list(range(kg.num_entities)))
    scale = min(max(110.0 * math.sqrt(max(kg.num_entities, 1)), 260.0), 1200.0)
    return {e: (scale * x, scale * y) for e, (x, y) in pos.items()}


def kg_to_flow(kg: KnowledgeGraph) -> StreamlitFlowState:
    """One node per entity (force-directed layout), one labelled arrow per triple; the k-th triple
    between the same two entities gets the k-th of :data:`PARALLEL_EDGE_TYPES`."""
    pos = canvas_positions(kg)
    nodes = [
        StreamlitFlowNode(
            id=f"n{e}",
            pos=pos[e],
            data={"content": display_text(name), "name": name},
            connectable=True,
            deletable=True,
            selectable=True,
            style={},
        )
        for e, name in enumerate(kg.entities)
    ]
    seen: dict[frozenset[int], int] = {}
    edges = []
    for k, (h, r, t) in enumerate(kg.triples.tolist()):
        n_same = seen.get(frozenset((h, t)), 0)
        seen[frozenset((h, t))] = n_same + 1
        edges.append(
            StreamlitFlowEdge(
                id=f"t{k}",
                source=f"n{h}",
                target=f"n{t}",
                label=kg.relations[r],
                deletable=True,
                edge_type=PARALLEL_EDGE_TYPES[n_same % len(PARALLEL_EDGE_TYPES)],
                marker_end={"type": "arrowclosed"},
                label_show_bg=True,
                focusable=True,
                style={},
                label_style={"fontSize": "11px"},
                label_bg_style={"fill": "#ffffff", "fillOpacity": 0.9},
            )
        )
    return StreamlitFlowState(nodes, edges)


def canvas_edit_message(before: list[tuple[str, str, str]], after: list[tuple[str, str, str]]) -> str:
    """The confirmation of a canvas edit, as quick add gives one: what changed and the new size."""
    added, removed = len(set(after) - set(before)), len(set(before) - set(after))
    parts = [f"added {added} triple{'s' if added != 1 else ''}"] if added else []
    parts += [f"removed {removed} triple{'s' if removed != 1 else ''}"] if removed else []
    change = " and ".join(parts) or "edited"
    n = len(set(after))
    return f"Canvas: {change}; the KG now has {n} triple{'s' if n != 1 else ''}."


def pending_entities(state: StreamlitFlowState, kg: KnowledgeGraph) -> list[str]:
    """Names of the canvas nodes that are not entities of ``kg`` and have no edge yet: a new node
    enters the KG only with its first triple."""
    linked = {e.source for e in state.edges} | {e.target for e in state.edges}
    return [node_name(n) for n in state.nodes if n.id not in linked and node_name(n) not in kg.entity_index]


def node_name(node: StreamlitFlowNode) -> str:
    """The entity name of a node: the stored raw name, else the text typed into a new node."""
    data = node.data or {}
    return str(data.get("name") or data.get("content") or node.id).strip()


def label_new_edges(state: StreamlitFlowState, relation: str) -> None:
    """Label every edge drawn without a relation (a new one) with ``relation``, arrow at its tail, in place."""
    for e in state.edges:
        if not e.label:
            e.label = relation
            e.marker_end = {"type": "arrowclosed"}


def flow_to_triples(state: StreamlitFlowState, default_relation: str) -> list[tuple[str, str, str]]:
    """The triples drawn on the canvas; an edge without a label gets ``default_relation``."""
    names = {n.id: node_name(n) for n in state.nodes}
    out = []
    for e in state.edges:
        if e.source in names and e.target in names:
            out.append((names[e.source], (e.label or default_relation).strip(), names[e.target]))
    return out
