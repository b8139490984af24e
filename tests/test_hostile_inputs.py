"""The hostile-input corpus through the library: each file loads, or is refused with a message naming
the file (and line), within a time limit, never running code; what loads gives finite scores."""

import time

import numpy as np
import pytest
import torch
from hostile_corpus import (
    HTML_NAMES,
    KG_CASES,
    MODEL_CASES,
    PAYLOAD_MARKER,
    RTL_NAMES,
    SMALL,
    KGCase,
    ModelCase,
)

from kgviz.models.ingram.checkpoint import CheckpointError, load_checkpoint
from kgviz.graph.data import KGFormatError, from_triples, read_kg
from kgviz.models.ingram.predictor import Predictor
from kgviz.models.ingram.network import InGram, InGramConfig
from kgviz.graph.relgraph import relation_graph

TIME_LIMIT_S = 60.0  # a guard against hangs, not a speed target (the slowest case takes a few seconds)


def test_corpus_is_large_and_varied():
    assert len(KG_CASES) + len(MODEL_CASES) >= 25
    assert len({c.name for c in KG_CASES}) == len(KG_CASES)
    assert len({c.name for c in MODEL_CASES}) == len(MODEL_CASES)
    assert sum(c.words is None for c in KG_CASES) >= 10 and sum(c.words is not None for c in KG_CASES) >= 10


def assert_finite_predictions(model: InGram, kg) -> None:
    """Relation graph and one prediction per relation: every score finite."""
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    assert a.shape == (2 * kg.num_relations, 2 * kg.num_relations) and np.isfinite(a.data).all()
    predictor = Predictor(model, kg, seeds=[0], device="cpu")
    for h, r, _ in kg.triples[:5].tolist():
        scores = predictor.scores(h, r, "tail")
        assert scores.shape == (1, kg.num_entities) and torch.isfinite(scores).all()
        ranked = predictor.rank_tails(h, r, top_k=3)
        assert ranked and all(np.isfinite(c.score) for c in ranked)


@pytest.fixture(scope="module")
def small_untrained() -> InGram:
    torch.manual_seed(0)
    return InGram.from_config(InGramConfig.from_dict(SMALL)).eval()


@pytest.mark.parametrize("case", KG_CASES, ids=lambda c: c.name)
def test_kg_file(case: KGCase, tmp_path, small_untrained):
    path = case.write(tmp_path)
    start = time.perf_counter()
    if case.words is not None:
        with pytest.raises(KGFormatError) as info:
            read_kg(path)
        assert time.perf_counter() - start < TIME_LIMIT_S
        msg = str(info.value)
        assert type(info.value) is KGFormatError and msg.startswith(f"{path}")
        assert case.words in msg, msg
        if case.line is not None:
            assert info.value.line == case.line and f"line {case.line}:" in msg, msg
        # the same bytes uploaded under the user's file name
        with pytest.raises(KGFormatError, match=f"^{case.name}"):
            read_kg(path.read_bytes(), name=case.name)
        return
    kg = read_kg(path)
    assert time.perf_counter() - start < TIME_LIMIT_S
    assert kg.num_triples == case.triples
    assert_finite_predictions(small_untrained, kg)


def test_names_kept_verbatim(tmp_path):
    """HTML/JS and bidi marks are data, kept exactly (the UI escapes them where they go into HTML)."""
    by_name = {c.name: c for c in KG_CASES}
    html = read_kg(by_name["html-js.tsv"].write(tmp_path))
    assert set(HTML_NAMES) <= set(html.entities) and "<b>rel</b>" in html.relations
    rtl = read_kg(by_name["unicode-rtl.tsv"].write(tmp_path))
    assert set(RTL_NAMES) == set(rtl.entities) and rtl.relations == ("\u200frel\u200e",)
    seps = read_kg(by_name["line-separators.tsv"].write(tmp_path))
    assert seps.string_triples() == [("a\u2028b", "r\u0085s", "c\u2029d\x0ce")]


def test_three_million_lines_refused_fast_with_the_line(tmp_path):
    path = next(c for c in KG_CASES if c.name == "three-million-lines.tsv").write(tmp_path)
    for cap in (300_000, 2_000_000):
        start = time.perf_counter()
        with pytest.raises(KGFormatError, match=f"line {cap + 1}: more than {cap:,} triples"):
            read_kg(path, max_triples=cap)
        assert time.perf_counter() - start < TIME_LIMIT_S


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: c.name)
def test_checkpoint(case: ModelCase, tmp_path):
    ckpt, config = case.write(tmp_path)
    start = time.perf_counter()
    if case.words is None:
        model, _, _ = load_checkpoint(ckpt, config_path=config)
        kg = from_triples([("a", "r", "b"), ("b", "s", "c"), ("c", "r", "a")])
        assert_finite_predictions(model, kg)
        return
    for names in ({}, {"source": ckpt.name, "config_source": config.name}):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(ckpt, config_path=config, **names)
        msg = str(info.value)
        blamed = ckpt if case.blame == "checkpoint" else config
        assert type(info.value) is CheckpointError and case.words in msg, msg
        assert msg.startswith(f"{names.get('source' if case.blame == 'checkpoint' else 'config_source', blamed)}: ")
        assert "weights_only" not in msg and "Traceback" not in msg
    assert time.perf_counter() - start < TIME_LIMIT_S
    assert not (tmp_path / PAYLOAD_MARKER).exists(), "a pickled payload ran"


def test_payload_would_run_if_unpickled(tmp_path):
    """The pickled-code case really carries code: loading it unsafely creates the marker."""
    ckpt, _ = next(c for c in MODEL_CASES if c.name == "pickled-code.ckpt").write(tmp_path)
    torch.load(ckpt, weights_only=False)
    assert (tmp_path / PAYLOAD_MARKER).exists()
