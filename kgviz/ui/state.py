"""Where KGs and models come from, and the app's session state.

Discovery functions are pure (paths in, lists out). Session helpers take the Streamlit
``session_state`` mapping as an argument, so they run in tests without a server.

Session keys (initialised once by :func:`init_session`):

- ``kg``: the current :class:`KnowledgeGraph`; ``kg_key``: a hash of its TSV (cache key);
  ``kg_label``: where it came from; ``kg_version``: bumped on every change (editors rebuild).
- widget keys bound to URL query parameters (shareable state): ``preset``, ``view``,
  ``rel`` (selected relation), ``ent`` (selected entity), ``q_dir``, ``q_anchor``, ``q_rel``,
  ``q_expected`` (the prediction query).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import MutableMapping

from ..data import KnowledgeGraph, from_triples

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # uploads above this are refused with a message
MAX_UPLOAD_TRIPLES = 300_000
UNTRAINED = "untrained"
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
# Widgets that accept names typed by the user; forgotten when another preset is loaded.
PER_KG_KEYS = ("add_head", "add_rel", "add_tail", "canvas_relation", "wi_head", "wi_rel", "wi_tail",
               "wi_remove")


@dataclass(frozen=True)
class Preset:
    """A KG the app can load by name: ``key`` goes into the URL, ``path`` is ``None`` for built-ins."""

    key: str
    label: str
    path: Path | None


@dataclass(frozen=True)
class ModelChoice:
    """A model the app can load: ``untrained``, or a checkpoint folder."""

    key: str
    label: str
    path: Path | None


def sample_dir() -> Path:
    """``$KGVIZ_SAMPLE_KGS`` or ``<repo>/sample_kgs``."""
    return Path(os.environ.get("KGVIZ_SAMPLE_KGS") or REPO_ROOT / "sample_kgs")


def data_dir() -> Path | None:
    """``$KGVIZ_DATA`` when it names a folder, else ``None``."""
    d = os.environ.get("KGVIZ_DATA")
    return Path(d) if d and Path(d).is_dir() else None


def pretrained_dir() -> Path:
    """``$KGVIZ_PRETRAINED`` or ``<repo>/pretrained``."""
    return Path(os.environ.get("KGVIZ_PRETRAINED") or REPO_ROOT / "pretrained")


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
        out += [Preset(f"bench:{d.name}", f"{d.name} inference graph (msg.txt)", d / "msg.txt")
                for d in sorted(data.iterdir()) if (d / "msg.txt").is_file()]
    return out


def default_preset(presets: list[Preset]) -> Preset:
    """``sample:movies`` when present, else the built-in lecture KG."""
    by_key = {p.key: p for p in presets}
    return by_key.get("sample:movies") or by_key[BUILTIN_KEY]


DEFAULT_MODEL = "NL-100"  # listed first (the app's default) when shipped


def discover_models(root: Path | None = None) -> list[ModelChoice]:
    """Every folder under ``root`` (recursively) holding a ``config.json`` — :data:`DEFAULT_MODEL`
    first, the others by name —, then the untrained model."""
    root = pretrained_dir() if root is None else root
    out = []
    if root.is_dir():
        configs = sorted(root.rglob("config.json"), key=lambda c: (c.parent.name != DEFAULT_MODEL, str(c)))
        for cfg in configs:
            rel = cfg.parent.relative_to(root)
            name = str(rel) if str(rel) != "." else root.name
            out.append(ModelChoice(f"pretrained:{name}", f"{name} (trained)", cfg.parent))
    out.append(ModelChoice(UNTRAINED, UNTRAINED_LABEL, None))
    return out


def builtin_kg() -> KnowledgeGraph:
    return from_triples(LECTURE_TRIPLES, source="lecture movies (built-in)")


def kg_key(kg: KnowledgeGraph) -> str:
    """Content hash of a KG (its TSV and vocabulary order), used as a cache key."""
    h = hashlib.sha1()
    h.update("\x1f".join(kg.entities).encode())
    h.update(b"\x1e")
    h.update("\x1f".join(kg.relations).encode())
    h.update(b"\x1e")
    h.update(kg.triples.tobytes())
    return h.hexdigest()


def set_kg(session: MutableMapping, kg: KnowledgeGraph, label: str) -> None:
    """Make ``kg`` the current KG (every view and editor follows)."""
    session["kg"] = kg
    session["kg_key"] = kg_key(kg)
    session["kg_label"] = label
    session["kg_version"] = session.get("kg_version", 0) + 1


def init_session(session: MutableMapping) -> None:
    """Set the session keys that are not widget keys, once per session."""
    session.setdefault("kg_version", 0)
    session.setdefault("loaded_preset", None)
    session.setdefault("messages", [])


def used_vocabulary(kg: KnowledgeGraph, triples) -> tuple[list[str], list[str]]:
    """The KG's entity and relation names, in id order, restricted to those ``triples`` use —
    so edited KGs keep their ids (and random features) where they can."""
    ents = {x for h, _, t in triples for x in (h, t)}
    rels = {r for _, r, _ in triples}
    return [e for e in kg.entities if e in ents], [r for r in kg.relations if r in rels]
