"""Fast kernels of InGram's attention layers: the formulas of :mod:`kgviz.models.ingram.network`, computed per node.

Every attention logit and message of a layer is a linear map of a concatenation, which equals a
sum of linear maps of the parts (``W[x_v ; x_u ; z_r] = W_v x_v + W_u x_u + W_r z_r``). The parts
are computed once per entity / relation and gathered per edge, instead of multiplying an
``(E, 2D̂ + D)`` matrix per edge (what :mod:`kgviz.models.ingram.reference` does; tests check equality).

The entity layer has two paths, chosen by :func:`entity_attention`:

- with autograd (training), :func:`entity_attention_autograd` with two per-edge kernels
  (:class:`EdgeKernels`: eager, or fused by ``torch.compile`` for one model instance);
- without autograd (validation, evaluation, the app), :func:`entity_attention_inference`, a few
  weighted ``embedding_bag`` sums over one table (same results, less memory traffic).

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``M`` triples, ``E`` edges,
``H`` heads, ``dh`` per-head size, ``D̂ = H·dh`` the entity layers' hidden size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from kgviz.config import LEAKY_SLOPE

__all__ = [
    "segment_softmax",
    "attention_matrix",
    "TailGroups",
    "EdgeKernels",
    "EAGER_KERNELS",
    "compiled_kernels",
    "entity_attention",
    "entity_attention_autograd",
    "entity_attention_inference",
]


def segment_softmax(
    logits: Tensor, index: Tensor, num_nodes: int, self_logits: Tensor | None = None
) -> tuple[Tensor, Tensor | None]:
    """Softmax of ``logits (E, H)`` over edges sharing ``index``; optional one extra self term per node.

    ``α_e = exp(s_e) / (Σ_{e' : index[e'] = index[e]} exp(s_e') [+ exp(s_self)])``. The per-group
    max is subtracted for stability (detached: softmax is shift invariant). Returns ``α (E, H)``
    and the self terms' weights ``(N, H)`` (``None`` without ``self_logits``).
    """
    num_heads = logits.shape[1]
    if self_logits is None:
        top = logits.new_full((num_nodes, num_heads), float("-inf"))
    else:
        top = self_logits.detach().clone()
    scatter_idx = index.unsqueeze(1).expand(-1, num_heads)
    top = top.scatter_reduce(0, scatter_idx, logits.detach(), reduce="amax", include_self=True)
    top = torch.nan_to_num(top, neginf=0.0)  # nodes without edges
    ex = torch.exp(logits - top.index_select(0, index))
    denom = logits.new_zeros(num_nodes, num_heads).index_add_(0, index, ex)
    ex_self = None
    if self_logits is not None:
        ex_self = torch.exp(self_logits - top)
        denom = denom + ex_self
    denom = denom.clamp_min(1e-30)
    alpha = ex / denom.index_select(0, index)
    return alpha, (None if ex_self is None else ex_self / denom)


def attention_matrix(attn_vec: Tensor) -> Tensor:
    """Block-diagonal ``(H·dh, H)`` matrix ``A`` with ``(h A)_k = â_kᵀ h_k`` for ``h (·, H·dh)``.

    The per-head dot products with the attention vector ``attn_vec (1, H, dh)`` become one matrix
    product (forward and backward) instead of an ``(E, D̂)`` multiply and sum.
    """
    _, num_head, dh = attn_vec.shape
    eye = torch.eye(num_head, dtype=attn_vec.dtype, device=attn_vec.device)
    return (attn_vec[0].unsqueeze(-1) * eye.unsqueeze(1)).reshape(num_head * dh, num_head)


@dataclass
class TailGroups:
    """Message triples sorted (stably) by receiving tail ``v``; built once per forward.

    ``order``: the sort permutation; ``u, r, v``: sorted heads, relations, tails; ``in_deg (N,)``
    and ``offsets (N,)``: number of triples into each entity and the position of its first one.
    """

    order: Tensor
    u: Tensor
    r: Tensor
    v: Tensor
    in_deg: Tensor
    offsets: Tensor
    _cache: dict[tuple[int, int], dict[str, Tensor]] = field(
        default_factory=dict, repr=False
    )  # bag layouts, shared by the layers

    @classmethod
    def of(cls, triplets: Tensor, num_ent: int) -> TailGroups:
        order = torch.argsort(triplets[:, 2], stable=True)
        v = triplets[order, 2]
        in_deg = torch.bincount(v, minlength=num_ent)
        return cls(order, triplets[order, 0], triplets[order, 1], v, in_deg, torch.cumsum(in_deg, 0) - in_deg)

    def bags(self, stride: int, num_head: int) -> dict[str, Tensor]:
        """Index layout of the inference path (:func:`entity_attention_inference`); cached.

        The rows refer to the table ``T`` of that function: row ``n·k + i`` is block ``i`` of
        entity ``n`` (``att_v, att_u, agg_u``), row ``N·k + 2r`` is ``att_r[r]``, row
        ``N·k + 2r + 1`` is ``agg_r[r]`` (``k = stride``); the message bags index ``T`` viewed as
        ``(·, dh)`` rows, one per head (row ``x·H + h``).

        - ``edge_rows (3M,)``: bag ``e`` = ``{att_v[v], att_u[u], att_r[r]}``;
        - ``self_rows, self_offsets, self_weights``: bag ``v`` = ``{att_v[v], att_u[v]}`` and
          ``att_r[r]`` of each triple into ``v`` with weight ``1/deg(v)``;
        - ``msg_rows, msg_offsets``: bag ``(v, h)`` = head ``h`` of ``agg_u[v]`` (self-loop), then of
          ``agg_u[u]`` and ``agg_r[r]`` per triple into ``v``; ``msg_slot``: where the weights
          ``[α_self (N·H) | α (M·H) | α + α_self[v]/deg(v) (M·H)]`` go in bag order.
        """
        key = (stride, num_head)
        if key in self._cache:
            return self._cache[key]
        num_ent, m = len(self.in_deg), len(self.v)
        dev = self.v.device
        rel_row = num_ent * stride + 2 * self.r  # att_r[r]; agg_r[r] is the next row
        deg = self.in_deg.index_select(0, self.v)  # (M,) degree of each triple's tail
        within = torch.arange(m, device=dev) - self.offsets.index_select(0, self.v)  # rank among its tail's triples
        # self bags: [v·k, v·k + 1, att_r of the triples into v], starting at 2v + offsets[v]
        self_offsets = 2 * torch.arange(num_ent, device=dev) + self.offsets
        self_rows = torch.empty(2 * num_ent + m, dtype=torch.long, device=dev)
        self_weights = torch.ones(2 * num_ent + m, dtype=torch.float64, device=dev)
        ents = torch.arange(num_ent, device=dev) * stride
        self_rows[self_offsets], self_rows[self_offsets + 1] = ents, ents + 1
        pos = self_offsets.index_select(0, self.v) + 2 + within
        self_rows[pos], self_weights[pos] = rel_row, 1.0 / deg.double()
        # message bags (v, h), each of size 1 + 2·deg(v), those of v starting at H·(v + 2·offsets[v])
        h = torch.arange(num_head, device=dev)
        size = 1 + 2 * self.in_deg  # (N,)
        first = num_head * (torch.arange(num_ent, device=dev) + 2 * self.offsets)  # (N,) first bag of each tail
        bag0 = first.unsqueeze(1) + h * size.unsqueeze(1)  # (N, H)
        pos_u = bag0.index_select(0, self.v) + 1 + 2 * within.unsqueeze(1)  # (M, H)
        msg_rows = torch.empty(num_head * (num_ent + 2 * m), dtype=torch.long, device=dev)
        msg_rows[bag0.reshape(-1)] = ((ents + 2).unsqueeze(1) * num_head + h).reshape(-1)
        msg_rows[pos_u.reshape(-1)] = ((self.u * stride + 2).unsqueeze(1) * num_head + h).reshape(-1)
        msg_rows[(pos_u + 1).reshape(-1)] = ((rel_row + 1).unsqueeze(1) * num_head + h).reshape(-1)
        self._cache[key] = dict(
            edge_rows=torch.stack([self.v * stride, self.u * stride + 1, rel_row], dim=1).reshape(-1),
            self_rows=self_rows,
            self_offsets=self_offsets,
            self_weights=self_weights,
            msg_rows=msg_rows,
            msg_offsets=bag0.reshape(-1),
            msg_slot=torch.cat([bag0.reshape(-1), pos_u.reshape(-1), (pos_u + 1).reshape(-1)]),
        )
        return self._cache[key]


def edge_logits(
    att_v: Tensor, att_u: Tensor, att_r: Tensor, v: Tensor, u: Tensor, r: Tensor, attn_mat: Tensor
) -> Tensor:
    """``â_kᵀ LeakyReLU(att_v[v] + att_u[u] + att_r[r])_k`` per triple: ``(M, H)``; ``attn_mat`` of
    :func:`attention_matrix`."""
    hidden = att_v.index_select(0, v) + att_u.index_select(0, u) + att_r.index_select(0, r)  # (M, D̂)
    return F.leaky_relu(hidden, LEAKY_SLOPE) @ attn_mat


def edge_aggregate(out: Tensor, agg_u: Tensor, agg_r: Tensor, u: Tensor, r: Tensor, v: Tensor, alpha: Tensor) -> Tensor:
    """``out[v] += α_k · (agg_u[u] + agg_r[r])_k`` over the triples; ``out (N, H, dh)``, ``alpha (M, H)``."""
    msg = (agg_u.index_select(0, u) + agg_r.index_select(0, r)).view(len(u), *out.shape[1:])  # (M, H, dh)
    return out.index_add(0, v, msg * alpha.unsqueeze(-1))


@dataclass(frozen=True)
class EdgeKernels:
    """The two per-edge kernels of the training path: most of the time and memory traffic of a step."""

    edge_logits: Callable[..., Tensor]
    edge_aggregate: Callable[..., Tensor]


EAGER_KERNELS = EdgeKernels(edge_logits, edge_aggregate)


@functools.cache
def compiled_kernels() -> EdgeKernels:
    """The kernels fused by ``torch.compile`` (needs a C++ compiler; ~30 s once per process).

    Several times faster for training on large graphs on a CPU; results equal the eager kernels
    up to float rounding. A model uses them only when asked (:meth:`kgviz.models.ingram.network.InGram.use_compiled_kernels`).
    """
    return EdgeKernels(torch.compile(edge_logits, dynamic=True), torch.compile(edge_aggregate, dynamic=True))


def entity_attention_autograd(
    node_parts: Tensor, both_r: Tensor, g: TailGroups, attn_vec: Tensor, kernels: EdgeKernels = EAGER_KERNELS
) -> tuple[Tensor, Tensor, Tensor]:
    """The entity layer's attention and messages, differentiable (arguments as :func:`entity_attention`).

    Self-loop of ``v``: relation vector = mean ``z_r`` of the triples into ``v`` (zero if none);
    the linear maps commute with the mean, so it is taken of the mapped ``both_r`` rows.
    """
    num_ent, d_out = node_parts.shape[0], attn_vec.shape[1] * attn_vec.shape[2]
    att_v, att_u, agg_u = (node_parts[:, i * d_out : (i + 1) * d_out] for i in range(3))  # 3 × (N, D̂)
    att_r, agg_r = both_r.split(d_out, dim=1)  # 2 × (2R, D̂)
    self_r = F.embedding_bag(g.r, both_r, g.offsets, mode="mean")  # (N, 2D̂)
    self_att_r, self_agg_r = self_r.split(d_out, dim=1)
    attn_mat = attention_matrix(attn_vec)  # (D̂, H)
    self_logits = F.leaky_relu(att_v + att_u + self_att_r, LEAKY_SLOPE) @ attn_mat  # (N, H)
    logits = kernels.edge_logits(att_v, att_u, att_r, g.v, g.u, g.r, attn_mat)  # (M, H)
    alpha, alpha_self = segment_softmax(logits, g.v, num_ent, self_logits)
    assert alpha_self is not None
    out = (agg_u + self_agg_r).view(num_ent, *attn_vec.shape[1:]) * alpha_self.unsqueeze(-1)  # self-loop messages
    out = kernels.edge_aggregate(out, agg_u, agg_r, g.u, g.r, g.v, alpha)  # (N, H, dh)
    return out.view(num_ent, d_out), alpha, alpha_self


def entity_attention_inference(
    node_parts: Tensor, both_r: Tensor, g: TailGroups, attn_vec: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The entity layer's attention and messages without autograd, as a few gather-and-sum ops.

    Same formulas as :func:`entity_attention_autograd`, with every
    per-node part in one table ``T = [node_parts as (N·k, D̂) ; both_r as (2·2R, D̂)]`` so that
    each sum of gathered rows is one ``embedding_bag`` (layout: :meth:`TailGroups.bags`):

    - triple logits ``â_kᵀ LeakyReLU(att_v[v] + att_u[u] + att_r[r])_k``: a 3-row sum per triple,
      LeakyReLU in place, then one product with the block-diagonal :func:`attention_matrix`;
    - self-loop logits: ``att_v[v] + att_u[v] + mean att_r`` of the triples into ``v`` (weights ``1/deg``);
    - messages ``α_self,k (agg_u[v] + mean agg_r)_k + Σ α_k (agg_u[u] + agg_r[r])_k``: one weighted
      sum per (tail, head) bag, ``agg_r[r]`` carrying ``α_k + α_self,k / deg(v)``.

    No ``(M, D̂)`` message tensor is formed. ``node_parts (N, k·D̂)``: ``[att_v | att_u | agg_u | …]``;
    ``both_r (2R, 2D̂)``: ``[att_r | agg_r]``. Returns the messages ``(N, D̂)`` (before the
    residual), ``α (M, H)`` in tail-sorted order and the self-loop weights ``(N, H)``.
    """
    num_ent, width = node_parts.shape
    _, num_head, dh = attn_vec.shape
    d_out = num_head * dh
    m = len(g.v)
    bags = g.bags(width // d_out, num_head)
    table = torch.cat([node_parts.reshape(-1, d_out), both_r.reshape(-1, d_out)])
    a = attention_matrix(attn_vec)  # (D̂, H)
    hidden = F.embedding_bag(bags["edge_rows"], table, torch.arange(0, 3 * m, 3, device=table.device), mode="sum")
    logits = F.leaky_relu_(hidden, LEAKY_SLOPE) @ a  # (M, H)
    hidden = F.embedding_bag(
        bags["self_rows"],
        table,
        bags["self_offsets"],
        mode="sum",
        per_sample_weights=bags["self_weights"].to(table.dtype),
    )
    self_logits = F.leaky_relu_(hidden, LEAKY_SLOPE) @ a  # (N, H)
    alpha, alpha_self = segment_softmax(logits, g.v, num_ent, self_logits)
    assert alpha_self is not None
    share = (alpha_self / g.in_deg.clamp_min(1).unsqueeze(1)).index_select(0, g.v)  # α_self[v] / deg(v)
    values = torch.cat([alpha_self.reshape(-1), alpha.reshape(-1), (alpha + share).reshape(-1)])
    weights = torch.empty_like(values).index_copy_(0, bags["msg_slot"], values)
    out = F.embedding_bag(
        bags["msg_rows"], table.view(-1, dh), bags["msg_offsets"], mode="sum", per_sample_weights=weights
    )  # (N·H, dh)
    return out.view(num_ent, d_out), alpha, alpha_self


def entity_attention(
    node_parts: Tensor, both_r: Tensor, g: TailGroups, attn_vec: Tensor, kernels: EdgeKernels = EAGER_KERNELS
) -> tuple[Tensor, Tensor, Tensor]:
    """Messages ``(N, D̂)`` (before the residual), ``α (M, H)`` in tail-sorted order, self-loop weights ``(N, H)``.

    ``node_parts (N, k·D̂)``, ``k ≥ 3``: ``[Ŵ_att,v x + b_att | Ŵ_att,u x | Ŵ_agg,u x + b_agg | …]``;
    ``both_r (2R, 2D̂)``: ``[Ŵ_att,r z | Ŵ_agg,r z]``; ``g``: the triples grouped by tail;
    ``attn_vec (1, H, dh)``: ``â``. Without autograd (``torch.no_grad()`` or nothing requiring
    gradients) the inference path runs, otherwise the autograd path with ``kernels``.
    """
    if torch.is_grad_enabled() and (node_parts.requires_grad or both_r.requires_grad):
        return entity_attention_autograd(node_parts, both_r, g, attn_vec, kernels)
    return entity_attention_inference(node_parts, both_r, g, attn_vec)
