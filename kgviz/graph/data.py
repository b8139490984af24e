"""Loading knowledge graphs: files, string triples and the InGram benchmark layout.

A knowledge graph (KG) is a list of triples ``(head, relation, tail)``. Entity and relation ids
are assigned in order of first appearance (head before tail on each line), as in the authors'
code, so that ids (and therefore random initial features) line up with theirs.

Symbols: ``N`` entities, ``R`` relations, ``M`` triples.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kgviz.graph.triple_text import HEADER_COLUMNS, KGFormatError, data_lines, decode_text, read_bytes, split_fields

DEFAULT_MAX_TRIPLES = 2_000_000


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """A KG with string vocabularies and integer triples.

    Attributes:
        entities: entity names; id ``i`` is ``entities[i]``.
        relations: relation names (without inverses); id ``r`` is ``relations[r]``.
        triples: ``int64`` array of shape ``(M, 3)`` holding ``[head, relation, tail]`` ids,
            duplicates removed (first occurrence kept, order preserved).
        source: where the KG came from (file name or a description), used in messages.
        num_duplicates: how many duplicate triples were dropped when it was read.
    """

    entities: tuple[str, ...]
    relations: tuple[str, ...]
    triples: np.ndarray
    source: str = "<memory>"
    num_duplicates: int = 0

    def __post_init__(self):
        t = np.asarray(self.triples, dtype=np.int64).reshape(-1, 3)
        t.setflags(write=False)
        object.__setattr__(self, "triples", t)
        if len(t):
            if t[:, [0, 2]].min() < 0 or t[:, [0, 2]].max() >= len(self.entities):
                raise ValueError("entity id out of range")
            if t[:, 1].min() < 0 or t[:, 1].max() >= len(self.relations):
                raise ValueError("relation id out of range")

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    @property
    def num_triples(self) -> int:
        return len(self.triples)

    @cached_property
    def entity_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.entities)}

    @cached_property
    def relation_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.relations)}

    @cached_property
    def fingerprint(self) -> str:
        """SHA-1 (hex) of the content: entity names, relation names (both in id order) and triples.

        Two KGs with the same fingerprint have the same ids for the same names and the same
        triples, so anything computed from one (relation graph, embeddings) holds for the other.
        Every cache of the explorer keys KGs by it.
        """
        h = hashlib.sha1()
        for names in (self.entities, self.relations):
            h.update(len(names).to_bytes(8, "little"))
            for name in names:
                h.update(name.encode("utf-8", "surrogatepass") + b"\0")
        h.update(np.ascontiguousarray(self.triples, dtype="<i8").tobytes())
        return h.hexdigest()

    def string_triples(self) -> list[tuple[str, str, str]]:
        """The triples as ``(head, relation, tail)`` names, in stored order."""
        e, r = self.entities, self.relations
        return [(e[h], r[p], e[t]) for h, p, t in self.triples.tolist()]

    def to_tsv(self) -> str:
        """Tab-separated ``head<TAB>relation<TAB>tail`` lines; reads back to an equal KG."""
        return "".join(f"{h}\t{r}\t{t}\n" for h, r, t in self.string_triples())

    def __repr__(self) -> str:
        return (
            f"KnowledgeGraph({self.source!r}, entities={self.num_entities}, "
            f"relations={self.num_relations}, triples={self.num_triples})"
        )


def _clean_name(raw: object, *, what: str, source: str, line: int) -> str:
    name = "" if raw is None else str(raw).strip()
    if not name:
        raise KGFormatError(f"empty {what} field", source=source, line=line)
    return name


def from_triples(
    triples: Iterable[Sequence[str]],
    *,
    source: str = "<list>",
    max_triples: int = DEFAULT_MAX_TRIPLES,
    line_numbers: Sequence[int] | None = None,
    entities: Sequence[str] = (),
    relations: Sequence[str] = (),
) -> KnowledgeGraph:
    """Build a KG from string triples; ids follow first appearance (head before tail).

    ``entities`` / ``relations`` optionally seed the vocabularies (their order is kept), so a
    KG edited from another keeps its ids. Names are stripped; an empty name, a row that is not
    three fields, or more than ``max_triples`` rows raises :class:`KGFormatError`.
    """
    ent_index: dict[str, int] = {n: i for i, n in enumerate(entities)}
    rel_index: dict[str, int] = {n: i for i, n in enumerate(relations)}
    rows: list[tuple[int, int, int]] = []
    for k, triple in enumerate(triples):
        line = line_numbers[k] if line_numbers is not None else k + 1
        if len(rows) >= max_triples:
            raise KGFormatError(
                f"more than {max_triples:,} triples; raise the limit (max_triples) if this is intended",
                source=source,
                line=line,
            )
        n = 1 if isinstance(triple, (str, bytes)) or not hasattr(triple, "__len__") else len(triple)
        if n != 3:
            raise KGFormatError(f"expected 3 fields (head, relation, tail), found {n}", source=source, line=line)
        h = _clean_name(triple[0], what="head", source=source, line=line)
        r = _clean_name(triple[1], what="relation", source=source, line=line)
        t = _clean_name(triple[2], what="tail", source=source, line=line)
        hi = ent_index.setdefault(h, len(ent_index))
        ri = rel_index.setdefault(r, len(rel_index))
        ti = ent_index.setdefault(t, len(ent_index))
        rows.append((hi, ri, ti))
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    unique, num_dup = _drop_duplicates(arr)
    return KnowledgeGraph(tuple(ent_index), tuple(rel_index), unique, source=source, num_duplicates=num_dup)


def _drop_duplicates(triples: np.ndarray) -> tuple[np.ndarray, int]:
    """Keep the first occurrence of each triple, in order; return it and the number dropped."""
    if len(triples) == 0:
        return triples, 0
    _, first = np.unique(triples, axis=0, return_index=True)
    first.sort()
    return triples[first], len(triples) - len(first)


def parse_triples_text(
    text: str,
    *,
    source: str = "<text>",
    max_triples: int = DEFAULT_MAX_TRIPLES,
    delimiter: str | None = None,
) -> KnowledgeGraph:
    """Parse triples from text: TSV (``h<TAB>r<TAB>t``) or CSV/TSV with a header row.

    Blank lines and lines starting with ``#`` are skipped; CRLF line ends and surrounding
    whitespace are accepted. A first data row whose fields are exactly ``head``, ``relation``,
    ``tail`` (any order, any case) is a header and fixes the column order. Without ``delimiter``
    a tab is used when the first data row has one, else a comma.
    """
    numbered = data_lines(text, source=source, max_rows=max_triples, header=True)
    if not numbered:
        raise KGFormatError("no triples found (file is empty or only comments)", source=source)
    if delimiter is None:
        delimiter = "\t" if "\t" in numbered[0][1] else ","
    numbers = [n for n, _ in numbered]
    rows = split_fields(numbered, delimiter, source)
    order: list[int] = [0, 1, 2]
    first = [f.lower() for f in rows[0]]
    if sorted(first) == sorted(HEADER_COLUMNS):
        order = [first.index(c) for c in HEADER_COLUMNS]
        rows, numbers = rows[1:], numbers[1:]
        if not rows:
            raise KGFormatError("header row but no triples", source=source, line=numbered[0][0])
    for row, n in zip(rows, numbers):
        if len(row) != 3:
            sep = "tab" if delimiter == "\t" else repr(delimiter)
            raise KGFormatError(
                f"expected 3 {sep}-separated fields (head, relation, tail), found {len(row)}", source=source, line=n
            )
    triples = ([row[i] for i in order] for row in rows)
    return from_triples(triples, source=source, max_triples=max_triples, line_numbers=numbers)


def read_kg(
    path_or_bytes: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_triples: int = DEFAULT_MAX_TRIPLES,
) -> KnowledgeGraph:
    """Read a KG from a TSV/CSV file path or from raw bytes (e.g. an upload)."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        source = name or "<upload>"
        data = bytes(path_or_bytes)
    else:
        path = Path(path_or_bytes)
        source = name or str(path)
        data = read_bytes(path, source)
    if not data.strip():
        raise KGFormatError("file is empty", source=source)
    text = decode_text(data, source)
    delimiter = "," if source.lower().endswith(".csv") else None
    return parse_triples_text(text, source=source, max_triples=max_triples, delimiter=delimiter)


def encode_triples(
    kg: KnowledgeGraph, triples: Iterable[Sequence[str]], *, source: str, line_numbers: Sequence[int] | None = None
) -> np.ndarray:
    """Map string triples onto ``kg``'s ids; an unknown name raises :class:`KGFormatError`."""
    ents, rels = kg.entity_index, kg.relation_index
    out = []
    for k, (h, r, t) in enumerate(triples):
        line = line_numbers[k] if line_numbers is not None else k + 1
        for name, index, what in ((h, ents, "entity"), (r, rels, "relation"), (t, ents, "entity")):
            if name not in index:
                raise KGFormatError(f"{what} {name!r} does not occur in {kg.source}", source=source, line=line)
        out.append((ents[h], rels[r], ents[t]))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def _read_rows(path: Path, max_triples: int) -> tuple[list[list[str]], list[int]]:
    source = str(path)
    numbered = data_lines(decode_text(read_bytes(path, source), source), source=source, max_rows=max_triples)
    rows = split_fields(numbered, "\t", source)
    for row, (n, _) in zip(rows, numbered):
        if len(row) != 3:
            raise KGFormatError(f"expected 3 tab-separated fields, found {len(row)}", source=source, line=n)
    return rows, [n for n, _ in numbered]


@dataclass(frozen=True, eq=False)
class BenchmarkDataset:
    """An InGram benchmark folder.

    ``train`` is the training graph (``None`` for inference-only sets such as FB-*),
    ``inference`` the inference graph read from ``msg.txt``; ``valid`` and ``test`` are
    ``(Q, 3)`` id arrays in the inference graph's vocabulary.
    """

    name: str
    train: KnowledgeGraph | None
    inference: KnowledgeGraph
    valid: np.ndarray
    test: np.ndarray

    def split(self, name: str) -> np.ndarray:
        if name not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', not {name!r}")
        return self.valid if name == "valid" else self.test


def load_benchmark(directory: str | os.PathLike, *, max_triples: int = DEFAULT_MAX_TRIPLES) -> BenchmarkDataset:
    """Read ``train.txt`` (optional), ``msg.txt``, ``valid.txt`` and ``test.txt`` from a folder."""
    d = Path(directory)
    if not d.is_dir():
        raise KGFormatError("no such data folder", source=str(d))
    for required in ("msg.txt", "valid.txt", "test.txt"):
        if not (d / required).is_file():
            raise KGFormatError(f"missing {required} (expected the InGram benchmark layout)", source=str(d))

    def graph(fname: str) -> KnowledgeGraph:
        rows, numbers = _read_rows(d / fname, max_triples)
        if not rows:
            raise KGFormatError("file is empty", source=str(d / fname))
        return from_triples(rows, source=str(d / fname), line_numbers=numbers, max_triples=max_triples)

    train = graph("train.txt") if (d / "train.txt").is_file() else None
    inference = graph("msg.txt")
    queries = {}
    for split in ("valid", "test"):
        rows, numbers = _read_rows(d / f"{split}.txt", max_triples)
        queries[split] = encode_triples(inference, rows, source=str(d / f"{split}.txt"), line_numbers=numbers)
    return BenchmarkDataset(d.name, train, inference, queries["valid"], queries["test"])


def parse_quick_add(text: str, *, source: str = "<quick add>") -> list[tuple[str, str, str]]:
    """Parse ``head, relation, tail`` lines (comma or tab separated) into string triples."""
    out = []
    for n, ln in data_lines(text, source=source, max_rows=DEFAULT_MAX_TRIPLES):
        fields = split_fields([(n, ln)], "\t" if "\t" in ln else ",", source)[0]
        if len(fields) != 3:
            raise KGFormatError(f"expected 'head, relation, tail', found {len(fields)} fields", source=source, line=n)
        h, r, t = (_clean_name(f, what=w, source=source, line=n) for f, w in zip(fields, HEADER_COLUMNS))
        out.append((h, r, t))
    return out
