"""InGram (Lee, Chung, Whang, ICML 2023): relation-level then entity-level attention, DistMult head.

Read top to bottom in the paper's order: random initial features (spec §3), the relation layer
and the entity layer (§4), the model that stacks them with residuals, then the score (§5).
Parameter names and shapes follow the authors' checkpoints (spec §5), so their ``state_dict``
loads here with ``strict=True`` and ours loads into theirs. The options are
:class:`~kgviz.config.InGramConfig` (named as the authors' ``config.json``).

Each layer computes its equation once per node and gathers the parts per edge
(``W[x_v ; x_u ; z_r] = W_v x_v + W_u x_u + W_r z_r``); the per-edge work of the entity layer
lives in :mod:`kgviz.models.ingram.kernels`. :mod:`kgviz.models.ingram.reference` is the same model written per edge,
literally as the equations read; tests check that both agree.

Symbols: ``N`` entities, ``R`` relations (``2R`` with inverses), ``M`` message triples (with
inverses), ``E`` relation-graph edges, ``H`` heads, ``d̂``/``d`` entity/relation feature sizes,
``D̂ = d̂·ratio_ent``, ``D = d·ratio_rel`` hidden sizes, ``dh`` = hidden size / ``H``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kgviz.config import LEAKY_SLOPE, InGramConfig
from kgviz.models.ingram.kernels import (
    EAGER_KERNELS,
    EdgeKernels,
    TailGroups,
    compiled_kernels,
    entity_attention,
    segment_softmax,
)

__all__ = ["InGramConfig", "InGram", "InGramRelationLayer", "InGramEntityLayer", "LayerAttention", "initial_features"]


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


def initial_features(
    num_entities: int,
    num_relations: int,
    dim_ent: int,
    dim_rel: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor]:
    """Random features ``x⁰ (N, d̂)`` and ``z⁰ (2R, d)``, Xavier-normal with gain √2 (spec §3).

    ``std = √2 · √(2 / (rows + cols))``. ``num_relations`` is ``R``; ``2R`` rows are drawn.
    Drawn on the CPU from ``generator`` (so a seed gives the same features on every device).
    """

    def draw(rows: int, cols: int) -> Tensor:
        std = math.sqrt(2.0) * math.sqrt(2.0 / (rows + cols))
        return (torch.randn(rows, cols, generator=generator) * std).to(device)

    return draw(num_entities, dim_ent), draw(2 * num_relations, dim_rel)


def _xavier_relu(t: Tensor) -> Tensor:
    """Xavier-normal with the ReLU gain √2, the authors' initialisation of every weight."""
    return nn.init.xavier_normal_(t, gain=nn.init.calculate_gain("relu"))


def _zero_biases(*linears: nn.Linear) -> None:
    for lin in linears:
        if lin.bias is not None:
            nn.init.zeros_(lin.bias)


class InGramRelationLayer(nn.Module):
    r"""Relation-level attention over the relation graph (spec §4).

    For an edge ``(i, j)`` of bin ``b``:

    .. math::
        s_{ijk} = a_k^\top \mathrm{LeakyReLU}(W_{att}[z_i ; z_j])_k + c_{b,k}, \quad
        \alpha_{ijk} = \mathrm{softmax}_{j \in N(i)}(s_{ijk}), \quad
        z_i' = \Vert_k \sum_j \alpha_{ijk} (W_{agg} z_j)_k

    Args: ``dim_in_rel`` / ``dim_out_rel`` input and output size ``D``, ``num_bin`` bins ``B``,
    ``num_head`` heads ``H`` (dividing ``dim_out_rel``).
    Shapes: ``emb_rel (2R, D)``, ``relation_triplets (E, 3)`` as ``[i, j, bin]`` → ``(2R, D)``.
    """

    def __init__(self, dim_in_rel: int, dim_out_rel: int, num_bin: int, bias: bool = True, num_head: int = 8):
        super().__init__()
        if dim_out_rel % num_head:
            raise ValueError(f"relation hidden size {dim_out_rel} is not divisible by {num_head} heads")
        self.dim_out_rel = dim_out_rel
        self.dim_hid_rel = dim_out_rel // num_head
        self.num_head = num_head
        self.attn_proj = nn.Linear(2 * dim_in_rel, dim_out_rel, bias=bias)  # W_att
        self.attn_bin = nn.Parameter(torch.zeros(num_bin, num_head, 1))  # c_b
        self.attn_vec = nn.Parameter(torch.zeros(1, num_head, self.dim_hid_rel))  # a
        self.aggr_proj = nn.Linear(dim_in_rel, dim_out_rel, bias=bias)  # W_agg
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for t in (self.attn_proj.weight, self.attn_bin, self.attn_vec, self.aggr_proj.weight):  # the authors' order
            _xavier_relu(t)
        _zero_biases(self.attn_proj, self.aggr_proj)

    def forward(
        self, emb_rel: Tensor, relation_triplets: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, LayerAttention]:
        num_rel, d_in = emb_rel.shape
        H, dh = self.num_head, self.dim_hid_rel
        i, j, b = relation_triplets[:, 0], relation_triplets[:, 1], relation_triplets[:, 2]
        w = self.attn_proj.weight  # (D, 2D): [z_i ; z_j]
        p_i = F.linear(emb_rel, w[:, :d_in], self.attn_proj.bias)  # (2R, D)
        p_j = F.linear(emb_rel, w[:, d_in:])  # (2R, D)
        hidden = F.leaky_relu(p_i.index_select(0, i) + p_j.index_select(0, j), LEAKY_SLOPE)  # (E, D)
        logits = (hidden.view(-1, H, dh) * self.attn_vec).sum(-1)  # (E, H)
        logits = logits + self.attn_bin[:, :, 0].index_select(0, b)
        alpha, _ = segment_softmax(logits, i, num_rel)  # (E, H)
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
        \alpha = \mathrm{softmax\ over\ triples\ into\ } v, \quad
        x_v' = \Vert_k \sum \alpha_k (\hat W_{agg}[x_u ; z_r])_k

    The self-loop of ``v`` carries the mean ``z_r`` of the triples into ``v`` (zero if none).
    Args: ``dim_in_ent`` / ``dim_out_ent`` sizes ``D̂``, ``dim_rel`` relation size ``D``,
    ``num_head`` heads ``H`` (dividing ``dim_out_ent``).
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
        self.attn_proj = nn.Linear(2 * dim_in_ent + dim_rel, dim_out_ent, bias=bias)  # Ŵ_att
        self.attn_vec = nn.Parameter(torch.zeros(1, num_head, self.dim_hid_ent))  # â
        self.aggr_proj = nn.Linear(dim_in_ent + dim_rel, dim_out_ent, bias=bias)  # Ŵ_agg
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for t in (self.attn_proj.weight, self.attn_vec, self.aggr_proj.weight):  # the authors' order
            _xavier_relu(t)
        _zero_biases(self.attn_proj, self.aggr_proj)

    def node_linear(self) -> tuple[Tensor, Tensor | None]:
        """The per-entity parts of ``Ŵ_att [x_v ; x_u ; z_r]`` and ``Ŵ_agg [x_u ; z_r]``, stacked.

        Returns ``W (3D̂, D̂)`` and bias ``(3D̂,)`` such that ``x Wᵀ + b = [Ŵ_att,v x + b_att ;
        Ŵ_att,u x ; Ŵ_agg,u x + b_agg]`` (the biases of both maps are carried by the entity parts).
        """
        d_in = self.dim_in_ent
        w_att, w_agg = self.attn_proj.weight, self.aggr_proj.weight
        w = torch.cat([w_att[:, :d_in], w_att[:, d_in : 2 * d_in], w_agg[:, :d_in]])
        if self.attn_proj.bias is None or self.aggr_proj.bias is None:
            return w, None
        return w, torch.cat([self.attn_proj.bias, torch.zeros_like(self.attn_proj.bias), self.aggr_proj.bias])

    def forward(
        self, emb_ent: Tensor, emb_rel: Tensor, triplets: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, LayerAttention]:
        node_parts = F.linear(emb_ent, *self.node_linear())  # (N, 3D̂)
        return self._attend(node_parts, emb_rel, triplets, TailGroups.of(triplets, len(emb_ent)), return_attention)

    def _attend(
        self,
        node_parts: Tensor,
        emb_rel: Tensor,
        triplets: Tensor,
        groups: TailGroups,
        return_attention: bool,
        kernels: EdgeKernels = EAGER_KERNELS,
    ) -> Tensor | tuple[Tensor, LayerAttention]:
        """The layer on entity inputs already mapped by :meth:`node_linear` (``node_parts (N, k·D̂)``,
        its first three blocks; :class:`InGram` folds more into the same product)."""
        num_ent, d_in = node_parts.shape[0], self.dim_in_ent
        w_att, w_agg = self.attn_proj.weight, self.aggr_proj.weight
        w_rel = torch.cat([w_att[:, 2 * d_in :], w_agg[:, d_in:]])  # (2D̂, D)
        both_r = F.linear(emb_rel, w_rel)  # (2R, 2D̂): [Ŵ_att,r z_r | Ŵ_agg,r z_r]
        out, alpha, alpha_self = entity_attention(node_parts, both_r, groups, self.attn_vec, kernels)  # (N, D̂)
        if not return_attention:
            return out
        # Report in the input order of ``triplets``, self-loops appended.
        alpha_in = torch.empty_like(alpha).index_copy_(0, groups.order, alpha)
        loops = torch.arange(num_ent, device=triplets.device)
        edge_index = torch.stack([torch.cat([triplets[:, 2], loops]), torch.cat([triplets[:, 0], loops])])
        edge_type = torch.cat([triplets[:, 1], torch.full_like(loops, -1)])
        return out, LayerAttention(edge_index, torch.cat([alpha_in, alpha_self]).detach(), edge_type)


def _stack_linear(maps: list[tuple[Tensor, Tensor | None]]) -> tuple[Tensor, Tensor | None]:
    """Stack linear maps ``(W_i, b_i)`` into one, so ``x Wᵀ + b`` computes them all in one product."""
    weights, biases = zip(*maps)
    if any(b is None for b in biases):
        if not all(b is None for b in biases):
            raise ValueError("cannot stack linear maps with and without bias")
        return torch.cat(weights), None
    return torch.cat(weights), torch.cat(biases)


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

    def __init__(
        self,
        dim_ent: int,
        hid_dim_ratio_ent: int,
        dim_rel: int,
        hid_dim_ratio_rel: int,
        num_bin: int,
        num_layer_ent: int,
        num_layer_rel: int,
        num_head: int,
        bias: bool = True,
    ):
        super().__init__()
        dim_ent_hid = hid_dim_ratio_ent * dim_ent  # D̂
        dim_rel_hid = hid_dim_ratio_rel * dim_rel  # D
        self.num_bin = num_bin
        self.dim_ent, self.dim_rel = dim_ent, dim_rel
        self.rel_proj1 = nn.Linear(dim_rel, dim_rel_hid, bias=bias)  # d → D
        self.rel_proj2 = nn.Linear(dim_rel_hid, dim_rel, bias=bias)  # D → d
        self.ent_proj1 = nn.Linear(dim_ent, dim_ent_hid, bias=bias)  # d̂ → D̂
        self.ent_proj2 = nn.Linear(dim_ent_hid, dim_ent, bias=bias)  # D̂ → d̂
        self.layers_ent = nn.ModuleList(
            [InGramEntityLayer(dim_ent_hid, dim_ent_hid, dim_rel_hid, bias, num_head) for _ in range(num_layer_ent)]
        )
        self.layers_rel = nn.ModuleList(
            [InGramRelationLayer(dim_rel_hid, dim_rel_hid, num_bin, bias, num_head) for _ in range(num_layer_rel)]
        )
        self.res_proj_ent = nn.ModuleList(
            [nn.Linear(dim_ent_hid, dim_ent_hid, bias=bias) for _ in range(num_layer_ent)]
        )
        self.res_proj_rel = nn.ModuleList(
            [nn.Linear(dim_rel_hid, dim_rel_hid, bias=bias) for _ in range(num_layer_rel)]
        )
        self.rel_proj = nn.Linear(dim_rel, dim_ent, bias=bias)  # W_p of the score
        self.kernels = EAGER_KERNELS  # per-edge kernels of the training path (not parameters)
        self.reset_parameters()

    @classmethod
    def from_config(cls, config: InGramConfig) -> InGram:
        return cls(**config.model_kwargs())

    def reset_parameters(self) -> None:
        """Xavier-normal (gain √2) weights and zero biases, as the authors initialise."""
        linears = [
            self.rel_proj1,
            self.rel_proj2,
            self.ent_proj1,
            self.ent_proj2,
            self.rel_proj,
            *self.res_proj_ent,
            *self.res_proj_rel,
        ]
        for lin in linears:
            _xavier_relu(lin.weight)
        _zero_biases(*linears)
        for layer in [*self.layers_ent, *self.layers_rel]:
            layer.reset_parameters()

    @property
    def relation_layers(self) -> list[tuple[InGramRelationLayer, nn.Linear]]:
        """Each relation layer with its residual map ``W_res``."""
        return cast(list[tuple[InGramRelationLayer, nn.Linear]], list(zip(self.layers_rel, self.res_proj_rel)))

    @property
    def entity_layers(self) -> list[tuple[InGramEntityLayer, nn.Linear]]:
        """Each entity layer with its residual map ``W_res``."""
        return cast(list[tuple[InGramEntityLayer, nn.Linear]], list(zip(self.layers_ent, self.res_proj_ent)))

    def use_compiled_kernels(self) -> InGram:
        """Train this model with the ``torch.compile`` kernels (:func:`kgviz.models.ingram.kernels.compiled_kernels`)."""
        self.kernels = compiled_kernels()
        return self

    def forward(
        self,
        emb_ent: Tensor,
        emb_rel: Tensor,
        triplets: Tensor,
        relation_triplets: Tensor,
        return_attention: bool = False,
    ) -> tuple[Tensor, Tensor] | tuple[Tensor, Tensor, dict[str, list[LayerAttention]]]:
        attention: dict[str, list[LayerAttention]] = {"relation": [], "entity": []}
        z = self.rel_proj1(emb_rel)  # (2R, D)
        for rel_layer, res in self.relation_layers:
            out = rel_layer(z, relation_triplets, return_attention)
            if return_attention:
                out, att = out
                attention["relation"].append(att)
            z = torch.relu(out + res(z))  # (2R, D)
        # Entity layers use their input only through linear maps: the layer's three per-entity
        # parts and the residual W_res x are one product, and for the first layer x¹ = W₁x⁰ + b₁
        # is folded into it ((W·W₁) x⁰ + W b₁ + b: d̂ instead of D̂ columns, x¹ never formed).
        x, in_proj = emb_ent, cast(nn.Linear | None, self.ent_proj1)
        groups = TailGroups.of(triplets, emb_ent.shape[0])
        for layer, res in self.entity_layers:
            w, b = _stack_linear([layer.node_linear(), (res.weight, res.bias)])
            if in_proj is not None:
                w, b = w @ in_proj.weight, (None if b is None else b + w @ in_proj.bias)
            parts = F.linear(x, w, b)  # (N, 4D̂): [att_v | att_u | agg_u | W_res x]
            out = layer._attend(parts, z, triplets, groups, return_attention, self.kernels)
            if return_attention:
                out, att = out
                attention["entity"].append(att)
            x, in_proj = torch.relu(out + parts[:, 3 * layer.dim_out_ent :]), None  # (N, D̂)
        if in_proj is not None:  # no entity layers
            x = in_proj(x)
        ent, rel = self.ent_proj2(x), self.rel_proj2(z)  # (N, d̂), (2R, d)
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


def untrained_ingram(config: InGramConfig | None = None, weight_seed: int = 0) -> InGram:
    """An InGram of ``config``'s shape (default: the default configuration) with random weights drawn with
    ``weight_seed``, initialised as the authors do; in eval mode. The global torch RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(weight_seed))
        return InGram.from_config(config or InGramConfig()).eval()
