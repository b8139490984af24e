"""kgviz.models.ingram.network: parameter layout (spec §5), equality with the per-edge reference, attention, symmetry, seeds."""

import math

import numpy as np
import pytest
import torch
from conftest import SMALL_CONFIG, random_triples

from kgviz.models.ingram import reference as ref
from kgviz.models.ingram.network import InGram, InGramConfig, initial_features
from kgviz.graph.relgraph import add_inverses, binned_edges, relation_graph

# Spec §5 with the defaults d̂ = d = 32, ratios 8 and 4 (D̂ = 256, D = 128), B = 10, K = 8, L̂ = L = 2.
DEFAULT_SHAPES = {
    "ent_proj1.weight": (256, 32),
    "ent_proj1.bias": (256,),
    "ent_proj2.weight": (32, 256),
    "ent_proj2.bias": (32,),
    "rel_proj1.weight": (128, 32),
    "rel_proj1.bias": (128,),
    "rel_proj2.weight": (32, 128),
    "rel_proj2.bias": (32,),
    "rel_proj.weight": (32, 32),
    "rel_proj.bias": (32,),
    **{
        k.format(l=l): v
        for l in range(2)
        for k, v in {
            "layers_rel.{l}.attn_proj.weight": (128, 256),
            "layers_rel.{l}.attn_proj.bias": (128,),
            "layers_rel.{l}.attn_bin": (10, 8, 1),
            "layers_rel.{l}.attn_vec": (1, 8, 16),
            "layers_rel.{l}.aggr_proj.weight": (128, 128),
            "layers_rel.{l}.aggr_proj.bias": (128,),
            "layers_ent.{l}.attn_proj.weight": (256, 640),
            "layers_ent.{l}.attn_proj.bias": (256,),
            "layers_ent.{l}.attn_vec": (1, 8, 32),
            "layers_ent.{l}.aggr_proj.weight": (256, 384),
            "layers_ent.{l}.aggr_proj.bias": (256,),
            "res_proj_ent.{l}.weight": (256, 256),
            "res_proj_ent.{l}.bias": (256,),
            "res_proj_rel.{l}.weight": (128, 128),
            "res_proj_rel.{l}.bias": (128,),
        }.items()
    },
}


def spec_shapes(de, re_, dr, rr, b, k, le, lr):
    """The §5 table for any configuration."""
    he, hr = de * re_, dr * rr
    out = {
        "ent_proj1.weight": (he, de),
        "ent_proj1.bias": (he,),
        "ent_proj2.weight": (de, he),
        "ent_proj2.bias": (de,),
        "rel_proj1.weight": (hr, dr),
        "rel_proj1.bias": (hr,),
        "rel_proj2.weight": (dr, hr),
        "rel_proj2.bias": (dr,),
        "rel_proj.weight": (de, dr),
        "rel_proj.bias": (de,),
    }
    for l in range(lr):
        out |= {
            f"layers_rel.{l}.attn_proj.weight": (hr, 2 * hr),
            f"layers_rel.{l}.attn_proj.bias": (hr,),
            f"layers_rel.{l}.attn_bin": (b, k, 1),
            f"layers_rel.{l}.attn_vec": (1, k, hr // k),
            f"layers_rel.{l}.aggr_proj.weight": (hr, hr),
            f"layers_rel.{l}.aggr_proj.bias": (hr,),
            f"res_proj_rel.{l}.weight": (hr, hr),
            f"res_proj_rel.{l}.bias": (hr,),
        }
    for l in range(le):
        out |= {
            f"layers_ent.{l}.attn_proj.weight": (he, 2 * he + hr),
            f"layers_ent.{l}.attn_proj.bias": (he,),
            f"layers_ent.{l}.attn_vec": (1, k, he // k),
            f"layers_ent.{l}.aggr_proj.weight": (he, he + hr),
            f"layers_ent.{l}.aggr_proj.bias": (he,),
            f"res_proj_ent.{l}.weight": (he, he),
            f"res_proj_ent.{l}.bias": (he,),
        }
    return out


def shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_default_parameter_table():
    model = InGram(
        dim_ent=32,
        hid_dim_ratio_ent=8,
        dim_rel=32,
        hid_dim_ratio_rel=4,
        num_bin=10,
        num_layer_ent=2,
        num_layer_rel=2,
        num_head=8,
    )
    assert shapes(model) == DEFAULT_SHAPES
    assert shapes(InGram.from_config(InGramConfig())) == DEFAULT_SHAPES


def test_parameter_table_other_config():
    model = InGram(
        dim_ent=12,
        hid_dim_ratio_ent=2,
        dim_rel=6,
        hid_dim_ratio_rel=4,
        num_bin=5,
        num_layer_ent=3,
        num_layer_rel=1,
        num_head=4,
    )
    assert shapes(model) == spec_shapes(12, 2, 6, 4, 5, 4, 3, 1)


def test_heads_must_divide_hidden_size():
    with pytest.raises(ValueError, match="divisible"):
        InGram(
            dim_ent=10,
            hid_dim_ratio_ent=1,
            dim_rel=8,
            hid_dim_ratio_rel=1,
            num_bin=4,
            num_layer_ent=1,
            num_layer_rel=1,
            num_head=4,
        )


# -- equality with kgviz/models/ingram/reference.py -------------------------------------------------------


def random_graph(seed, num_entities=12, num_relations=3, num_triples=20, num_bins=4):
    """Augmented triples and binned relation-graph edges of a random KG.

    Entity ``N-1`` has no triple (no incoming message but its self-loop, zero relation vector);
    relation ``R-1`` has no triple (no relation-graph edge at all).
    """
    rng = np.random.default_rng(seed)
    t = random_triples(rng, num_entities - 1, num_relations - 1, num_triples)
    edges = binned_edges(relation_graph(t, num_entities, num_relations), num_bins)
    return torch.from_numpy(add_inverses(t, num_relations)), torch.from_numpy(edges)


def features(seed, n, r, dtype, cfg=SMALL_CONFIG):
    g = torch.Generator().manual_seed(seed)
    x, z = initial_features(n, r, cfg.dimension_entity, cfg.dimension_relation, g)
    return x.to(dtype), z.to(dtype)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("seed", range(3))
def test_forward_equals_reference(small_model, seed, dtype, tol):
    model = small_model(seed, dtype)
    n, r = 12, 3
    triplets, edges = random_graph(seed, n, r)
    x, z = features(seed, n, r, dtype)
    with torch.no_grad():
        ent, rel = model(x, z, triplets, edges)
        ent_ref, rel_ref, _ = ref.forward(model, x, z, triplets, edges)
    assert ent.shape == (n, SMALL_CONFIG.dimension_entity) and rel.shape == (2 * r, SMALL_CONFIG.dimension_relation)
    assert torch.isfinite(ent).all() and torch.isfinite(rel).all()
    torch.testing.assert_close(ent, ent_ref, atol=tol, rtol=tol)
    torch.testing.assert_close(rel, rel_ref, atol=tol, rtol=tol)
    # the isolated entity and the relation without edges still get finite, non-trivial outputs
    assert ent[n - 1].abs().sum() > 0 and rel[r - 1].abs().sum() > 0


def test_gradients_equal_reference(small_model):
    model = small_model(7, torch.float64)
    triplets, edges = random_graph(7)
    x, z = features(7, 12, 3, torch.float64)
    w_ent, w_rel = torch.randn(12, 8, dtype=torch.float64), torch.randn(6, 8, dtype=torch.float64)

    def grads(forward):
        model.zero_grad()
        xi, zi = x.clone().requires_grad_(), z.clone().requires_grad_()
        ent, rel = forward(xi, zi)[:2]
        ((ent * w_ent).sum() + (rel * w_rel).sum()).backward()
        # rel_proj is used by the score only: no gradient from the forward pass
        return {k: p.grad.clone() for k, p in model.named_parameters() if not k.startswith("rel_proj.")} | {
            "x": xi.grad,
            "z": zi.grad,
        }

    ours = grads(lambda xi, zi: model(xi, zi, triplets, edges))
    theirs = grads(lambda xi, zi: ref.forward(model, xi, zi, triplets, edges))
    assert ours.keys() == theirs.keys() and len(ours) == len(list(model.parameters())) - 2 + 2
    for k in ours:
        assert torch.isfinite(ours[k]).all(), k
        torch.testing.assert_close(ours[k], theirs[k], atol=1e-10, rtol=1e-8, msg=k)
    assert ours["layers_rel.0.attn_bin"].abs().sum() > 0  # the bin weights do get gradients


def test_attention(small_model):
    model = small_model(3, torch.float64)
    n, r = 12, 3
    triplets, edges = random_graph(3, n, r)
    x, z = features(3, n, r, torch.float64)
    with torch.no_grad():
        ent, rel, att = model(x, z, triplets, edges, return_attention=True)
        ent0, rel0 = model(x, z, triplets, edges)
        _, _, alphas_ref = ref.forward(model, x, z, triplets, edges)
    torch.testing.assert_close(ent, ent0, atol=0, rtol=0)
    torch.testing.assert_close(rel, rel0, atol=0, rtol=0)
    assert len(att["relation"]) == SMALL_CONFIG.num_layer_rel and len(att["entity"]) == SMALL_CONFIG.num_layer_ent
    heads = SMALL_CONFIG.num_head
    for kind, num_nodes in (("relation", 2 * r), ("entity", n)):
        for layer, a in enumerate(att[kind]):
            e = a.edge_index.shape[1]
            assert a.alpha.shape == (e, heads) and a.edge_type.shape == (e,)
            assert a.alpha.min() >= 0 and a.alpha.max() <= 1
            sums = torch.zeros(num_nodes, heads, dtype=a.alpha.dtype).index_add_(0, a.edge_index[0], a.alpha)
            receivers = torch.unique(a.edge_index[0])
            torch.testing.assert_close(sums[receivers], torch.ones(len(receivers), heads, dtype=sums.dtype))
            torch.testing.assert_close(a.alpha, alphas_ref[kind][layer], atol=1e-10, rtol=1e-8)
    rel_att = att["relation"][0]
    assert rel_att.edge_index.tolist() == [edges[:, 0].tolist(), edges[:, 1].tolist()]
    assert rel_att.edge_type.tolist() == edges[:, 2].tolist()
    ent_att = att["entity"][0]
    loops = list(range(n))
    assert ent_att.edge_index.tolist() == [triplets[:, 2].tolist() + loops, triplets[:, 0].tolist() + loops]
    assert ent_att.edge_type.tolist() == triplets[:, 1].tolist() + [-1] * n
    # entity n-1 has no incoming triple: its self-loop takes all the weight
    assert torch.all(ent_att.alpha[-1] == 1)


def test_inference_kernels_equal_training_kernels(small_model):
    """Without autograd the entity layers run the inference path (weighted embedding_bag sums over
    one table); with it the plain per-edge kernels. Both must give the same outputs and attention."""
    model = small_model(5, torch.float64)
    n, r = 30, 4
    triplets, edges = random_graph(5, n, r, num_triples=80)
    x, z = features(5, n, r, torch.float64)
    with torch.no_grad():
        ent_fast, rel_fast, att_fast = model(x, z, triplets, edges, return_attention=True)
    ent, rel, att = model(x, z, triplets, edges, return_attention=True)  # parameters require grad
    assert ent.requires_grad and not ent_fast.requires_grad
    torch.testing.assert_close(ent_fast, ent.detach(), atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(rel_fast, rel.detach(), atol=1e-12, rtol=1e-10)
    for fast, slow in zip(att_fast["entity"], att["entity"]):
        torch.testing.assert_close(fast.alpha, slow.alpha, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("num_layer_ent, bias", [(0, True), (1, False), (3, True)])
def test_forward_other_shapes_equal_reference(num_layer_ent, bias):
    """Folding x¹ = W₁x⁰ + b₁ into the first entity layer's product must also hold without biases
    and with no entity layer at all (then x¹ itself is the output's input)."""
    torch.manual_seed(num_layer_ent)
    model = (
        InGram(
            dim_ent=8,
            hid_dim_ratio_ent=2,
            dim_rel=6,
            hid_dim_ratio_rel=2,
            num_bin=4,
            num_layer_ent=num_layer_ent,
            num_layer_rel=1,
            num_head=2,
            bias=bias,
        )
        .double()
        .eval()
    )
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    triplets, edges = random_graph(num_layer_ent)
    g = torch.Generator().manual_seed(0)
    x, z = (t.double() for t in initial_features(12, 3, 8, 6, g))
    with torch.no_grad():
        ent, rel = model(x, z, triplets, edges)
        ent_ref, rel_ref, _ = ref.forward(model, x, z, triplets, edges)
    torch.testing.assert_close(ent, ent_ref, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(rel, rel_ref, atol=1e-10, rtol=1e-10)


# -- permutation equivariance ----------------------------------------------------------------


def test_entity_relabelling_permutes_outputs(small_model):
    model = small_model(11, torch.float64)
    rng = np.random.default_rng(11)
    n, r = 14, 3
    t = random_triples(rng, n, r, 30)
    edges = torch.from_numpy(binned_edges(relation_graph(t, n, r), 4))
    x, z = features(11, n, r, torch.float64)
    perm = rng.permutation(n)  # entity e becomes perm[e]
    t2 = np.stack([perm[t[:, 0]], t[:, 1], perm[t[:, 2]]], axis=1)[rng.permutation(len(t))]  # rows shuffled too
    x2 = torch.empty_like(x)
    x2[torch.from_numpy(perm)] = x
    with torch.no_grad():
        ent, rel = model(x, z, torch.from_numpy(add_inverses(t, r)), edges)
        ent2, rel2 = model(x2, z, torch.from_numpy(add_inverses(t2, r)), edges)
        torch.testing.assert_close(ent2[torch.from_numpy(perm)], ent, atol=1e-10, rtol=1e-10)
        torch.testing.assert_close(rel2, rel, atol=1e-10, rtol=1e-10)
        q = torch.from_numpy(add_inverses(t, r))
        q2 = torch.stack([torch.from_numpy(perm)[q[:, 0]], q[:, 1], torch.from_numpy(perm)[q[:, 2]]], dim=1)
        torch.testing.assert_close(model.score(ent2, rel2, q2), model.score(ent, rel, q), atol=1e-10, rtol=1e-10)


def test_relation_relabelling_permutes_outputs(small_model):
    # Bins come from ranks of the edge weights; tied weights are ranked by position with the default
    # ties="stable" (the spec's arbitrary order), so renumbering relations could move a tied edge
    # into another bin and change the output. ties="min" gives every tied edge the same bin, which
    # makes the bins — and the model — independent of the numbering. The KG below has many ties.
    model = small_model(12, torch.float64)
    rng = np.random.default_rng(12)
    n, r = 14, 5
    t = random_triples(rng, n, r, 30)
    x, z = features(12, n, r, torch.float64)
    perm = rng.permutation(r)
    perm_aug = np.concatenate([perm, perm + r])  # the inverse of r stays r + R: σ(r) + R
    t2 = np.stack([t[:, 0], perm[t[:, 1]], t[:, 2]], axis=1)
    z2 = torch.empty_like(z)
    z2[torch.from_numpy(perm_aug)] = z

    def run(triples, feats):
        edges = binned_edges(relation_graph(triples, n, r), 4, ties="min")
        return model(x, feats, torch.from_numpy(add_inverses(triples, r)), torch.from_numpy(edges))

    with torch.no_grad():
        ent, rel = run(t, z)
        ent2, rel2 = run(t2, z2)
    torch.testing.assert_close(ent2, ent, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(rel2[torch.from_numpy(perm_aug)], rel, atol=1e-10, rtol=1e-10)
    q = torch.from_numpy(add_inverses(t, r))
    q2 = q.clone()
    q2[:, 1] = torch.from_numpy(perm_aug)[q[:, 1]]
    # …whereas with ties="stable" this renumbering does move tied edges into other bins:
    stable = {(i, j): b for i, j, b in binned_edges(relation_graph(t, n, r), 4).tolist()}
    stable2 = {(i, j): b for i, j, b in binned_edges(relation_graph(t2, n, r), 4).tolist()}
    assert any(stable2[(perm_aug[i], perm_aug[j])] != b for (i, j), b in stable.items())
    torch.testing.assert_close(model.score(ent2, rel2, q2), model.score(ent, rel, q), atol=1e-10, rtol=1e-10)


# -- random features and seeds ---------------------------------------------------------------


def test_features_same_seed_same_outputs(small_model):
    model = small_model(5, torch.float32)
    triplets, edges = random_graph(5)
    x1, z1 = features(42, 12, 3, torch.float32)
    x2, z2 = features(42, 12, 3, torch.float32)
    x3, z3 = features(43, 12, 3, torch.float32)
    assert x1.shape == (12, 8) and z1.shape == (6, 8)
    assert torch.equal(x1, x2) and torch.equal(z1, z2)
    assert not torch.equal(x1, x3) and not torch.equal(z1, z3)
    with torch.no_grad():
        out1, out2, out3 = (model(x, z, triplets, edges) for x, z in ((x1, z1), (x2, z2), (x3, z3)))
    assert torch.equal(out1[0], out2[0]) and torch.equal(out1[1], out2[1])
    assert not torch.allclose(out1[0], out3[0])


@pytest.mark.parametrize("rows, cols", [(3000, 32), (200, 500)])
def test_feature_std(rows, cols):
    x, z = initial_features(rows, rows // 2, cols, cols, torch.Generator().manual_seed(0))
    assert x.shape == (rows, cols) and z.shape == (2 * (rows // 2), cols)
    expected = math.sqrt(2) * math.sqrt(2 / (rows + cols))
    for t in (x, z):
        # the sample std of n normal draws has relative error ~ 1/√(2n) (< 0.3 % here); allow 2 %
        assert t.std().item() == pytest.approx(expected, rel=0.02)
        assert abs(t.mean().item()) < 5 * expected / math.sqrt(t.numel())


# -- scores ----------------------------------------------------------------------------------


def test_score_formula(small_model):
    model = small_model(9, torch.float64)
    g = torch.Generator().manual_seed(0)
    ent, rel = torch.randn(6, 8, generator=g, dtype=torch.float64), torch.randn(4, 8, generator=g, dtype=torch.float64)
    q = torch.tensor([[0, 1, 2], [5, 3, 5], [1, 0, 4]])
    w, b = model.rel_proj.weight, model.rel_proj.bias
    manual = torch.stack([(ent[h] * (w @ rel[r] + b) * ent[t]).sum() for h, r, t in q.tolist()])
    torch.testing.assert_close(model.score(ent, rel, q), manual)
    all_tails = model.score_all_tails(ent, rel, q[:, 0], q[:, 1])
    assert all_tails.shape == (3, 6)
    torch.testing.assert_close(all_tails[torch.arange(3), q[:, 2]], manual)
    all_heads = model.score_all_heads(ent, rel, q[:, 1], q[:, 2])
    torch.testing.assert_close(all_heads[torch.arange(3), q[:, 0]], manual)
