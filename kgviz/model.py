"""InGram (Lee, Chung, Whang, ICML 2023): relation-level then entity-level attention, DistMult head.

Parameter names and shapes follow the authors' checkpoints (spec §5), so their ``state_dict``
loads here with ``strict=True`` and ours loads into theirs.

Speed: every attention logit and message is a linear map of a concatenation, which equals a sum
of linear maps of the parts (``W[x_v ; x_u ; z_r] = W_v x_v + W_u x_u + W_r z_r``). The parts are
computed once per entity / relation and gathered per edge, instead of multiplying a
``(E, 2D̂ + D)`` matrix per edge. The result is equal to the per-edge formula (tests check 1e-5).
Without autograd (validation, evaluation, the app) the entity layers take a faster path,
:func:`_entity_attention_inference`, built on weighted ``embedding_bag`` sums (same results).

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``E`` edges, ``H`` heads,
``D̂ = d̂·ratio_ent``, ``D = d·ratio_rel`` hidden sizes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import InGramConfig

__all__ = ["InGramConfig", "InGram", "LayerAttention", "TailGroups", "initial_features", "compile_edge_kernels"]

LEAKY_SLOPE = 0.2  # LeakyReLU slope of both attention layers (authors' code)


@dataclass
class LayerAttention:
    """Attention weights of one layer.

    ``edge_index``: ``(2, E)`` — row 0 the receiving node (relation ``i`` / tail entity ``v``),
    row 1 the sending node (relation ``j`` / head entity ``u``).
    ``alpha``: ``(E, H)``, each column sums to 1 over the edges of one receiving node.
    ``edge_type``: relation-graph bin (relation layers) or augmented relation id of the triple,
    ``-1`` for an entity's self-loop (entity layers).
    """

    edge_index: Tensor
    alpha: Tensor
    edge_type: Tensor


def _xavier_relu(t: Tensor) -> Tensor:
    return nn.init.xavier_normal_(t, gain=nn.init.calculate_gain("relu"))


def initial_features(num_entities: int, num_relations: int, dim_ent: int, dim_rel: int,
                     generator: torch.Generator | None = None, device: torch.device | str = "cpu"
                     ) -> tuple[Tensor, Tensor]:
    """Random features ``x⁰ (N, d̂)`` and ``z⁰ (2R, d)``, Xavier-normal with gain √2 (spec §3).

    ``std = √2 · √(2 / (rows + cols))``. ``num_relations`` is ``R``; ``2R`` rows are drawn.
    Drawn on the CPU from ``generator`` (so a seed gives the same features on every device).
    """
    def draw(rows: int, cols: int) -> Tensor:
        std = math.sqrt(2.0) * math.sqrt(2.0 / (rows + cols))
        return (torch.randn(rows, cols, generator=generator) * std).to(device)

    return draw(num_entities, dim_ent), draw(2 * num_relations, dim_rel)


def _segment_softmax(logits: Tensor, index: Tensor, num_nodes: int,
                     self_logits: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Softmax of ``logits (E, H)`` over edges sharing ``index``; optional one extra self term per node.

    The per-group max is subtracted for stability (detached: softmax is shift invariant).
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


def _edge_logits(att_v: Tensor, att_u: Tensor, att_r: Tensor, v: Tensor, u: Tensor, r: Tensor,
                 attn_mat: Tensor) -> Tensor:
    """``â_kᵀ LeakyReLU(att_v[v] + att_u[u] + att_r[r])_k`` per edge: ``(M, H)``.

    ``attn_mat (D̂, H)``: the block-diagonal :func:`_attention_matrix` of ``â``, so the per-head dot
    products are one matrix product (forward and backward) instead of an ``(M, D̂)`` multiply and sum.
    """
    hidden = att_v.index_select(0, v) + att_u.index_select(0, u) + att_r.index_select(0, r)  # (M, D̂)
    return F.leaky_relu(hidden, LEAKY_SLOPE) @ attn_mat


def _edge_aggregate(out: Tensor, agg_u: Tensor, agg_r: Tensor, u: Tensor, r: Tensor, v: Tensor,
                    alpha: Tensor) -> Tensor:
    """``out[v] += α_k · (agg_u[u] + agg_r[r])_k`` over the edges; ``out (N, H, dh)``, ``alpha (M, H)``."""
    msg = (agg_u.index_select(0, u) + agg_r.index_select(0, r)).view(len(u), *out.shape[1:])  # (M, H, dh)
    return out.index_add(0, v, msg * alpha.unsqueeze(-1))


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
    _cache: dict = field(default_factory=dict, repr=False)  # bag layouts, shared by the layers

    @classmethod
    def of(cls, triplets: Tensor, num_ent: int) -> "TailGroups":
        order = torch.argsort(triplets[:, 2], stable=True)
        v = triplets[order, 2]
        in_deg = torch.bincount(v, minlength=num_ent)
        return cls(order, triplets[order, 0], triplets[order, 1], v, in_deg, torch.cumsum(in_deg, 0) - in_deg)

    def bags(self, stride: int, num_head: int) -> dict[str, Tensor]:
        """Index layout of the inference path (:func:`_entity_attention_inference`); cached.

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
        bag0 = (num_head * (torch.arange(num_ent, device=dev) + 2 * self.offsets)).unsqueeze(1) + h * size.unsqueeze(1)  # (N, H)
        pos_u = bag0.index_select(0, self.v) + 1 + 2 * within.unsqueeze(1)  # (M, H)
        msg_rows = torch.empty(num_head * (num_ent + 2 * m), dtype=torch.long, device=dev)
        msg_rows[bag0.reshape(-1)] = ((ents + 2).unsqueeze(1) * num_head + h).reshape(-1)
        msg_rows[pos_u.reshape(-1)] = ((self.u * stride + 2).unsqueeze(1) * num_head + h).reshape(-1)
        msg_rows[(pos_u + 1).reshape(-1)] = ((rel_row + 1).unsqueeze(1) * num_head + h).reshape(-1)
        self._cache[key] = dict(
            edge_rows=torch.stack([self.v * stride, self.u * stride + 1, rel_row], dim=1).reshape(-1),
            self_rows=self_rows, self_offsets=self_offsets, self_weights=self_weights,
            msg_rows=msg_rows, msg_offsets=bag0.reshape(-1),
            msg_slot=torch.cat([bag0.reshape(-1), pos_u.reshape(-1), (pos_u + 1).reshape(-1)]))
        return self._cache[key]


def _attention_matrix(attn_vec: Tensor) -> Tensor:
    """Block-diagonal ``(H·dh, H)`` matrix ``A`` with ``(h A)_k = â_kᵀ h_k`` for ``h (·, H·dh)``."""
    _, num_head, dh = attn_vec.shape
    eye = torch.eye(num_head, dtype=attn_vec.dtype, device=attn_vec.device)
    return (attn_vec[0].unsqueeze(-1) * eye.unsqueeze(1)).reshape(num_head * dh, num_head)


def _entity_attention_inference(node_parts: Tensor, both_r: Tensor, g: TailGroups, attn_vec: Tensor
                                ) -> tuple[Tensor, Tensor, Tensor]:
    """The entity layer's attention and messages without autograd, as a few gather-and-sum ops.

    Same formulas as the training path (``_KERNELS`` and :func:`_segment_softmax`), with every
    per-node part in one table ``T = [node_parts as (N·k, D̂) ; both_r as (2·2R, D̂)]`` so that
    each sum of gathered rows is one ``embedding_bag`` (layout: :meth:`TailGroups.bags`):

    - triple logits ``â_kᵀ LeakyReLU(att_v[v] + att_u[u] + att_r[r])_k``: a 3-row sum per triple,
      LeakyReLU in place, then one product with the block-diagonal :func:`_attention_matrix`;
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
    a = _attention_matrix(attn_vec)  # (D̂, H)
    hidden = F.embedding_bag(bags["edge_rows"], table, torch.arange(0, 3 * m, 3, device=table.device), mode="sum")
    logits = F.leaky_relu_(hidden, LEAKY_SLOPE) @ a  # (M, H)
    hidden = F.embedding_bag(bags["self_rows"], table, bags["self_offsets"], mode="sum",
                             per_sample_weights=bags["self_weights"].to(table.dtype))
    self_logits = F.leaky_relu_(hidden, LEAKY_SLOPE) @ a  # (N, H)
    alpha, alpha_self = _segment_softmax(logits, g.v, num_ent, self_logits)
    share = (alpha_self / g.in_deg.clamp_min(1).unsqueeze(1)).index_select(0, g.v)  # α_self[v] / deg(v)
    values = torch.cat([alpha_self.reshape(-1), alpha.reshape(-1), (alpha + share).reshape(-1)])
    weights = torch.empty_like(values).index_copy_(0, bags["msg_slot"], values)
    out = F.embedding_bag(bags["msg_rows"], table.view(-1, dh), bags["msg_offsets"], mode="sum",
                          per_sample_weights=weights)  # (N·H, dh)
    return out.view(num_ent, d_out), alpha, alpha_self


# The two per-edge kernels of the entity layer: most of the time and memory traffic of a
# training step. compile_edge_kernels() swaps in fused torch.compile versions (same math).
_KERNELS = {"edge_logits": _edge_logits, "edge_aggregate": _edge_aggregate}


def compile_edge_kernels() -> None:
    """Fuse the per-edge kernels with ``torch.compile`` (needs a C++ compiler; ~30 s once).

    Several times faster for training on large graphs on a CPU; results equal the eager kernels
    up to float rounding. Off by default (tests, the app and short runs use eager mode).
    """
    _KERNELS["edge_logits"] = torch.compile(_edge_logits, dynamic=True)
    _KERNELS["edge_aggregate"] = torch.compile(_edge_aggregate, dynamic=True)


def _stack_linear(maps: list[tuple[Tensor, Tensor | None]]) -> tuple[Tensor, Tensor | None]:
    """Stack linear maps ``(W_i, b_i)`` into one, so ``x Wᵀ + b`` computes them all in one product."""
    weights, biases = zip(*maps)
    if any(b is None for b in biases):
        if not all(b is None for b in biases):
            raise ValueError("cannot stack linear maps with and without bias")
        return torch.cat(weights), None
    return torch.cat(weights), torch.cat(biases)


class InGramRelationLayer(nn.Module):
    r"""Relation-level attention over the relation graph (spec §4).

    For an edge ``(i, j)`` of bin ``b``:

    .. math::
        s_{ijk} = a_k^\top \mathrm{LeakyReLU}(W_{att}[z_i ; z_j])_k + c_{b,k}, \quad
        \alpha_{ijk} = \mathrm{softmax}_{j \in N(i)}(s_{ijk}), \quad
        z_i' = \Vert_k \sum_j \alpha_{ijk} (W_{agg} z_j)_k

    Shapes: ``emb_rel (2R, D)``, ``relation_triplets (E, 3)`` as ``[i, j, bin]`` → ``(2R, D)``.
    """

    def __init__(self, dim_in_rel: int, dim_out_rel: int, num_bin: int, bias: bool = True, num_head: int = 8):
        super().__init__()
        if dim_out_rel % num_head:
            raise ValueError(f"relation hidden size {dim_out_rel} is not divisible by {num_head} heads")
        self.dim_out_rel = dim_out_rel
        self.dim_hid_rel = dim_out_rel // num_head
        self.num_head = num_head
        self.attn_proj = nn.Linear(2 * dim_in_rel, dim_out_rel, bias=bias)
        self.attn_bin = nn.Parameter(torch.zeros(num_bin, num_head, 1))
        self.attn_vec = nn.Parameter(torch.zeros(1, num_head, self.dim_hid_rel))
        self.aggr_proj = nn.Linear(dim_in_rel, dim_out_rel, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for t in (self.attn_proj.weight, self.attn_bin, self.attn_vec, self.aggr_proj.weight):
            _xavier_relu(t)
        for lin in (self.attn_proj, self.aggr_proj):
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def forward(self, emb_rel: Tensor, relation_triplets: Tensor, return_attention: bool = False):
        num_rel, d_in = emb_rel.shape
        H, dh = self.num_head, self.dim_hid_rel
        i, j, b = relation_triplets[:, 0], relation_triplets[:, 1], relation_triplets[:, 2]
        w = self.attn_proj.weight  # (D, 2D): [z_i ; z_j]
        p_i = F.linear(emb_rel, w[:, :d_in], self.attn_proj.bias)  # (2R, D)
        p_j = F.linear(emb_rel, w[:, d_in:])  # (2R, D)
        hidden = F.leaky_relu(p_i.index_select(0, i) + p_j.index_select(0, j), LEAKY_SLOPE).view(-1, H, dh)  # (E, H, dh)
        logits = (hidden * self.attn_vec).sum(-1) + self.attn_bin[:, :, 0].index_select(0, b)  # (E, H)
        alpha, _ = _segment_softmax(logits, i, num_rel)
        msg = self.aggr_proj(emb_rel).index_select(0, j).view(-1, H, dh) * alpha.unsqueeze(-1)  # (E, H, dh)
        out = emb_rel.new_zeros(num_rel, H, dh).index_add_(0, i, msg).view(num_rel, H * dh)
        if return_attention:
            return out, LayerAttention(torch.stack([i, j]), alpha.detach(), b)
        return out


class InGramEntityLayer(nn.Module):
    r"""Entity-level attention over the augmented triples plus one self-loop per entity (spec §4).

    For a triple ``(u, r, v)`` (message from head ``u`` to tail ``v``):

    .. math::
        s_{urv,k} = \hat a_k^\top \mathrm{LeakyReLU}(\hat W_{att}[x_v ; x_u ; z_r])_k, \quad
        \alpha = \mathrm{softmax over triples into } v, \quad
        x_v' = \Vert_k \sum \alpha_k (\hat W_{agg}[x_u ; z_r])_k

    The self-loop of ``v`` carries the mean ``z_r`` of the triples into ``v`` (zero if none).
    Shapes: ``emb_ent (N, D̂)``, ``emb_rel (2R, D)``, ``triplets (M, 3)`` → ``(N, D̂)``.
    """

    def __init__(self, dim_in_ent: int, dim_out_ent: int, dim_rel: int, bias: bool = True, num_head: int = 8):
        super().__init__()
        if dim_out_ent % num_head:
            raise ValueError(f"entity hidden size {dim_out_ent} is not divisible by {num_head} heads")
        self.dim_in_ent = dim_in_ent
        self.dim_out_ent = dim_out_ent
        self.dim_hid_ent = dim_out_ent // num_head
        self.num_head = num_head
        self.dim_rel = dim_rel
        self.attn_proj = nn.Linear(2 * dim_in_ent + dim_rel, dim_out_ent, bias=bias)
        self.attn_vec = nn.Parameter(torch.zeros(1, num_head, self.dim_hid_ent))
        self.aggr_proj = nn.Linear(dim_in_ent + dim_rel, dim_out_ent, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for t in (self.attn_proj.weight, self.attn_vec, self.aggr_proj.weight):
            _xavier_relu(t)
        for lin in (self.attn_proj, self.aggr_proj):
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def node_linear(self) -> tuple[Tensor, Tensor | None]:
        """The per-entity parts of ``Ŵ_att [x_v ; x_u ; z_r]`` and ``Ŵ_agg [x_u ; z_r]``, stacked.

        Returns ``W (3D̂, D̂)`` and bias ``(3D̂,)`` such that ``x Wᵀ + b = [Ŵ_att,v x + b_att ;
        Ŵ_att,u x ; Ŵ_agg,u x + b_agg]`` (the biases of both maps are carried by the entity parts).
        """
        d_in = self.dim_in_ent
        w_att, w_agg = self.attn_proj.weight, self.aggr_proj.weight
        w = torch.cat([w_att[:, :d_in], w_att[:, d_in:2 * d_in], w_agg[:, :d_in]])
        if self.attn_proj.bias is None:
            return w, None
        return w, torch.cat([self.attn_proj.bias, torch.zeros_like(self.attn_proj.bias), self.aggr_proj.bias])

    def forward(self, emb_ent: Tensor | None, emb_rel: Tensor, triplets: Tensor, return_attention: bool = False,
                node_parts: Tensor | None = None, groups: TailGroups | None = None):
        """``node_parts (N, k·D̂)``, ``k ≥ 3``: ``emb_ent`` already mapped by :meth:`node_linear` in its
        first three blocks (``emb_ent`` is unused then; :class:`InGram` puts the residual in a fourth).
        ``groups``: the :class:`TailGroups` of ``triplets`` if the caller has built them.

        Without autograd (``torch.no_grad()`` or nothing requiring gradients) the per-edge work runs
        in the fused inference kernels; otherwise in ``_KERNELS`` (the same formulas).
        """
        if node_parts is None:
            node_parts = F.linear(emb_ent, *self.node_linear())
        num_ent, d_out = node_parts.shape[0], self.dim_out_ent
        H, dh = self.num_head, self.dim_hid_ent
        g = groups if groups is not None else TailGroups.of(triplets, num_ent)
        w_att, w_agg = self.attn_proj.weight, self.aggr_proj.weight
        w_rel = torch.cat([w_att[:, 2 * self.dim_in_ent:], w_agg[:, self.dim_in_ent:]])  # (2D̂, D)
        both_r = F.linear(emb_rel, w_rel)  # (2R, 2D̂): [W_att z_r | W_agg z_r]
        if not (torch.is_grad_enabled() and (node_parts.requires_grad or both_r.requires_grad)):
            out, alpha, alpha_self = _entity_attention_inference(node_parts, both_r, g, self.attn_vec)
        else:
            att_v, att_u, agg_u = (node_parts[:, i * d_out:(i + 1) * d_out] for i in range(3))  # 3 × (N, D̂)
            att_r, agg_r = both_r.split(d_out, dim=1)
            # Self-loop relation = mean z_r of incoming triples (zero if none); linear maps commute with the mean.
            self_r = F.embedding_bag(g.r, both_r, g.offsets, mode="mean")  # (N, 2D̂)
            self_att_r, self_agg_r = self_r.split(d_out, dim=1)
            attn_mat = _attention_matrix(self.attn_vec)  # (D̂, H)
            self_logits = F.leaky_relu(att_v + att_u + self_att_r, LEAKY_SLOPE) @ attn_mat  # (N, H)
            logits = _KERNELS["edge_logits"](att_v, att_u, att_r, g.v, g.u, g.r, attn_mat)  # (M, H)
            alpha, alpha_self = _segment_softmax(logits, g.v, num_ent, self_logits)
            out = (agg_u + self_agg_r).view(num_ent, H, dh) * alpha_self.unsqueeze(-1)  # self-loop messages
            out = _KERNELS["edge_aggregate"](out, agg_u, agg_r, g.u, g.r, g.v, alpha)
        out = out.view(num_ent, H * dh)
        if return_attention:
            # Report in the input order of ``triplets``, self-loops appended.
            alpha_in = torch.empty_like(alpha).index_copy_(0, g.order, alpha)
            loops = torch.arange(num_ent, device=triplets.device)
            edge_index = torch.stack([torch.cat([triplets[:, 2], loops]), torch.cat([triplets[:, 0], loops])])
            edge_type = torch.cat([triplets[:, 1], torch.full_like(loops, -1)])
            return out, LayerAttention(edge_index, torch.cat([alpha_in, alpha_self]).detach(), edge_type)
        return out


class InGram(nn.Module):
    """InGram: relation layers on the relation graph, then entity layers on the triples.

    ``forward(emb_ent, emb_rel, triplets, relation_triplets)``:

    - ``emb_ent (N, d̂)``, ``emb_rel (2R, d)``: random initial features (:func:`initial_features`);
    - ``triplets (M, 3)``: augmented message triples ``[h, r, t]`` (inverses included);
    - ``relation_triplets (E, 3)``: binned relation-graph edges ``[i, j, bin]``.

    Returns ``(ent_emb (N, d̂), rel_emb (2R, d))``, plus a dict of per-layer
    :class:`LayerAttention` lists (``"relation"``, ``"entity"``) when ``return_attention``.
    Each layer is followed by ``ReLU(layer(x) + W_res x)``.
    """

    def __init__(self, dim_ent: int, hid_dim_ratio_ent: int, dim_rel: int, hid_dim_ratio_rel: int,
                 num_bin: int, num_layer_ent: int, num_layer_rel: int, num_head: int, bias: bool = True):
        super().__init__()
        dim_ent_hid = hid_dim_ratio_ent * dim_ent
        dim_rel_hid = hid_dim_ratio_rel * dim_rel
        self.num_bin = num_bin
        self.dim_ent, self.dim_rel = dim_ent, dim_rel
        self.rel_proj1 = nn.Linear(dim_rel, dim_rel_hid, bias=bias)
        self.rel_proj2 = nn.Linear(dim_rel_hid, dim_rel, bias=bias)
        self.ent_proj1 = nn.Linear(dim_ent, dim_ent_hid, bias=bias)
        self.ent_proj2 = nn.Linear(dim_ent_hid, dim_ent, bias=bias)
        self.layers_ent = nn.ModuleList(
            [InGramEntityLayer(dim_ent_hid, dim_ent_hid, dim_rel_hid, bias, num_head) for _ in range(num_layer_ent)])
        self.layers_rel = nn.ModuleList(
            [InGramRelationLayer(dim_rel_hid, dim_rel_hid, num_bin, bias, num_head) for _ in range(num_layer_rel)])
        self.res_proj_ent = nn.ModuleList([nn.Linear(dim_ent_hid, dim_ent_hid, bias=bias) for _ in range(num_layer_ent)])
        self.res_proj_rel = nn.ModuleList([nn.Linear(dim_rel_hid, dim_rel_hid, bias=bias) for _ in range(num_layer_rel)])
        self.rel_proj = nn.Linear(dim_rel, dim_ent, bias=bias)
        self.reset_parameters()

    @classmethod
    def from_config(cls, config: InGramConfig) -> "InGram":
        return cls(**config.model_kwargs())

    def reset_parameters(self) -> None:
        """Xavier-normal (gain √2) weights and zero biases, as the authors initialise."""
        for lin in [self.rel_proj1, self.rel_proj2, self.ent_proj1, self.ent_proj2, self.rel_proj,
                    *self.res_proj_ent, *self.res_proj_rel]:
            _xavier_relu(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)
        for layer in [*self.layers_ent, *self.layers_rel]:
            layer.reset_parameters()

    def forward(self, emb_ent: Tensor, emb_rel: Tensor, triplets: Tensor, relation_triplets: Tensor,
                return_attention: bool = False):
        z = self.rel_proj1(emb_rel)  # (2R, D)
        attention: dict[str, list[LayerAttention]] = {"relation": [], "entity": []}
        for layer, res in zip(self.layers_rel, self.res_proj_rel):
            out = layer(z, relation_triplets, return_attention)
            if return_attention:
                out, att = out
                attention["relation"].append(att)
            z = torch.relu(out + res(z))
        # Entity layers use their input only through linear maps: the layer's three per-entity
        # parts and the residual W_res x are one product, and for the first layer x¹ = W₁x⁰ + b₁
        # is folded into it ((W·W₁) x⁰ + W b₁ + b: d̂ instead of D̂ columns, x¹ never formed).
        x, in_proj = emb_ent, self.ent_proj1
        groups = TailGroups.of(triplets, emb_ent.shape[0]) if len(self.layers_ent) else None
        for layer, res in zip(self.layers_ent, self.res_proj_ent):
            w, b = _stack_linear([layer.node_linear(), (res.weight, res.bias)])
            if in_proj is not None:
                w, b = w @ in_proj.weight, (None if b is None else b + w @ in_proj.bias)
            parts = F.linear(x, w, b)  # (N, 4D̂): [att_v | att_u | agg_u | W_res x]
            out = layer(None, z, triplets, return_attention, node_parts=parts, groups=groups)
            if return_attention:
                out, att = out
                attention["entity"].append(att)
            x, in_proj = torch.relu(out + parts[:, 3 * layer.dim_out_ent:]), None
        if in_proj is not None:  # no entity layers
            x = in_proj(x)
        ent, rel = self.ent_proj2(x), self.rel_proj2(z)
        return (ent, rel, attention) if return_attention else (ent, rel)

    def score(self, emb_ent: Tensor, emb_rel: Tensor, triplets: Tensor) -> Tensor:
        """DistMult with a relation projection: ``f(h, r, t) = Σ x_h ⊙ W_p z_r ⊙ x_t``, shape ``(M,)``."""
        h = emb_ent.index_select(0, triplets[:, 0])
        r = self.rel_proj(emb_rel).index_select(0, triplets[:, 1])
        t = emb_ent.index_select(0, triplets[:, 2])
        return (h * r * t).sum(-1)

    def score_all_tails(self, emb_ent: Tensor, emb_rel: Tensor, heads: Tensor, relations: Tensor) -> Tensor:
        """``f(h, r, e)`` for every entity ``e``: ``(Q, N)``, one row per query ``(h, r)``."""
        return (emb_ent[heads] * self.rel_proj(emb_rel[relations])) @ emb_ent.T

    def score_all_heads(self, emb_ent: Tensor, emb_rel: Tensor, relations: Tensor, tails: Tensor) -> Tensor:
        """``f(e, r, t)`` for every entity ``e``: ``(Q, N)`` (DistMult is symmetric in h and t)."""
        return self.score_all_tails(emb_ent, emb_rel, tails, relations)
