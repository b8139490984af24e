"""Why did ULTRA rank this candidate? The paths from the anchor that weigh most (NBFNet's path interpretation).

For one query and one candidate ``c`` with score ``s_c``, every augmented edge ``e`` of the entity
model's graph gets a weight ``w_e = 1`` made differentiable (messages are ``w_e · rel[k] ⊙ x[v]``),
and its importance is the gradient::

    g_e = ∂ s_c / ∂ w_e        (at w = 1, so the scores are unchanged)

Information flows along a stored edge ``(u, v, k)`` from ``v`` to ``u``, so a path from the anchor
``a`` to ``c`` is a walk ``a = n_0 → n_1 → … → n_L = c`` over stored edges ``(n_{i+1}, n_i, k_i)``;
its weight is the mean gradient of its edges, ``(1/L) Σ_i g_{e_i}`` (Zhu et al., NBFNet, 2021:
beam search over the sum, ranking by the average over lengths). Beam search keeps, per node and
length, the ``beam`` best partial sums; the ``k`` best simple paths (no node twice) are returned.

A stored edge with ``k < R`` is the triple ``(u, k, v)`` walked from its tail to its head
(``inverse=True``); one with ``k ≥ R`` is the triple ``(v, k−R, u)`` walked head to tail.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from kgviz.graph.data import KnowledgeGraph
from kgviz.models.base import QueryDirection, check_direction
from kgviz.models.ultra.network import NUM_LAYERS, Ultra, UltraScorer
from kgviz.models.ultra.graph import UltraGraph

__all__ = ["PathStep", "ExplainedPath", "edge_gradients", "beam_search_paths", "explain_paths"]


@dataclass(frozen=True)
class PathStep:
    """One step of a path: the KG triple ``(head, relation, tail)`` by name, and ``inverse`` when the
    path walks it from tail to head."""

    head: str
    relation: str
    tail: str
    inverse: bool


@dataclass(frozen=True)
class ExplainedPath:
    """A path from the anchor to the candidate (steps in walking order) and its weight (mean edge gradient)."""

    steps: tuple[PathStep, ...]
    weight: float


def edge_gradients(model: Ultra, graph: UltraGraph, anchor: int, relation: int, candidate: int, head: bool) -> Tensor:
    """``(2M,)`` gradient ``∂ s_candidate / ∂ w_e`` of every augmented edge at ``w = 1`` for the query
    ``(anchor, relation, ?)`` (``head=False``) or ``(?, relation, anchor)`` (``head=True``)."""
    device = graph.edge_index.device
    dtype = next(model.parameters()).dtype
    weights = torch.ones(graph.edge_index.shape[1], device=device, dtype=dtype, requires_grad=True)
    with torch.enable_grad():
        scores = model(
            graph, torch.tensor([anchor], device=device), torch.tensor([relation], device=device), head, weights
        )
        (gradient,) = torch.autograd.grad(scores[0, candidate], weights)
    return gradient.detach().cpu()


def beam_search_paths(
    edge_index: Tensor, gradients: Tensor, source: int, target: int, max_length: int, beam: int
) -> list[tuple[list[int], float]]:
    """Walks ``source → target`` of 1..``max_length`` edges (edge ``e`` goes ``edge_index[1, e] → edge_index[0, e]``)
    by beam search on the summed gradient, as ``(edge ids in walking order, mean gradient)``, best first.

    State after ``l`` steps: for each node up to ``beam`` walks (sum, last edge, previous slot).
    """
    receivers, senders = edge_index[0].cpu(), edge_index[1].cpu()
    gradients = gradients.double().cpu()
    num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    num_nodes = max(num_nodes, source + 1, target + 1)
    totals = torch.full((num_nodes, beam), float("-inf"), dtype=torch.float64)
    totals[source, 0] = 0.0
    history: list[tuple[Tensor, Tensor]] = []  # per step: (edge, previous slot) of each (node, slot)
    found: list[tuple[list[int], float]] = []
    for length in range(1, max_length + 1):
        candidate = totals[senders] + gradients[:, None]  # (E, beam): extend every walk at the sender
        edge_ids = torch.arange(len(senders))[:, None].expand_as(candidate)
        slots = torch.arange(beam)[None, :].expand_as(candidate)
        alive = torch.isfinite(candidate)
        node, value, edge, slot = (
            receivers[:, None].expand_as(candidate)[alive],
            candidate[alive],
            edge_ids[alive],
            slots[alive],
        )
        order = torch.argsort(value, descending=True, stable=True)
        order = order[torch.argsort(node[order], stable=True)]  # by node, best first within a node
        node, value, edge, slot = node[order], value[order], edge[order], slot[order]
        start = torch.searchsorted(node, node, side="left")
        rank = torch.arange(len(node)) - start
        keep = rank < beam
        totals = torch.full((num_nodes, beam), float("-inf"), dtype=torch.float64)
        new_edge = torch.full((num_nodes, beam), -1, dtype=torch.int64)
        new_slot = torch.full((num_nodes, beam), -1, dtype=torch.int64)
        totals[node[keep], rank[keep]] = value[keep]
        new_edge[node[keep], rank[keep]] = edge[keep]
        new_slot[node[keep], rank[keep]] = slot[keep]
        history.append((new_edge, new_slot))
        for s in range(beam):
            if torch.isfinite(totals[target, s]):
                found.append((_walk_back(history, target, s, receivers, senders), float(totals[target, s]) / length))
    found.sort(key=lambda item: -item[1])
    return found


def _walk_back(
    history: list[tuple[Tensor, Tensor]], node: int, slot: int, receivers: Tensor, senders: Tensor
) -> list[int]:
    """Edge ids of the walk stored at ``(node, slot)`` after ``len(history)`` steps, in walking order."""
    edges = []
    for step_edge, step_slot in reversed(history):
        e = int(step_edge[node, slot])
        edges.append(e)
        node, slot = int(senders[e]), int(step_slot[node, slot])
    return edges[::-1]


def _is_simple(edges: list[int], receivers: Tensor, senders: Tensor) -> bool:
    nodes = [int(senders[edges[0]])] + [int(receivers[e]) for e in edges]
    return len(set(nodes)) == len(nodes)


def explain_paths(
    scorer: UltraScorer,
    graph: KnowledgeGraph,
    anchor: int,
    relation: int,
    candidate: int,
    direction: QueryDirection,
    k: int = 5,
    max_length: int = 3,
    beam: int = 10,
) -> list[ExplainedPath]:
    """The ``k`` simple paths from ``anchor`` to ``candidate`` with the largest mean edge gradient, best
    first, for the query ``(anchor, relation, ?)`` (``"tail"``) or ``(?, relation, anchor)`` (``"head"``).

    ``max_length`` is at most the model's six layers (a longer path carries no message to the candidate).
    """
    head = check_direction(direction) == "head"
    if not 1 <= max_length <= NUM_LAYERS:
        raise ValueError(f"max_length must be 1..{NUM_LAYERS}, not {max_length}")
    for name, value, limit in (("anchor", anchor, graph.num_entities), ("candidate", candidate, graph.num_entities)):
        if not 0 <= value < limit:
            raise ValueError(f"{name} id {value} out of range (the KG has {limit} entities)")
    if not 0 <= relation < graph.num_relations:
        raise ValueError(f"relation id {relation} out of range (the KG has {graph.num_relations} relations)")
    g = scorer.ultra_graph(graph)
    gradients = edge_gradients(scorer.model, g, anchor, relation, candidate, head)
    receivers, senders = g.edge_index[0].cpu(), g.edge_index[1].cpu()
    types = g.edge_type.cpu()
    out: list[ExplainedPath] = []
    for edges, weight in beam_search_paths(g.edge_index, gradients, anchor, candidate, max_length, beam):
        if not _is_simple(edges, receivers, senders):
            continue
        steps = tuple(_step(graph, int(receivers[e]), int(senders[e]), int(types[e])) for e in edges)
        if any(p.steps == steps for p in out):
            continue
        out.append(ExplainedPath(steps, weight))
        if len(out) == k:
            break
    return out


def _step(graph: KnowledgeGraph, receiver: int, sender: int, edge_type: int) -> PathStep:
    """The KG triple behind stored edge ``(receiver, sender, edge_type)``, walked sender → receiver."""
    r = graph.num_relations
    if edge_type < r:  # (h, t, r) stored as (u=h, v=t): walked from the tail to the head
        return PathStep(graph.entities[receiver], graph.relations[edge_type], graph.entities[sender], inverse=True)
    return PathStep(graph.entities[sender], graph.relations[edge_type - r], graph.entities[receiver], inverse=False)
