"""A small, readable per-edge InGram (spec §4), used only to check :mod:`kgviz.model`.

It builds the concatenations ``[z_i ; z_j]`` and ``[x_v ; x_u ; z_r]`` for every edge and applies
the layer's weights to them directly, the way the paper writes the equations. Slow on purpose.
"""
import torch
import torch.nn.functional as F


def _softmax_by(logits, index, num_nodes):
    out = torch.empty_like(logits)
    for node in range(num_nodes):
        sel = (index == node).nonzero().flatten()
        if len(sel):
            out[sel] = torch.softmax(logits[sel], dim=0)
    return out


def relation_layer(layer, z, rel_triplets):
    H, dh = layer.num_head, layer.dim_hid_rel
    i, j, b = rel_triplets[:, 0], rel_triplets[:, 1], rel_triplets[:, 2]
    cat = torch.cat([z[i], z[j]], dim=1)
    hid = F.leaky_relu(layer.attn_proj(cat), 0.2).view(-1, H, dh)
    logits = (hid * layer.attn_vec).sum(-1) + layer.attn_bin[b].squeeze(-1)
    alpha = _softmax_by(logits, i, len(z))
    msg = layer.aggr_proj(z[j]).view(-1, H, dh) * alpha.unsqueeze(-1)
    out = torch.zeros(len(z), H, dh, dtype=z.dtype)
    for e in range(len(i)):
        out[i[e]] += msg[e]
    return out.reshape(len(z), -1), alpha


def entity_layer(layer, x, z, triplets):
    H, dh = layer.num_head, layer.dim_hid_ent
    n = len(x)
    u, r, v = triplets[:, 0].tolist(), triplets[:, 1].tolist(), triplets[:, 2].tolist()
    rel_vecs = [z[k] for k in r]
    for node in range(n):  # self-loop with the mean incoming relation vector
        incoming = [z[r[e]] for e in range(len(v)) if v[e] == node]
        rel_vecs.append(torch.stack(incoming).mean(0) if incoming else torch.zeros(z.shape[1], dtype=z.dtype))
        u.append(node)
        v.append(node)
    zr = torch.stack(rel_vecs)
    u, v = torch.tensor(u), torch.tensor(v)
    hid = F.leaky_relu(layer.attn_proj(torch.cat([x[v], x[u], zr], dim=1)), 0.2).view(-1, H, dh)
    logits = (hid * layer.attn_vec).sum(-1)
    alpha = _softmax_by(logits, v, n)
    msg = layer.aggr_proj(torch.cat([x[u], zr], dim=1)).view(-1, H, dh) * alpha.unsqueeze(-1)
    out = torch.zeros(n, H, dh, dtype=x.dtype)
    for e in range(len(v)):
        out[v[e]] += msg[e]
    return out.reshape(n, -1), alpha


def forward(model, emb_ent, emb_rel, triplets, rel_triplets):
    """Per-edge forward pass with ``model``'s parameters; returns ``(ent, rel, alphas)``."""
    x, z = model.ent_proj1(emb_ent), model.rel_proj1(emb_rel)
    alphas = {"relation": [], "entity": []}
    for layer, res in zip(model.layers_rel, model.res_proj_rel):
        out, a = relation_layer(layer, z, rel_triplets)
        alphas["relation"].append(a)
        z = torch.relu(out + res(z))
    for layer, res in zip(model.layers_ent, model.res_proj_ent):
        out, a = entity_layer(layer, x, z, triplets)
        alphas["entity"].append(a)
        x = torch.relu(out + res(x))
    return model.ent_proj2(x), model.rel_proj2(z), alphas
