"""Shared fixtures: the benchmark data folder and small random InGram models."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from kg_factory import write_benchmark

from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.network import InGram, InGramConfig

# Tests use tiny tensors: one thread avoids thread start-up costs and contention on a shared CPU.
torch.set_num_threads(1)

# A small model (D̂ = 16, D = 16, 2 heads) that the per-edge reference runs in well under a second.
SMALL_CONFIG = InGramConfig(
    dimension_entity=8,
    dimension_relation=8,
    hidden_dimension_ratio_entity=2,
    hidden_dimension_ratio_relation=2,
    num_bin=4,
    num_head=2,
    num_layer_ent=2,
    num_layer_rel=2,
)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """``$KGVIZ_DATA``, the folder of the InGram benchmark sets; skips when unavailable."""
    root = os.environ.get("KGVIZ_DATA")
    if not root:
        pytest.skip("KGVIZ_DATA is not set (the folder of the InGram benchmark data sets)")
    if not Path(root).is_dir():
        pytest.skip(f"KGVIZ_DATA={root} is not a folder")
    return Path(root)


@pytest.fixture
def benchmark_dir(data_root):
    """``benchmark_dir("NL-100")``: that data set's folder, or a skip if it is missing."""

    def get(name: str) -> Path:
        d = data_root / name
        if not (d / "msg.txt").is_file():
            pytest.skip(f"{d} is missing (not in KGVIZ_DATA)")
        return d

    return get


def random_triples(rng: np.random.Generator, num_entities: int, num_relations: int, num_triples: int) -> np.ndarray:
    """``(M, 3)`` random triples; duplicates and self-loops occur on purpose."""
    return np.stack(
        [
            rng.integers(0, num_entities, num_triples),
            rng.integers(0, num_relations, num_triples),
            rng.integers(0, num_entities, num_triples),
        ],
        axis=1,
    ).astype(np.int64)


def randomize(model: torch.nn.Module, seed: int, scale: float = 0.3) -> torch.nn.Module:
    """Every parameter (biases and bin weights too) drawn from ``N(0, scale²)``, so no term is zero."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * scale)
    return model


@pytest.fixture
def small_model():
    """``small_model(seed, dtype)``: an :class:`InGram` of ``SMALL_CONFIG`` with random parameters."""

    def make(seed: int = 0, dtype: torch.dtype = torch.float64) -> InGram:
        return randomize(InGram.from_config(SMALL_CONFIG), seed).to(dtype).eval()

    return make


@pytest.fixture(scope="session", autouse=True)
def private_workspace(tmp_path_factory):
    """Every test (and every server a test starts) keeps KGs and models in a temporary workspace
    (``$KGVIZ_WORKSPACE``), never in the user's cache."""
    before = os.environ.get("KGVIZ_WORKSPACE")
    os.environ["KGVIZ_WORKSPACE"] = str(tmp_path_factory.mktemp("workspace"))
    yield Path(os.environ["KGVIZ_WORKSPACE"])
    if before is None:
        os.environ.pop("KGVIZ_WORKSPACE", None)
    else:
        os.environ["KGVIZ_WORKSPACE"] = before


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """A small typed benchmark folder (``kg_factory.write_benchmark``), loaded."""
    return load_benchmark(write_benchmark(tmp_path_factory.mktemp("tiny") / "TINY"))
