"""ULTRA: the shipped checkpoints load strictly and reproduce the authors' scores (fixtures) within 1e-4."""

import os
from pathlib import Path

import pytest
import torch
from ultra_shared import MOVIES, ROOT, fixture, shared_dir

from kgviz.models.ingram.checkpoint import CheckpointError
from kgviz.graph.data import load_benchmark, read_kg
from kgviz.models.base import Needs, Scorer
from kgviz.models.ultra.network import WEIGHTS_FILE, Ultra, UltraScorer, load_ultra
from kgviz.models.ultra.messages import message_plan

CHECKPOINTS = ("3g", "4g", "50g")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def scorers() -> dict[str, UltraScorer]:
    return {ck: load_ultra(ROOT / "pretrained" / f"ultra-{ck}", device="cpu") for ck in CHECKPOINTS}


def test_shipped_checkpoints_load_strictly(scorers):
    for ck, scorer in scorers.items():
        state = torch.load(ROOT / "pretrained" / f"ultra-{ck}" / WEIGHTS_FILE, weights_only=True)
        assert set(state) == set(Ultra().state_dict())
        assert sum(t.numel() for t in state.values()) == 168_705
        assert scorer.name == f"ULTRA {ck}"
        assert isinstance(scorer, Scorer) and scorer.needs is Needs.WEIGHTS
        assert scorer.capabilities.relation_graph and scorer.capabilities.paths
    assert (ROOT / "pretrained" / "ultra-3g" / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("ck", CHECKPOINTS)
def test_shipped_weights_equal_the_released_ones(ck):
    released = shared_dir() / "ultra" / f"ultra_{ck}.pth"
    if not released.is_file():
        pytest.skip(f"{released} is missing")
    original = torch.load(released, map_location="cpu", weights_only=True)["model"]
    shipped = torch.load(ROOT / "pretrained" / f"ultra-{ck}" / WEIGHTS_FILE, weights_only=True)
    assert list(shipped) == list(original)
    assert all(torch.equal(shipped[k], original[k]) for k in original)
    # The released file (with its optimizer state) loads through the same loader.
    assert load_ultra(released, device="cpu").name == f"ULTRA {ck}"


def test_load_errors_are_checkpoint_errors(tmp_path: Path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_ultra(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match=f"has no {WEIGHTS_FILE}"):
        load_ultra(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_ultra(tmp_path / "junk.pt")
    state = Ultra().state_dict()
    del state["entity_model.mlp.2.bias"]
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="not an ULTRA checkpoint"):
        load_ultra(tmp_path / "partial.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a state dict"):
        load_ultra(tmp_path / "list.pt")


def fixture_queries(fx: dict, kg, direction: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anchors and relations (mapped by name onto ``kg``'s ids) and expected scores (in ``kg``'s entity order)."""
    anchor_key = "head" if direction == "tail" else "tail"
    queries = [q for q in fx["queries"] if q["direction"] == direction]
    anchors = torch.tensor([kg.entity_index[q[anchor_key]] for q in queries])
    relations = torch.tensor([kg.relation_index[q["relation"]] for q in queries])
    ours = torch.tensor([kg.entity_index[name] for name in fx["entities"]])  # fixture order → our ids
    expected = torch.empty(len(queries), kg.num_entities)
    expected[:, ours] = torch.tensor([q["scores"] for q in queries])
    return anchors, relations, expected


@pytest.mark.parametrize("ck", ["3g", "50g"])
def test_movies_fixture(scorers, ck):
    fx = fixture(f"movies_ultra_{ck}.json")
    kg = read_kg(MOVIES)
    assert len(fx["queries"]) == 120
    for direction in ("tail", "head"):
        anchors, relations, expected = fixture_queries(fx, kg, direction)
        got = scorers[ck].scores(kg, anchors, relations, direction)
        assert got.dtype == torch.float32 and got.shape == expected.shape
        assert (got - expected).abs().max().item() < TOLERANCE
        # One query at a time gives the same scores as the batch.
        single = scorers[ck].scores(kg, anchors[:1], relations[:1], direction)
        assert torch.allclose(single[0], got[0], atol=1e-5)
    if ck == "3g":
        gosling = scorers[ck].scores(
            kg, torch.tensor([kg.entity_index["Ryan Gosling"]]), torch.tensor([kg.relation_index["profession"]]), "tail"
        )[0]
        assert kg.entities[int(gosling.argmax())] == "actor"


def test_movies_relation_representations(scorers):
    fx = fixture("movies_ultra_3g.json")
    kg = read_kg(MOVIES)
    rr = fx["relation_representations_for_query"]
    relation = kg.relation_index[rr["query_relation"]]
    model = scorers["3g"].model
    relrep = model.relation_model(scorers["3g"].ultra_graph(kg), torch.tensor([relation]))[0]
    assert relrep.shape == tuple(rr["shape"]) == (10, 64)
    assert (relrep - torch.tensor(rr["values"])).abs().max().item() < TOLERANCE


@pytest.fixture(scope="module")
def fb100():
    """The FB-100 inference graph (msg.txt), read once."""
    data = os.environ.get("KGVIZ_DATA")
    if not data or not (Path(data) / "FB-100" / "msg.txt").is_file():
        pytest.skip("KGVIZ_DATA/FB-100 is missing")
    return load_benchmark(Path(data) / "FB-100").inference


@pytest.mark.parametrize("ck", ["3g", "50g"])
def test_fb100_fixture(scorers, fb100, ck):
    fx = fixture(f"fb100_ultra_{ck}.json")
    kg = fb100
    assert kg.num_entities == fx["num_entities"] and list(kg.relations) == fx["relations"]
    for direction in ("tail", "head"):
        anchors, relations, expected = fixture_queries(fx, kg, direction)
        got = scorers[ck].scores(kg, anchors, relations, direction)
        assert (got - expected).abs().max().item() < TOLERANCE


def test_scorer_checks_its_queries(scorers):
    kg = read_kg(MOVIES)
    scorer = scorers["3g"]
    with pytest.raises(ValueError, match="direction"):
        scorer.scores(kg, torch.tensor([0]), torch.tensor([0]), "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="anchor id out of range"):
        scorer.scores(kg, torch.tensor([kg.num_entities]), torch.tensor([0]), "tail")
    with pytest.raises(ValueError, match="relation id out of range"):
        scorer.scores(kg, torch.tensor([0]), torch.tensor([kg.num_relations]), "head")
    assert scorer.scores(
        kg, torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64), "tail"
    ).shape == (
        0,
        kg.num_entities,
    )


def test_graph_tensors_are_cached_by_fingerprint(scorers):
    scorer = scorers["3g"]
    kg, again = read_kg(MOVIES), read_kg(MOVIES)
    assert scorer.ultra_graph(kg) is scorer.ultra_graph(again)


def test_chunking_does_not_change_scores(scorers, monkeypatch):
    """Tiny memory budgets (one query per batch, six edges per message chunk) give the same scores."""
    import kgviz.models.ultra.network as ultra_module

    kg = read_kg(MOVIES)
    anchors = torch.arange(kg.num_entities)
    relations = torch.full((kg.num_entities,), kg.relation_index["acted in"])
    expected = scorers["3g"].scores(kg, anchors, relations, "head")
    monkeypatch.setitem(ultra_module.STATE_ELEMENTS, "cpu", 6 * 64)
    assert ultra_module.entity_batch_size(kg.num_entities, torch.device("cpu")) == 1
    assert len(message_plan(scorers["3g"].ultra_graph(kg), 6).chunks) == 5  # 28 edges, 6 per chunk
    chunked = scorers["3g"].scores(kg, anchors, relations, "head")
    assert torch.allclose(chunked, expected, atol=1e-5)


def test_users_scale_graph_in_bounded_chunks(scorers, monkeypatch):
    """A 10,000-entity, 40,000-triple KG: one query per batch and 4,096-edge message chunks by
    default give the scores of one unchunked batch."""
    import kgviz.models.ultra.network as ultra_module
    from kg_factory import random_triples

    from kgviz.graph.data import KnowledgeGraph

    triples = random_triples(10_000, 50, 40_000, seed=5)
    kg = KnowledgeGraph(tuple(f"e{i}" for i in range(10_000)), tuple(f"r{i}" for i in range(50)), triples)
    anchors, relations = torch.tensor([0, 7, 9_999]), torch.tensor([3, 3, 49])
    cpu = torch.device("cpu")
    assert ultra_module.entity_batch_size(kg.num_entities, cpu) == 1
    assert len(message_plan(scorers["3g"].ultra_graph(kg), 4096).chunks) > 15
    chunked = scorers["3g"].scores(kg, anchors, relations, "tail")
    monkeypatch.setitem(ultra_module.STATE_ELEMENTS, "cpu", 1 << 30)
    whole = scorers["3g"].scores(kg, anchors, relations, "tail")
    assert chunked.shape == (3, 10_000) and torch.isfinite(chunked).all()
    assert torch.allclose(chunked, whole, atol=1e-4)
