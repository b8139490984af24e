"""ULTRA's entity-model message passing, summed per receiver: ``Σ_{stored edges (u, v, k)} w_e · rel[k] ⊙ x[v]``.

Edges are visited sorted by receiver ``u`` (:attr:`UltraGraph.receiver_order`), in chunks of at most
``C`` edges; within a chunk the messages of each receiver form one contiguous run, summed by
``embedding_bag`` (one pass, no scatter) and added to its row once. On FB-100 (14 k edges, one
query) this sum took 0.3 ms against 1.0 ms for ``index_add_`` over all edges (1 thread), and 24 ms
against 89 ms with 2 threads on the shared 2-core CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from kgviz.models.ultra.graph import UltraGraph

__all__ = ["MessagePlan", "message_plan", "propagate"]


@dataclass(frozen=True)
class MessageChunk:
    """Edges ``start:stop`` of the plan; ``receivers (P,)`` their distinct receivers in order and
    ``offsets (P,)`` where each receiver's run starts (relative to ``start``)."""

    start: int
    stop: int
    receivers: Tensor
    offsets: Tensor


@dataclass(frozen=True)
class MessagePlan:
    """Senders, types and original edge ids (``order``) of the edges sorted by receiver, and the chunks."""

    senders: Tensor
    types: Tensor
    order: Tensor
    chunks: tuple[MessageChunk, ...]


def message_plan(graph: UltraGraph, chunk: int) -> MessagePlan:
    """The receiver-sorted edges of ``graph`` cut into chunks of at most ``chunk`` edges (``O(2M)``)."""
    order = graph.receiver_order
    receivers = graph.edge_index[0, order]
    chunks = []
    for start in range(0, len(order), max(1, chunk)):
        part = receivers[start : start + chunk]
        distinct, counts = torch.unique_consecutive(part, return_counts=True)
        offsets = torch.cumsum(counts, 0) - counts
        chunks.append(MessageChunk(start, start + len(part), distinct, offsets))
    return MessagePlan(graph.edge_index[1, order], graph.edge_type[order], order, tuple(chunks))


def propagate(x: Tensor, rel: Tensor, plan: MessagePlan, edge_weight: Tensor | None, start_from: Tensor) -> Tensor:
    """``start_from[u] + Σ_{stored edges (u, v, k)} w_e · rel[k] ⊙ x[v]``.

    ``x (N, B, D)``, ``rel (2R, B, D)``, ``start_from (N, B, D)``, ``edge_weight (2M,)`` in the
    graph's edge order or ``None`` (all ones) → ``(N, B, D)``; one ``(C, B·D)`` message chunk at a time.
    Differentiable (out of place) when autograd is on.
    """
    n, b, d = x.shape
    flat_x, flat_rel = x.reshape(n, b * d), rel.reshape(-1, b * d)
    out = start_from.reshape(n, b * d).clone()
    weights = None if edge_weight is None else edge_weight[plan.order]
    grad = torch.is_grad_enabled()
    for c in plan.chunks:
        msg = flat_x.index_select(0, plan.senders[c.start : c.stop])
        relations = flat_rel.index_select(0, plan.types[c.start : c.stop])
        msg = msg * relations if grad else msg.mul_(relations)
        if weights is not None:
            msg = msg * weights[c.start : c.stop, None]
        positions = torch.arange(len(msg), device=msg.device)
        sums = F.embedding_bag(positions, msg, c.offsets, mode="sum")  # (P, B·D), one row per receiver
        out = out.index_add(0, c.receivers, sums) if grad else out.index_add_(0, c.receivers, sums)
    return out.view(n, b, d)
