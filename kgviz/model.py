"""InGram (Lee, Chung, Whang, ICML 2023): relation-level then entity-level attention, DistMult head.

Parameter names and shapes follow the authors' checkpoints (spec §5), so their ``state_dict``
loads here with ``strict=True`` and ours loads into theirs.

Speed: every attention logit and message is a linear map of a concatenation, which equals a sum
of linear maps of the parts (``W[x_v ; x_u ; z_r] = W_v x_v + W_u x_u + W_r z_r``). The parts are
computed once per entity / relation and gathered per edge, instead of multiplying a
``(E, 2D̂ + D)`` matrix per edge. The result is equal to the per-edge formula (tests check 1e-5).

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``E`` edges, ``H`` heads,
``D̂ = d̂·ratio_ent``, ``D = d·ratio_rel`` hidden sizes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["InGramConfig", "InGram", "LayerAttention", "initial_features", "compile_edge_kernels"]

LEAKY_SLOPE = 0.2  # LeakyReLU slope of both attention layers (authors' code)


@dataclass
class InGramConfig:
    """Training options, named exactly as the keys of the authors' ``config.json``."""

    learning_rate: float = 5e-4  # Adam step size
    dimension_entity: int = 32  # d̂, entity feature / output size
    dimension_relation: int = 32  # d, relation feature / output size
    num_layer_ent: int = 2  # L̂ entity layers
    num_layer_rel: int = 2  # L relation layers
    hidden_dimension_ratio_entity: int = 8  # D̂ = d̂ · ratio
    hidden_dimension_ratio_relation: int = 4  # D = d · ratio
    num_bin: int = 10  # B bins of relation-graph edge weights
    num_head: int = 8  # K attention heads (both layer kinds)
    margin: float = 2.0  # γ of the margin ranking loss
    num_neg: int = 10  # corruptions per supervision triple
    num_epoch: int = 10000  # full-batch epochs
    validation_epoch: int = 200  # validate every this many epochs

    @classmethod
    def from_dict(cls, d: dict) -> "InGramConfig":
        """Build from a ``config.json`` dict; keys that are not model/training options are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict:
        return asdict(self)

    def model_kwargs(self) -> dict:
        """Keyword arguments of :class:`InGram` (the authors' constructor names)."""
        return dict(dim_ent=self.dimension_entity, hid_dim_ratio_ent=self.hidden_dimension_ratio_entity,
                    dim_rel=self.dimension_relation, hid_dim_ratio_rel=self.hidden_dimension_ratio_relation,
                    num_bin=self.num_bin, num_layer_ent=self.num_layer_ent,
                    num_layer_rel=self.num_layer_rel, num_head=self.num_head)


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
                 attn_vec: Tensor) -> Tensor:
    """``â_kᵀ LeakyReLU(att_v[v] + att_u[u] + att_r[r])_k`` per edge: ``(M, H)``; ``attn_vec (1, H, dh)``."""
    hidden = att_v.index_select(0, v) + att_u.index_select(0, u) + att_r.index_select(0, r)  # (M, D̂)
    hidden = F.leaky_relu(hidden, LEAKY_SLOPE).view(len(v), attn_vec.shape[1], attn_vec.shape[2])  # (M, H, dh)
    return (hidden * attn_vec).sum(-1)


def _edge_aggregate(out: Tensor, agg_u: Tensor, agg_r: Tensor, u: Tensor, r: Tensor, v: Tensor,
                    alpha: Tensor) -> Tensor:
    """``out[v] += α_k · (agg_u[u] + agg_r[r])_k`` over the edges; ``out (N, H, dh)``, ``alpha (M, H)``."""
    msg = (agg_u.index_select(0, u) + agg_r.index_select(0, r)).view(len(u), *out.shape[1:])  # (M, H, dh)
    return out.index_add(0, v, msg * alpha.unsqueeze(-1))


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

    def forward(self, emb_ent: Tensor, emb_rel: Tensor, triplets: Tensor, return_attention: bool = False):
        num_ent, d_in = emb_ent.shape
        H, dh = self.num_head, self.dim_hid_ent
        order = torch.argsort(triplets[:, 2], stable=True)  # group messages by receiving tail
        u, r, v = triplets[order, 0], triplets[order, 1], triplets[order, 2]
        w_att, w_agg = self.attn_proj.weight, self.aggr_proj.weight
        # Per-node parts of W_att [x_v ; x_u ; z_r] and W_agg [x_u ; z_r], one matmul per input.
        w_ent = torch.cat([w_att[:, :d_in], w_att[:, d_in:2 * d_in], w_agg[:, :d_in]])  # (3D̂, D̂)
        b_ent = None
        if self.attn_proj.bias is not None:
            b_ent = torch.cat([self.attn_proj.bias, torch.zeros_like(self.attn_proj.bias), self.aggr_proj.bias])
        att_v, att_u, agg_u = F.linear(emb_ent, w_ent, b_ent).split(self.dim_out_ent, dim=1)  # 3 × (N, D̂)
        w_rel = torch.cat([w_att[:, 2 * d_in:], w_agg[:, d_in:]])  # (2D̂, D)
        both_r = F.linear(emb_rel, w_rel)  # (2R, 2D̂): [W_att z_r | W_agg z_r]
        att_r, agg_r = both_r.split(self.dim_out_ent, dim=1)
        # Self-loop relation = mean z_r of incoming triples (zero if none); linear maps commute with the mean.
        in_deg = torch.bincount(v, minlength=num_ent)  # (N,)
        offsets = torch.cumsum(in_deg, 0) - in_deg  # (N,) first edge of each tail (edges sorted by v)
        self_r = F.embedding_bag(r, both_r, offsets, mode="mean")  # (N, 2D̂)
        self_att_r, self_agg_r = self_r.split(self.dim_out_ent, dim=1)

        logits = _KERNELS["edge_logits"](att_v, att_u, att_r, v, u, r, self.attn_vec)  # (M, H)
        self_hidden = F.leaky_relu(att_v + att_u + self_att_r, LEAKY_SLOPE).view(-1, H, dh)  # (N, H, dh)
        self_logits = (self_hidden * self.attn_vec).sum(-1)  # (N, H)
        alpha, alpha_self = _segment_softmax(logits, v, num_ent, self_logits)

        out = (agg_u + self_agg_r).view(num_ent, H, dh) * alpha_self.unsqueeze(-1)  # self-loop messages
        out = _KERNELS["edge_aggregate"](out, agg_u, agg_r, u, r, v, alpha).view(num_ent, H * dh)
        if return_attention:
            # Report in the input order of ``triplets``, self-loops appended.
            alpha_in = torch.empty_like(alpha).index_copy_(0, order, alpha)
            loops = torch.arange(num_ent, device=v.device)
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
        x = self.ent_proj1(emb_ent)  # (N, D̂)
        z = self.rel_proj1(emb_rel)  # (2R, D)
        attention: dict[str, list[LayerAttention]] = {"relation": [], "entity": []}
        for layer, res in zip(self.layers_rel, self.res_proj_rel):
            out = layer(z, relation_triplets, return_attention)
            if return_attention:
                out, att = out
                attention["relation"].append(att)
            z = torch.relu(out + res(z))
        for layer, res in zip(self.layers_ent, self.res_proj_ent):
            out = layer(x, z, triplets, return_attention)
            if return_attention:
                out, att = out
                attention["entity"].append(att)
            x = torch.relu(out + res(x))
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
