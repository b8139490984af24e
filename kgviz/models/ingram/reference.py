"""InGram written per edge, literally as the equations read: the check on :mod:`kgviz.models.ingram.network`.

For every edge it builds the concatenations ``[z_i ; z_j]`` and ``[x_v ; x_u ; z_r]`` and applies
the layer's full linear maps to them, then a softmax grouped by receiving node, as the paper and
the authors' code write it. It uses an :class:`~kgviz.models.ingram.network.InGram`'s parameters, so the tests
compare outputs, gradients and attention with the fast path, and ``bench/`` times both.
Slow and memory-hungry on purpose: a ``(E, 2D̂ + D)`` matrix per entity layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from kgviz.config import LEAKY_SLOPE
from kgviz.models.ingram.network import InGram, InGramEntityLayer, InGramRelationLayer

__all__ = ["forward", "relation_layer", "entity_layer", "grouped_softmax"]


def grouped_softmax(logits: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """``α_e = exp(s_e) / Σ_{e' : index[e'] = index[e]} exp(s_e')`` for ``logits (E, H)``, as the authors
    compute it (per-group max subtracted, ``+1e-16`` in the denominator)."""
    idx = index.unsqueeze(1).expand_as(logits)
    top = logits.new_zeros(num_nodes, logits.shape[1]).scatter_reduce(
        0, idx, logits.detach(), reduce="amax", include_self=False
    )
    ex = torch.exp(logits - top[index])
    sums = logits.new_zeros(num_nodes, logits.shape[1]).index_add(0, index, ex)
    return ex / (sums[index] + 1e-16)


def relation_layer(layer: InGramRelationLayer, z: Tensor, relation_triplets: Tensor) -> tuple[Tensor, Tensor]:
    """``z_i' = ‖_k Σ_j α_ijk (W_agg z_j)_k`` with ``α`` the softmax over ``j`` of
    ``a_kᵀ LeakyReLU(W_att [z_i ; z_j])_k + c_{bin(i,j),k}``. Returns ``(2R, D)`` and ``α (E, H)``."""
    H, dh = layer.num_head, layer.dim_hid_rel
    i, j, b = relation_triplets[:, 0], relation_triplets[:, 1], relation_triplets[:, 2]
    cat = torch.cat([z[i], z[j]], dim=1)  # (E, 2D)
    hidden = F.leaky_relu(layer.attn_proj(cat), LEAKY_SLOPE).view(-1, H, dh)  # (E, H, dh)
    logits = (hidden * layer.attn_vec).sum(-1) + layer.attn_bin[b].squeeze(-1)  # (E, H)
    alpha = grouped_softmax(logits, i, len(z))
    msg = layer.aggr_proj(z[j]).view(-1, H, dh) * alpha.unsqueeze(-1)  # (E, H, dh)
    return z.new_zeros(len(z), H, dh).index_add(0, i, msg).reshape(len(z), -1), alpha


def entity_layer(layer: InGramEntityLayer, x: Tensor, z: Tensor, triplets: Tensor) -> tuple[Tensor, Tensor]:
    """``x_v' = ‖_k Σ α_k (Ŵ_agg [x_u ; z_r])_k`` over the triples ``(u, r, v)`` into ``v`` and its
    self-loop ``(v, mean z_r of the triples into v, v)``, with ``α`` the softmax of
    ``â_kᵀ LeakyReLU(Ŵ_att [x_v ; x_u ; z_r])_k``. Returns ``(N, D̂)`` and ``α (M + N, H)``
    (the triples in input order, then the self-loops)."""
    H, dh = layer.num_head, layer.dim_hid_ent
    n = len(x)
    u, r, v = triplets[:, 0], triplets[:, 1], triplets[:, 2]
    loops = torch.arange(n, device=x.device)
    in_deg = torch.zeros(n, dtype=z.dtype, device=z.device).index_add(0, v, torch.ones_like(v, dtype=z.dtype))
    self_rel = z.new_zeros(n, z.shape[1]).index_add(0, v, z[r]) / in_deg.clamp_min(1).unsqueeze(1)  # (N, D)
    rels = torch.cat([z[r], self_rel])  # (M + N, D)
    heads, tails = torch.cat([u, loops]), torch.cat([v, loops])
    cat = torch.cat([x[tails], x[heads], rels], dim=1)  # (M + N, 2D̂ + D)
    hidden = F.leaky_relu(layer.attn_proj(cat), LEAKY_SLOPE).view(-1, H, dh)  # (M + N, H, dh)
    alpha = grouped_softmax((hidden * layer.attn_vec).sum(-1), tails, n)  # (M + N, H)
    msg = layer.aggr_proj(torch.cat([x[heads], rels], dim=1)).view(-1, H, dh) * alpha.unsqueeze(-1)
    return x.new_zeros(n, H, dh).index_add(0, tails, msg).reshape(n, -1), alpha


def forward(
    model: InGram, emb_ent: Tensor, emb_rel: Tensor, triplets: Tensor, relation_triplets: Tensor
) -> tuple[Tensor, Tensor, dict[str, list[Tensor]]]:
    """Per-edge forward pass with ``model``'s parameters; returns ``(ent, rel, alphas)``, ``alphas``
    holding each layer's ``α`` under ``"relation"`` and ``"entity"`` (the order of
    :class:`~kgviz.models.ingram.network.LayerAttention`)."""
    x, z = model.ent_proj1(emb_ent), model.rel_proj1(emb_rel)
    alphas: dict[str, list[Tensor]] = {"relation": [], "entity": []}
    for rel_layer, res in model.relation_layers:
        out, a = relation_layer(rel_layer, z, relation_triplets)
        alphas["relation"].append(a)
        z = torch.relu(out + res(z))
    for ent_layer, res in model.entity_layers:
        out, a = entity_layer(ent_layer, x, z, triplets)
        alphas["entity"].append(a)
        x = torch.relu(out + res(x))
    return model.ent_proj2(x), model.rel_proj2(z), alphas
