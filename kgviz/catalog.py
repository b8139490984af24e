"""Where the explorer's KGs and models come from: sample KGs, the built-in lecture KG, benchmark
inference graphs and shipped checkpoints. Pure discovery: paths in, lists out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kgviz.graph.data import KnowledgeGraph, from_triples
from kgviz.models.pretrained import DEFAULT_MODELS, pretrained_dir
from kgviz.graph.samples import sample_dir

UNTRAINED = "untrained"
ULTRA_PREFIX = "ultra:"  # model key of an ULTRA checkpoint folder: "ultra:ultra-3g"
UNTRAINED_LABEL = "untrained (random weights, seed 0)"

# The lecture's movie KG (CS224W, InGram slides), used when no sample KGs are installed.
# Lecture β(acted in, born in) = (1/3)² + (1/7)² = 0.13: Olivia Colman has 3 triples, Emma Stone 7.
LECTURE_TRIPLES = (
    ("Olivia Colman", "acted in", "The Favourite"),
    ("Olivia Colman", "born in", "UK"),
    ("Olivia Colman", "costarred", "Emma Stone"),
    ("Emma Stone", "acted in", "The Favourite"),
    ("Emma Stone", "acted in", "Poor Things"),
    ("Emma Stone", "acted in", "La La Land"),
    ("Emma Stone", "born in", "USA"),
    ("Emma Stone", "costarred", "Ryan Gosling"),
    ("Emma Stone", "profession", "actor"),
    ("Ryan Gosling", "acted in", "La La Land"),
    ("Yorgos Lanthimos", "directed", "The Favourite"),
    ("Yorgos Lanthimos", "directed", "Poor Things"),
    ("Yorgos Lanthimos", "born in", "Greece"),
    ("Yorgos Lanthimos", "profession", "director"),
)
BUILTIN_KEY = "builtin:lecture"


@dataclass(frozen=True)
class Preset:
    """A KG the app can load by name: ``key`` goes into the URL, ``path`` is ``None`` for built-ins."""

    key: str
    label: str
    path: Path | None


@dataclass(frozen=True)
class ModelChoice:
    """A model the app can load: ``untrained``, or a checkpoint folder (InGram, or ULTRA when
    ``key`` starts with :data:`ULTRA_PREFIX`)."""

    key: str
    label: str
    path: Path | None

    @property
    def is_ultra(self) -> bool:
        return self.key.startswith(ULTRA_PREFIX)


def data_dir() -> Path | None:
    """``$KGVIZ_DATA`` when it names a folder, else ``None``."""
    d = os.environ.get("KGVIZ_DATA")
    return Path(d) if d and Path(d).is_dir() else None


def discover_presets(samples: Path | None = None, data: Path | None = None) -> list[Preset]:
    """Sample KGs (``samples/*.tsv``), the built-in lecture KG, then benchmark inference graphs
    (``data/<SET>/msg.txt``)."""
    samples = sample_dir() if samples is None else samples
    data = data_dir() if data is None else data
    out = []
    if samples.is_dir():
        out += [Preset(f"sample:{p.stem}", f"{p.stem} (sample)", p) for p in sorted(samples.glob("*.tsv"))]
    out.append(Preset(BUILTIN_KEY, "lecture movies (built-in)", None))
    if data is not None and data.is_dir():
        out += [
            Preset(f"bench:{d.name}", f"{d.name} inference graph (msg.txt)", d / "msg.txt")
            for d in sorted(data.iterdir())
            if (d / "msg.txt").is_file()
        ]
    return out


def default_preset(presets: list[Preset]) -> Preset:
    """``sample:movies`` when present, else the built-in lecture KG."""
    by_key = {p.key: p for p in presets}
    return by_key.get("sample:movies") or by_key[BUILTIN_KEY]


def _default_order(name: str) -> int:
    """Position of ``name`` in :data:`kgviz.models.pretrained.DEFAULT_MODELS` (after them when absent)."""
    return DEFAULT_MODELS.index(name) if name in DEFAULT_MODELS else len(DEFAULT_MODELS)


def ultra_label(folder_name: str) -> str:
    """``ultra-3g`` → ``"ULTRA 3g"`` (the app's name of a shipped ULTRA checkpoint)."""
    rest = folder_name[len("ultra") :].lstrip("-_ ")
    return f"ULTRA {rest}" if rest else "ULTRA"


def discover_ultra(root: Path | None = None) -> list[ModelChoice]:
    """The ULTRA checkpoints: folders ``root/ultra-*`` holding a ``weights.pt`` (no ``config.json``), by name."""
    root = pretrained_dir() if root is None else root
    if not root.is_dir():
        return []
    found = [d for d in sorted(root.iterdir()) if d.name.lower().startswith("ultra") and (d / "weights.pt").is_file()]
    return [ModelChoice(f"{ULTRA_PREFIX}{d.name}", ultra_label(d.name), d) for d in found]


def discover_models(root: Path | None = None) -> list[ModelChoice]:
    """Every folder under ``root`` (recursively) holding a ``config.json`` — the shipped ones of
    :data:`kgviz.models.pretrained.DEFAULT_MODELS` first, in that order (the first is the app's default),
    the others by name —, then the ULTRA checkpoints (:func:`discover_ultra`), then the untrained model."""
    root = pretrained_dir() if root is None else root
    out = []
    if root.is_dir():
        configs = sorted(root.rglob("config.json"), key=lambda c: (_default_order(c.parent.name), str(c)))
        for cfg in configs:
            rel = cfg.parent.relative_to(root)
            name = str(rel) if str(rel) != "." else root.name
            out.append(ModelChoice(f"pretrained:{name}", f"{name} (trained)", cfg.parent))
    out += discover_ultra(root)
    out.append(ModelChoice(UNTRAINED, UNTRAINED_LABEL, None))
    return out


def builtin_kg() -> KnowledgeGraph:
    """The lecture's movie KG (:data:`LECTURE_TRIPLES`)."""
    return from_triples(LECTURE_TRIPLES, source="lecture movies (built-in)")
