"""The CUDA path, tested rather than assumed (issue 27): InGram's forward pass, its scores and the ranking on
CUDA equal the CPU's within 1e-4. Skipped, with the reason, where no CUDA device is present."""

import copy
import os
from pathlib import Path

import pytest
import torch

from kgviz.graph.data import load_benchmark, read_kg
from kgviz.models.ingram.scorer import InGramScorer, forward_draws, forward_seconds
from kgviz.models.pretrained import default_checkpoint
from kgviz.ranking.ranks import rank_query

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA path cannot be checked here"),
]
TOL = 1e-4


@pytest.fixture(scope="module")
def model():
    from kgviz.models.ingram.checkpoint import load_checkpoint

    return load_checkpoint(default_checkpoint())[0].eval()


@pytest.fixture(scope="module")
def graphs():
    """Movies, and NL-100's inference graph (1,709 entities) when ``$KGVIZ_DATA`` has it."""
    out = {"movies": read_kg("sample_kgs/movies.tsv")}
    nl = Path(os.environ.get("KGVIZ_DATA") or "/nonexistent") / "NL-100"
    if (nl / "msg.txt").is_file():
        out["NL-100"] = load_benchmark(nl).inference
    return out


def test_forward_pass_on_cuda_equals_cpu(model, graphs):
    for name, kg in graphs.items():
        cpu = forward_draws(model, kg, (0, 1), "cpu")
        gpu = forward_draws(copy.deepcopy(model).to("cuda"), kg, (0, 1), "cuda")
        for (e_c, r_c), (e_g, r_g) in zip(cpu, gpu):
            assert torch.allclose(e_c, e_g.cpu(), atol=TOL, rtol=TOL), name
            assert torch.allclose(r_c, r_g.cpu(), atol=TOL, rtol=TOL), name
        on_cuda = copy.deepcopy(model).to("cuda")
        print(f"{name}: one forward pass {forward_seconds(on_cuda, kg, 'cuda') * 1000:.1f} ms on CUDA")


def test_scores_and_ranking_on_cuda_equal_cpu(model, graphs):
    for name, kg in graphs.items():
        anchor, relation = int(kg.triples[0, 0]), int(kg.triples[0, 1])
        cpu = InGramScorer(model, seeds=range(4), device="cpu")
        gpu = InGramScorer(model, seeds=range(4), device="cuda")
        a, r = torch.tensor([anchor]), torch.tensor([relation])
        s_cpu, s_gpu = cpu.draw_scores(kg, a, r, "tail"), gpu.draw_scores(kg, a, r, "tail")
        assert s_gpu.device.type == "cpu"  # the interface returns CPU tensors on every device
        assert torch.allclose(s_cpu, s_gpu, atol=TOL * max(1.0, float(s_cpu.abs().max())), rtol=TOL), name
        top_cpu = rank_query(cpu, anchor, relation, graph=kg).candidates[:10]
        top_gpu = rank_query(gpu, anchor, relation, graph=kg).candidates[:10]
        gaps = [a.score - b.score for a, b in zip(top_cpu[:-1], top_cpu[1:])]
        if min(gaps, default=1.0) > 1e-3:  # no near-tie the two devices could order apart
            assert [c.entity for c in top_cpu] == [c.entity for c in top_gpu], name
        for c, g in zip(top_cpu, top_gpu):
            assert abs(c.score - g.score) <= TOL * max(1.0, abs(c.score)), name
