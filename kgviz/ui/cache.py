"""Cached loaders, chained: KG → relation matrices; model → predictor → attention → rankings.

Models and predictors are ``st.cache_resource`` (shared, never copied, never mutated after
construction); tables are ``st.cache_data``. A KnowledgeGraph is not hashed: functions take
its content hash ``kg_key`` (:func:`kgviz.ui.state.kg_key`) and the graph itself as ``_kg``.
A model is identified by ``model_key`` plus the device it lives on.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd
import scipy.sparse as sp
import streamlit as st
import torch

from ..checkpoint import load_checkpoint
from ..data import KnowledgeGraph, read_kg
from ..inference import Predictor
from ..model import InGram, InGramConfig, LayerAttention
from ..relgraph import lecture_relation_graph, relation_graph
from ..runtime import retain_freed_memory
from .figures import merge_inverses, ranking_frame
from .state import UNTRAINED
from .whatif import AlignedPredictor


def configure_torch() -> int:
    """Cap torch's CPU threads: ``$KGVIZ_TORCH_THREADS``, else half the cores (at least one).

    The explorer's forward passes are small; on a busy machine more threads than free cores
    make them many times slower (threads wait on each other), one thread per free core does not.
    Returns the number of threads set.
    """
    n = int(os.environ.get("KGVIZ_TORCH_THREADS") or max(1, (os.cpu_count() or 2) // 2))
    retain_freed_memory()  # large graphs: reuse buffers instead of re-faulting fresh pages
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@st.cache_resource(show_spinner=False, max_entries=32)
def load_kg_file(path: str, mtime: float, label: str) -> KnowledgeGraph:
    """A preset KG file (``mtime`` invalidates the entry when the file changes)."""
    return read_kg(path, name=label)


def load_model(model_key: str, path: str | None, device: str,
               names: tuple[str, str] | None = None) -> tuple[InGram, InGramConfig, dict]:
    """A checkpoint folder, or the untrained model (default config, weights drawn with seed 0).

    ``names``: what messages call the torch file and the config (an upload's file names).
    Cached per folder content: replacing the weights on disk loads the new ones.
    """
    stamp = 0.0
    if path is not None:
        stamp = max((p.stat().st_mtime for p in Path(path).iterdir() if p.is_file()), default=0.0)
    return _load_model(model_key, path, device, stamp, names)  # names are not hashed (_names)


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _load_model(model_key: str, path: str | None, device: str, stamp: float,
                _names: tuple[str, str] | None) -> tuple[InGram, InGramConfig, dict]:
    if model_key == UNTRAINED or path is None:
        config = InGramConfig()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = InGram.from_config(config)
        return model.to(device).eval(), config, {}
    source, config_source = _names or (None, None)
    model, config, rest = load_checkpoint(path, device=device, source=source, config_source=config_source)
    return model, config, rest


def store_upload(ckpt: bytes, config: bytes) -> tuple[str, Path]:
    """Write an uploaded checkpoint + ``config.json`` to a private temporary folder (once per content)."""
    digest = hashlib.sha1(ckpt + b"\0" + config).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"kgviz-upload-{digest}"
    if not (folder / "model.ckpt").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_bytes(config)
        (folder / "model.ckpt").write_bytes(ckpt)
    return f"upload:{digest}", folder


@st.cache_resource(show_spinner=False, max_entries=32)
def relation_matrices(kg_key: str, _kg: KnowledgeGraph) -> dict[str, sp.csr_matrix]:
    """``exact`` (2R × 2R, the model's), ``merged`` (R × R, families summed), ``lecture`` (R × R)."""
    kg = _kg
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    return {"exact": a, "merged": merge_inverses(a, kg.num_relations),
            "lecture": lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations)}


@st.cache_resource(show_spinner="Running InGram on the KG…", max_entries=12)
def get_predictor(model_key: str, device: str, kg_key: str, seeds: tuple[int, ...],
                  _model: InGram, _kg: KnowledgeGraph, _stored: tuple | None = None) -> Predictor:
    """One forward pass per seed of the model over the KG (the expensive step).

    ``_stored``: the model's stored draw for this KG, used by seed −1 (``STORED_DRAW``); it is
    determined by ``model_key`` and ``kg_key``, so it needs no key of its own."""
    return Predictor(_model, _kg, seeds=seeds, device=device, stored=_stored)


@st.cache_resource(show_spinner="Running InGram on the edited KG…", max_entries=6)
def get_aligned_predictor(model_key: str, device: str, kg_key: str, base_key: str,
                          seeds: tuple[int, ...], _model: InGram, _kg: KnowledgeGraph,
                          _base: KnowledgeGraph) -> AlignedPredictor:
    """A predictor on an edited KG that reuses the base KG's random features (what-if)."""
    return AlignedPredictor(_model, _kg, _base, seeds=seeds, device=device)


@st.cache_resource(show_spinner=False, max_entries=12)
def get_attention(model_key: str, device: str, kg_key: str, seeds: tuple[int, ...], seed: int,
                  _predictor: Predictor) -> dict[str, list[LayerAttention]]:
    """Per-layer attention (on the CPU) of the forward pass with draw ``seed``."""
    att = _predictor.attention(seed)
    return {kind: [LayerAttention(a.edge_index.cpu(), a.alpha.cpu(), a.edge_type.cpu()) for a in layers]
            for kind, layers in att.items()}


@st.cache_data(show_spinner=False, max_entries=256)
def ranking(model_key: str, device: str, kg_key: str, seeds: tuple[int, ...], direction: str,
            anchor: str, relation: str, top_k: int, filter_known: bool,
            _predictor: Predictor) -> pd.DataFrame:
    """Ranked candidates of ``(anchor, relation, ?)`` (``direction="tail"``) or ``(?, relation, anchor)``."""
    if direction == "tail":
        cands = _predictor.rank_tails(anchor, relation, top_k, filter_known=filter_known)
    else:
        cands = _predictor.rank_heads(relation, anchor, top_k, filter_known=filter_known)
    return ranking_frame(cands)
