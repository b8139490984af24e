"""The hand-written sample KGs in ``sample_kgs/`` and the metadata in their header comments.

A sample file is a TSV KG (read by :func:`kgviz.graph.data.read_kg`) whose leading ``#`` lines carry
``key: value`` metadata (see ``sample_kgs/README.md``)::

    # title: Movies — the lecture's example KG
    # about: free text, one or more lines
    # query: Ryan Gosling | profession | ? -> actor     (a tail query; "-> answer" is optional)
    # query: ? | treats | Hypercholesterolemia          (a head query)
    # pair: acted in | born in                          (relation pair the β step opens on)
    # transfer: literature                              (a sample with disjoint entities/relations)

Unknown keys are ignored, so files stay readable by any TSV tool. Pure Python, no Streamlit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kgviz.graph.data import KnowledgeGraph, read_kg

__all__ = [
    "SAMPLE_DIR",
    "SampleQuery",
    "SampleMeta",
    "parse_meta",
    "read_meta",
    "sample_paths",
    "load_sample",
    "meta_for_kg",
    "sample_dir",
]

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_kgs"


@dataclass(frozen=True)
class SampleQuery:
    """A suggested query: ``(head, relation, ?)`` when ``direction == "tail"``, else ``(?, relation, tail)``.

    ``anchor`` is the known entity; ``answer`` the expected missing entity (``None`` if open).
    """

    anchor: str
    relation: str
    direction: str = "tail"
    answer: str | None = None

    def text(self) -> str:
        core = (
            f"({self.anchor}, {self.relation}, ?)"
            if self.direction == "tail"
            else f"(?, {self.relation}, {self.anchor})"
        )
        return core if self.answer is None else f"{core} → {self.answer}"


@dataclass(frozen=True)
class SampleMeta:
    """Metadata from a sample file's header comments."""

    name: str
    title: str = ""
    about: str = ""
    queries: tuple[SampleQuery, ...] = ()
    pair: tuple[str, str] | None = None
    transfer: tuple[str, ...] = field(default_factory=tuple)


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split("|")]


def _parse_query(value: str) -> SampleQuery | None:
    answer = None
    if "->" in value:
        value, answer = (s.strip() for s in value.rsplit("->", 1))
        answer = answer or None
    parts = _split(value)
    if len(parts) != 3:
        return None
    h, r, t = parts
    if t == "?" and h != "?":
        return SampleQuery(h, r, "tail", answer)
    if h == "?" and t != "?":
        return SampleQuery(t, r, "head", answer)
    return None


def parse_meta(text: str, name: str = "") -> SampleMeta:
    """Metadata from the ``# key: value`` lines at the top of ``text`` (stops at the first triple)."""
    fields_: dict[str, list[str]] = {}
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            break
        body = s.lstrip("#").strip()
        key, sep, value = body.partition(":")
        if sep and key.strip().isidentifier():
            fields_.setdefault(key.strip().lower(), []).append(value.strip())
    queries = tuple(q for q in map(_parse_query, fields_.get("query", [])) if q is not None)
    pair = None
    if fields_.get("pair"):
        p = _split(fields_["pair"][0])
        pair = (p[0], p[1]) if len(p) == 2 else None
    transfer = tuple(t.strip() for v in fields_.get("transfer", []) for t in v.split(",") if t.strip())
    return SampleMeta(
        name=name,
        title=(fields_.get("title") or [name])[0],
        about=" ".join(fields_.get("about", [])),
        queries=queries,
        pair=pair,
        transfer=transfer,
    )


def read_meta(path: str | os.PathLike) -> SampleMeta:
    p = Path(path)
    return parse_meta(p.read_text(encoding="utf-8-sig"), name=p.stem)


def sample_paths(directory: str | os.PathLike = SAMPLE_DIR) -> dict[str, Path]:
    """``{name: path}`` of every ``*.tsv`` in ``directory``, sorted by name."""
    return {p.stem: p for p in sorted(Path(directory).glob("*.tsv"))}


def load_sample(name: str, directory: str | os.PathLike = SAMPLE_DIR) -> tuple[KnowledgeGraph, SampleMeta]:
    """The KG and metadata of sample ``name`` (file stem, e.g. ``"movies"``)."""
    path = Path(directory) / f"{name}.tsv"
    return read_kg(path), read_meta(path)


def sample_dir() -> Path:
    """``$KGVIZ_SAMPLE_KGS`` if set (as the explorer uses), else the repository's ``sample_kgs``."""
    return Path(os.environ.get("KGVIZ_SAMPLE_KGS") or SAMPLE_DIR)


def _match(kg: KnowledgeGraph, directory: Path) -> Path | None:
    paths = sample_paths(directory) if directory.is_dir() else {}
    name = Path(str(kg.source)).name
    for stem, path in paths.items():  # "movies.tsv", "movies (sample)", "movies edited" …
        if name == path.name or name == stem or re.match(rf"{re.escape(stem)}\b", name):
            return path
    rels = set(kg.relations)
    for path in paths.values():  # same relations under another name (an upload, a built-in copy)
        if set(read_kg(path).relations) == rels:
            return path
    return None


def meta_for_kg(kg: KnowledgeGraph, directory: str | os.PathLike | None = None) -> SampleMeta | None:
    """The metadata of the sample ``kg`` comes from, if any, restricted to names ``kg`` still has.

    A sample matches when ``kg.source``'s file name is the sample's file name or starts with its
    stem (``"movies (sample)"``), else when it has exactly the sample's relations. Queries and the
    pair that name a missing entity or relation are dropped (an answer that is not an entity of
    ``kg`` is cleared), so the result is usable on ``kg``.
    """
    path = _match(kg, Path(directory) if directory is not None else sample_dir())
    if path is None:
        return None
    meta = read_meta(path)
    ents, rels = kg.entity_index, kg.relation_index
    queries = tuple(
        q if q.answer is None or q.answer in ents else SampleQuery(q.anchor, q.relation, q.direction, None)
        for q in meta.queries
        if q.anchor in ents and q.relation in rels
    )
    pair = meta.pair if meta.pair and all(r in rels for r in meta.pair) else None
    return SampleMeta(meta.name, meta.title, meta.about, queries, pair, meta.transfer)
