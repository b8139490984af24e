"""Cached loaders, chained: KG → relation matrices; model → predictor → attention → rankings.

Models and predictors are ``st.cache_resource`` (shared, never copied, never mutated after
construction); tables are ``st.cache_data``. Every cache hashes a KG by
:attr:`KnowledgeGraph.fingerprint` and a model by :attr:`LoadedModel.fingerprint` (its weights and
device) through :data:`HASH_FUNCS`, so equal content shares an entry and changed content never does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable

import streamlit as st

from kgviz.catalog import ULTRA_PREFIX, UNTRAINED
from kgviz.graph.data import KnowledgeGraph, read_kg
from kgviz.runtime import retain_freed_memory
from kgviz.defaults import DEFAULTS, SELF_CHECK_SEED

if TYPE_CHECKING:  # imported where used: the first screen needs none of them, torch included (bench/profile_app.py)
    import scipy.sparse as sp
    from torch import Tensor

    from kgviz.models.baselines.split import WhyInGramSplit
    from kgviz.models.ingram.predictor import Predictor
    from kgviz.models.ingram.network import InGram, InGramConfig, LayerAttention
    from kgviz.evaluation.selfcheck import SelfCheck
    from kgviz.ranking.ranks import QueryRanking
    from kgviz.graph.whatif import AlignedPredictor


class NotInGramError(ValueError):
    """A view asked for InGram's network of a model that is not InGram (ULTRA)."""


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready to run: weights on ``device``, its config, the checkpoint's other entries.

    InGram: ``network`` is the InGram network. Any other model (ULTRA): ``network`` is ``None`` and
    ``scorer`` is its :class:`kgviz.models.base.Scorer`; views rank it through :func:`query_ranking`."""

    network: InGram | None
    config: InGramConfig
    extra: dict = field(repr=False)
    key: str  # catalog.ModelChoice.key: "untrained", "pretrained:NL-100", "upload:<digest>", "ultra:ultra-3g"
    device: str
    fingerprint: str  # weights_fingerprint of the model, then "@device"
    scorer: Any = field(default=None, repr=False)  # the Scorer of a model that is not InGram

    @property
    def untrained(self) -> bool:
        return self.key == UNTRAINED

    @property
    def is_ingram(self) -> bool:
        return self.network is not None

    @property
    def model(self) -> InGram:
        """The InGram network; :class:`NotInGramError` for a model that is not InGram."""
        if self.network is None:
            raise NotInGramError(f"{self.key} is not an InGram model: this view needs InGram's network")
        return self.network


HASH_FUNCS: dict[str | type[Any], Callable[[Any], Any]] = {
    KnowledgeGraph: lambda kg: kg.fingerprint,
    LoadedModel: lambda m: m.fingerprint,
}


def configure_torch() -> int:
    """Cap torch's CPU threads: ``$KGVIZ_TORCH_THREADS``, else half the cores (at least one).

    The explorer's forward passes are small; on a busy machine more threads than free cores
    make them many times slower (threads wait on each other), one thread per free core does not.
    Returns the number of threads set.
    """
    import torch

    n = int(os.environ.get("KGVIZ_TORCH_THREADS") or max(1, (os.cpu_count() or 2) // 2))
    retain_freed_memory()  # large graphs: reuse buffers instead of re-faulting fresh pages
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg", "/dev/kfd")  # NVIDIA, WSL2, ROCm drivers


def available_devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when ``torch.cuda.is_available()``.

    torch is asked only where it is imported already or a GPU driver's device file exists
    (:data:`GPU_DEVICE_FILES`): without a driver CUDA cannot be available, and the first screen
    then needs no torch (its import takes 2–5 s on a busy 2-core machine).
    """
    import sys

    if "torch" not in sys.modules and not any(os.path.exists(f) for f in GPU_DEVICE_FILES):
        return ["cpu"]
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


WARM_UP_MODULES = (  # what the views past the first screen import, slowest first
    "torch",
    "kgviz.models.ingram.predictor",
    "kgviz.models.ingram.checkpoint",
    "plotly.graph_objects",
    "pyvis.network",
    "scipy.cluster.hierarchy",
)


@st.cache_resource(show_spinner=False)
def warm_up_imports() -> threading.Thread:
    """Import :data:`WARM_UP_MODULES` in a background thread, once per server process.

    Called after the first screen is drawn, so that it does not wait for them (torch alone takes
    2–5 s on a busy 2-core machine) while the first view that needs them, a few seconds later,
    mostly does not either. Only libraries and kgviz's model core: none of them imports a page.
    """
    import importlib

    def run() -> None:
        for name in WARM_UP_MODULES:
            importlib.import_module(name)

    thread = threading.Thread(target=run, name="kgviz-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False, max_entries=32)
def load_kg_file(path: str, mtime: float, label: str) -> KnowledgeGraph:
    """A preset KG file (``mtime`` invalidates the entry when the file changes)."""
    return read_kg(path, name=label)


def load_model(model_key: str, path: str | None, device: str, names: tuple[str, str] | None = None) -> LoadedModel:
    """A checkpoint folder, or the untrained model (default config, weights drawn with seed 0).

    ``names``: what messages call the torch file and the config (an upload's file names).
    Cached per folder content: replacing the weights on disk loads the new ones.
    """
    stamp = 0.0
    if path is not None:
        stamp = max((p.stat().st_mtime for p in Path(path).iterdir() if p.is_file()), default=0.0)
    return _load_model(model_key, path, device, stamp, names)  # names are not hashed (_names)


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def _load_model(
    model_key: str, path: str | None, device: str, stamp: float, _names: tuple[str, str] | None
) -> LoadedModel:

    from kgviz.models.ingram.checkpoint import load_checkpoint
    from kgviz.models.ingram.predictor import weights_fingerprint
    from kgviz.models.ingram.network import InGramConfig, untrained_ingram

    if model_key.startswith(ULTRA_PREFIX) and path is not None:
        from kgviz.models.ultra.network import load_ultra

        scorer = load_ultra(path, device=device)
        digest = weights_fingerprint(scorer.model)
        return LoadedModel(None, InGramConfig(), {}, model_key, device, f"{digest}@{device}", scorer)
    if model_key == UNTRAINED or path is None:
        config = InGramConfig()
        extra: dict[str, Any] = {}
        model = untrained_ingram(config, weight_seed=0).to(device)
    else:
        source, config_source = _names or (None, None)
        model, config, extra = load_checkpoint(path, device=device, source=source, config_source=config_source)
    return LoadedModel(model, config, extra, model_key, device, f"{weights_fingerprint(model)}@{device}")


def store_upload(ckpt: bytes, config: bytes) -> tuple[str, Path]:
    """Write an uploaded checkpoint + ``config.json`` to a private temporary folder (once per content)."""
    digest = hashlib.sha1(ckpt + b"\0" + config).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"kgviz-upload-{digest}"
    if not (folder / "model.ckpt").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_bytes(config)
        (folder / "model.ckpt").write_bytes(ckpt)
    return f"upload:{digest}", folder


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs=HASH_FUNCS)
def relation_matrices(kg: KnowledgeGraph) -> dict[str, sp.csr_matrix]:
    """``exact`` (2R × 2R, the model's), ``merged`` (R × R, families summed), ``lecture`` (R × R)."""
    from kgviz.graph.relgraph import lecture_relation_graph, merge_inverses, relation_graph

    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    return {
        "exact": a,
        "merged": merge_inverses(a, kg.num_relations),
        "lecture": lecture_relation_graph(kg.triples, kg.num_entities, kg.num_relations),
    }


@st.cache_resource(show_spinner="Running InGram on the KG…", max_entries=12, hash_funcs=HASH_FUNCS)
def get_predictor(
    model: LoadedModel, kg: KnowledgeGraph, seeds: tuple[int, ...], _stored: tuple[Tensor, Tensor] | None = None
) -> Predictor:
    """One forward pass per seed of the model over the KG (the expensive step).

    ``_stored``: the model's stored draw for this KG, used by seed −1 (``STORED_DRAW``); it is
    determined by the model and the KG, so it needs no key of its own."""
    from kgviz.models.ingram.predictor import Predictor

    return Predictor(model.model, kg, seeds=seeds, device=model.device, stored=_stored)


@st.cache_resource(show_spinner="Running InGram on the edited KG…", max_entries=6, hash_funcs=HASH_FUNCS)
def get_aligned_predictor(
    model: LoadedModel, kg: KnowledgeGraph, base: KnowledgeGraph, seeds: tuple[int, ...]
) -> AlignedPredictor:
    """A predictor on an edited KG that reuses the base KG's random features (what-if)."""
    from kgviz.graph.whatif import AlignedPredictor

    return AlignedPredictor(model.model, kg, base, seeds=seeds, device=model.device)


def cpu_attention(predictor: Predictor, seed: int) -> dict[str, list[LayerAttention]]:
    """Per-layer attention of the forward pass with draw ``seed``, moved to the CPU."""
    from kgviz.models.ingram.network import LayerAttention

    att = predictor.attention(seed)
    return {
        kind: [LayerAttention(a.edge_index.cpu(), a.alpha.cpu(), a.edge_type.cpu()) for a in layers]
        for kind, layers in att.items()
    }


@st.cache_resource(show_spinner=False, max_entries=12, hash_funcs=HASH_FUNCS)
def get_attention(model: LoadedModel, kg: KnowledgeGraph, seed: int) -> dict[str, list[LayerAttention]]:
    """Per-layer attention (on the CPU) of the forward pass with draw ``seed``."""
    return cpu_attention(get_predictor(model, kg, (seed,)), seed)


@st.cache_resource(show_spinner=False, max_entries=6, hash_funcs=HASH_FUNCS)
def get_aligned_attention(
    model: LoadedModel, kg: KnowledgeGraph, base: KnowledgeGraph, seed: int
) -> dict[str, list[LayerAttention]]:
    """Attention of draw ``seed`` on an edited KG with the base KG's features (what-if)."""
    return cpu_attention(get_aligned_predictor(model, kg, base, (seed,)), seed)


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs=HASH_FUNCS)
def why_split(kg: KnowledgeGraph, seed: int) -> WhyInGramSplit:
    """The seeded "Why InGram?" split of ``kg`` (``ValueError`` when ``kg`` is too small for it)."""
    from kgviz.models.baselines.split import why_ingram_split

    return why_ingram_split(kg, seed)


class ResultStore:
    """Finished computations shared by all sessions, by key; the least recently used go beyond ``size``.

    For what a page computes on a button while it draws a progress bar: ``st.cache_*`` would record
    the bar's updates with the result and replay them on every hit. Keys carry
    :attr:`KnowledgeGraph.fingerprint` and :attr:`LoadedModel.fingerprint`, never the objects.
    """

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def result_store(name: str, size: int) -> ResultStore:
    """The shared :class:`ResultStore` called ``name`` (one per kind of result)."""
    return ResultStore(size)


def default_ensemble(model: LoadedModel, kg: KnowledgeGraph) -> int:
    """Draws of the default ensemble: fixed (:data:`kgviz.defaults.DRAWS`), the same on every machine."""
    return DEFAULTS.draws


def default_seeds(model: LoadedModel, kg: KnowledgeGraph, first: int | None = None) -> tuple[int, ...]:
    """The draws of the default ensemble: ``first … first + K − 1`` (:meth:`kgviz.defaults.RankDefaults.seeds`)."""
    return DEFAULTS.seeds(first)


@st.cache_resource(show_spinner=False, max_entries=256, hash_funcs=HASH_FUNCS)
def query_ranking(
    model: LoadedModel,
    kg: KnowledgeGraph,
    seeds: tuple[int, ...],
    direction: str,
    anchor: str,
    relation: str,
    *,
    exclude_self: bool = True,
    known_side: bool = True,
    filter_known: bool = False,
    top_k: int = 10,
    temperature: float = 1.0,
    _stored: tuple[Tensor, Tensor] | None = None,
) -> QueryRanking:
    """Every candidate of the query under the constraints (:func:`kgviz.ranking.ranks.rank_query`, probabilities
    at ``temperature``); never mutated. A model that is not InGram (ULTRA) ranks through its scorer; ``seeds``
    are then not used."""
    from kgviz.ranking.ranks import rank_query

    predictor = get_predictor(model, kg, seeds, _stored) if model.is_ingram else None
    return rank_query(
        model.scorer if predictor is None else predictor,
        anchor,
        relation,
        direction,
        graph=kg if predictor is None else None,  # a Predictor brings its KG
        exclude_self=exclude_self,
        known_side=known_side,
        filter_known=filter_known,
        top_k=top_k,
        temperature=temperature,
    )


# the self-check's draws: 100 … (the reporting draws, never used to choose weights)
SELF_CHECK_FIRST_SEED = SELF_CHECK_SEED
SELF_CHECK_ENTRIES = 16


@st.cache_resource(show_spinner=False)
def _self_checks() -> dict[tuple[str, str, tuple[int, ...]], SelfCheck]:
    """Self-checks run in this process, by (KG fingerprint, model fingerprint, draws); oldest first."""
    return {}


def self_check_seeds(model: LoadedModel, kg: KnowledgeGraph) -> tuple[int, ...]:
    """The self-check's draws: as many as the default ensemble, from :data:`SELF_CHECK_FIRST_SEED`."""
    return default_seeds(model, kg, SELF_CHECK_FIRST_SEED)


def stored_self_check(model: LoadedModel, kg: KnowledgeGraph, seeds: tuple[int, ...] | None = None) -> SelfCheck | None:
    """The self-check of ``model`` on ``kg`` (draws ``seeds``, default :func:`self_check_seeds`) if it has run."""
    return _self_checks().get((kg.fingerprint, model.fingerprint, seeds or self_check_seeds(model, kg)))


def run_self_check(
    model: LoadedModel,
    kg: KnowledgeGraph,
    progress: Callable[[float, str], None] | None = None,
    seeds: tuple[int, ...] | None = None,
) -> SelfCheck:
    """Run :func:`kgviz.evaluation.selfcheck.self_check` (the model's ensemble and the baselines) and keep the result.

    ``seeds``: InGram's draws (default :func:`self_check_seeds`); they also set the folds, so two
    models compared on one KG must use the same."""
    from kgviz.evaluation.selfcheck import self_check

    store, seeds = _self_checks(), seeds or self_check_seeds(model, kg)
    result = self_check(kg, model.network, seeds=seeds, device=model.device, progress=progress, scorer=model.scorer)
    store[(kg.fingerprint, model.fingerprint, seeds)] = result
    while len(store) > SELF_CHECK_ENTRIES:
        store.pop(next(iter(store)))
    return result
