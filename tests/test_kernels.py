"""kgviz.models.ingram.kernels: the inference path's bag layout, and kernels chosen per model instance."""

import torch
from conftest import SMALL_CONFIG
from test_model import features, random_graph

from kgviz.models.ingram.kernels import EAGER_KERNELS, EdgeKernels, TailGroups, edge_aggregate, edge_logits
from kgviz.models.ingram.network import InGram


def test_inference_bag_layout():
    """The bags of the inference path, rebuilt with Python loops on a small graph."""
    triplets = torch.tensor([[0, 0, 2], [1, 1, 0], [3, 0, 2], [2, 1, 2], [0, 1, 3]])
    n, k, heads = 5, 4, 2
    g = TailGroups.of(triplets, num_ent=n)
    assert g.v.tolist() == [0, 2, 2, 2, 3] and g.u.tolist() == [1, 0, 3, 2, 0] and g.r.tolist() == [1, 0, 0, 1, 1]
    assert g.in_deg.tolist() == [1, 0, 3, 1, 0] and g.offsets.tolist() == [0, 1, 1, 4, 5]
    bags = g.bags(k, heads)

    def split(rows, offsets):
        ends = offsets[1:].tolist() + [len(rows)]
        return [rows[a:b].tolist() for a, b in zip(offsets.tolist(), ends)]

    rel = lambda r: n * k + 2 * r  # noqa: E731  row of att_r[r]; agg_r[r] is the next one
    triples_into = {v: [(int(u), int(r)) for u, r, t in zip(g.u, g.r, g.v) if t == v] for v in range(n)}
    assert split(bags["edge_rows"], torch.arange(0, 15, 3)) == [
        [int(v) * k, int(u) * k + 1, rel(int(r))] for u, r, v in zip(g.u, g.r, g.v)
    ]
    assert split(bags["self_rows"], bags["self_offsets"]) == [
        [v * k, v * k + 1] + [rel(r) for _, r in triples_into[v]] for v in range(n)
    ]
    weights = split(bags["self_weights"], bags["self_offsets"])
    degrees = [len(triples_into[v]) for v in range(n)]
    assert weights == [[1.0, 1.0] + ([1 / d] * d if d else []) for d in degrees]
    expected = []
    for v in range(n):
        for h in range(heads):
            bag = [(v * k + 2) * heads + h]
            for u, r in triples_into[v]:
                bag += [(u * k + 2) * heads + h, (rel(r) + 1) * heads + h]
            expected.append(bag)
    assert split(bags["msg_rows"], bags["msg_offsets"]) == expected
    assert sorted(bags["msg_slot"].tolist()) == list(range(len(bags["msg_rows"])))
    assert g.bags(k, heads) is bags  # cached for the next layer


def test_kernels_are_chosen_per_model_instance(small_model):
    """A model's own kernels run its training path only; another model keeps the eager ones."""
    calls = []

    def counted(name, fn):
        def run(*args):
            calls.append(name)
            return fn(*args)

        return run

    model, other = small_model(1, torch.float64), small_model(1, torch.float64)
    model.kernels = EdgeKernels(counted("logits", edge_logits), counted("aggregate", edge_aggregate))
    triplets, edges = random_graph(1)
    x, z = features(1, 12, 3, torch.float64)
    with torch.no_grad():
        model(x, z, triplets, edges)  # inference path: embedding_bag sums, no per-edge kernel
    assert calls == []
    ent, rel = model(x, z, triplets, edges)
    assert calls == ["logits", "aggregate"] * SMALL_CONFIG.num_layer_ent
    ent2, rel2 = other(x, z, triplets, edges)
    assert other.kernels is EAGER_KERNELS and len(calls) == 2 * SMALL_CONFIG.num_layer_ent
    torch.testing.assert_close(ent, ent2, atol=0, rtol=0)
    assert InGram.from_config(SMALL_CONFIG).kernels is EAGER_KERNELS
