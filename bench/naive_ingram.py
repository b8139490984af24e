"""A straightforward vectorised InGram for benchmarks: the per-edge formula as written.

Every edge builds its concatenation (``[z_i ; z_j]``, ``[x_v ; x_u ; z_r]``, ``[x_u ; z_r]``) and
multiplies it by the full weight matrix; gathers use advanced indexing and the grouped softmax
uses ``scatter_reduce`` / ``index_add`` — the way the authors' code computes it. It shares the
parameters of a :class:`kgviz.model.InGram`, so outputs can be compared.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _grouped_softmax(raw, index, num_nodes):
    heads = raw.shape[1]
    idx = index.unsqueeze(-1).repeat(1, heads).unsqueeze(-1)
    top = torch.zeros(num_nodes, heads, 1).scatter_reduce(0, idx, raw, reduce="amax", include_self=False)
    ex = torch.exp(raw - top[index])
    sums = torch.zeros(num_nodes, heads, 1).index_add(0, index, ex)
    return ex / (sums[index] + 1e-16)


class NaiveInGram(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model
        self.num_bin = model.num_bin

    def forward(self, emb_ent, emb_rel, triplets, relation_triplets):
        m = self.m
        x, z = m.ent_proj1(emb_ent), m.rel_proj1(emb_rel)
        i, j, b = relation_triplets[:, 0], relation_triplets[:, 1], relation_triplets[:, 2]
        for layer, res in zip(m.layers_rel, m.res_proj_rel):
            H, dh = layer.num_head, layer.dim_hid_rel
            raw = (F.leaky_relu(layer.attn_proj(torch.cat([z[i], z[j]], -1)), 0.2).view(-1, H, dh)
                   * layer.attn_vec).sum(-1, keepdim=True) + layer.attn_bin[b]
            beta = _grouped_softmax(raw, i, len(z))
            out = torch.zeros(len(z), H, dh).index_add(0, i, beta * layer.aggr_proj(z[j]).view(-1, H, dh))
            z = torch.relu(out.flatten(1) + res(z))
        n = len(x)
        u, r, v = triplets[:, 0], triplets[:, 1], triplets[:, 2]
        loops = torch.arange(n)
        freq = torch.zeros(n).index_add(0, v, torch.ones(len(v))).clamp_min(1).unsqueeze(1)
        for layer, res in zip(m.layers_ent, m.res_proj_ent):
            H, dh = layer.num_head, layer.dim_hid_ent
            self_rel = torch.zeros(n, z.shape[1]).index_add(0, v, z[r]) / freq
            rels = torch.cat([z[r], self_rel])
            heads, tails = torch.cat([u, loops]), torch.cat([v, loops])
            raw = (F.leaky_relu(layer.attn_proj(torch.cat([x[tails], x[heads], rels], -1)), 0.2).view(-1, H, dh)
                   * layer.attn_vec).sum(-1, keepdim=True)
            beta = _grouped_softmax(raw, tails, n)
            msg = beta * layer.aggr_proj(torch.cat([x[heads], rels], -1)).view(-1, H, dh)
            x = torch.relu(torch.zeros(n, H, dh).index_add(0, tails, msg).flatten(1) + res(x))
        return m.ent_proj2(x), m.rel_proj2(z)

    def score(self, emb_ent, emb_rel, triplets):
        h, r, t = triplets[:, 0], triplets[:, 1], triplets[:, 2]
        return (emb_ent[h] * self.m.rel_proj(emb_rel[r]) * emb_ent[t]).sum(-1)


def naive_model_like(model) -> NaiveInGram:
    """A :class:`NaiveInGram` sharing ``model``'s parameters."""
    return NaiveInGram(model)
