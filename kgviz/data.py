"""Loading knowledge graphs: files, string triples and the InGram benchmark layout.

A knowledge graph (KG) is a list of triples ``(head, relation, tail)``. Entity and relation ids
are assigned in order of first appearance (head before tail on each line), as in the authors'
code, so that ids (and therefore random initial features) line up with theirs.

Symbols: ``N`` entities, ``R`` relations, ``M`` triples.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

DEFAULT_MAX_TRIPLES = 2_000_000
HEADER_COLUMNS = ("head", "relation", "tail")
# Line ends of text files: LF, CRLF or a lone CR. Not str.splitlines(), which also breaks at
# form feeds, U+0085, U+2028 … that may sit inside a name and would split one triple in two.
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")


class KGFormatError(ValueError):
    """Bad knowledge-graph input; the message names the source, the line and what is wrong."""

    def __init__(self, message: str, *, source: str = "<input>", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = message
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")


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
        return (f"KnowledgeGraph({self.source!r}, entities={self.num_entities}, "
                f"relations={self.num_relations}, triples={self.num_triples})")


def _split_lines(text: str) -> list[str]:
    return _LINE_END.split(text)


def _line_of(data: bytes, pos: int) -> int:
    """1-based line number of byte offset ``pos``."""
    return len(_LINE_END_BYTES.findall(data, 0, pos)) + 1


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
                source=source, line=line)
        if isinstance(triple, str) or len(triple) != 3:
            n = 1 if isinstance(triple, str) else len(triple)
            raise KGFormatError(f"expected 3 fields (head, relation, tail), found {n}",
                                source=source, line=line)
        h = _clean_name(triple[0], what="head", source=source, line=line)
        r = _clean_name(triple[1], what="relation", source=source, line=line)
        t = _clean_name(triple[2], what="tail", source=source, line=line)
        hi = ent_index.setdefault(h, len(ent_index))
        ri = rel_index.setdefault(r, len(rel_index))
        ti = ent_index.setdefault(t, len(ent_index))
        rows.append((hi, ri, ti))
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    unique, num_dup = _drop_duplicates(arr)
    return KnowledgeGraph(tuple(ent_index), tuple(rel_index), unique, source=source,
                          num_duplicates=num_dup)


def _drop_duplicates(triples: np.ndarray) -> tuple[np.ndarray, int]:
    """Keep the first occurrence of each triple, in order; return it and the number dropped."""
    if len(triples) == 0:
        return triples, 0
    _, first = np.unique(triples, axis=0, return_index=True)
    first.sort()
    return triples[first], len(triples) - len(first)


def _decode(data: bytes, source: str) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise KGFormatError("looks like a binary file (NUL byte); expected text triples",
                            source=source, line=_line_of(data, nul))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise KGFormatError(f"not valid UTF-8 text (byte 0x{data[exc.start]:02x})",
                            source=source, line=line) from None


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
    lines = _split_lines(text)
    numbered = [(i + 1, ln) for i, ln in enumerate(lines)
                if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        raise KGFormatError("no triples found (file is empty or only comments)", source=source)
    if delimiter is None:
        delimiter = "\t" if "\t" in numbered[0][1] else ","
    numbers = [n for n, _ in numbered]
    # Quotes only in CSV ("a, \"b, c\", d"); a tab-separated name may contain a quote character.
    reader = csv.reader((ln for _, ln in numbered), delimiter=delimiter, skipinitialspace=True,
                        quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE)
    rows = [[f.strip() for f in row] for row in reader]
    order = (0, 1, 2)
    first = [f.lower() for f in rows[0]]
    if sorted(first) == sorted(HEADER_COLUMNS):
        order = tuple(first.index(c) for c in HEADER_COLUMNS)
        rows, numbers = rows[1:], numbers[1:]
        if not rows:
            raise KGFormatError("header row but no triples", source=source, line=numbered[0][0])
    for row, n in zip(rows, numbers):
        if len(row) != 3:
            sep = "tab" if delimiter == "\t" else repr(delimiter)
            raise KGFormatError(f"expected 3 {sep}-separated fields (head, relation, tail), "
                                f"found {len(row)}", source=source, line=n)
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
        if not path.is_file():
            raise KGFormatError("no such file", source=source)
        data = path.read_bytes()
    if not data.strip():
        raise KGFormatError("file is empty", source=source)
    text = _decode(data, source)
    delimiter = "," if source.lower().endswith(".csv") else None
    return parse_triples_text(text, source=source, max_triples=max_triples, delimiter=delimiter)


def encode_triples(kg: KnowledgeGraph, triples: Iterable[Sequence[str]], *, source: str,
                   line_numbers: Sequence[int] | None = None) -> np.ndarray:
    """Map string triples onto ``kg``'s ids; an unknown name raises :class:`KGFormatError`."""
    ents, rels = kg.entity_index, kg.relation_index
    out = []
    for k, (h, r, t) in enumerate(triples):
        line = line_numbers[k] if line_numbers is not None else k + 1
        for name, index, what in ((h, ents, "entity"), (r, rels, "relation"), (t, ents, "entity")):
            if name not in index:
                raise KGFormatError(f"{what} {name!r} does not occur in {kg.source}",
                                    source=source, line=line)
        out.append((ents[h], rels[r], ents[t]))
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def _read_rows(path: Path, max_triples: int) -> tuple[list[list[str]], list[int]]:
    text = _decode(path.read_bytes(), str(path))
    rows, numbers = [], []
    for i, ln in enumerate(_split_lines(text)):
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in ln.split("\t")]
        if len(fields) != 3:
            raise KGFormatError(f"expected 3 tab-separated fields, found {len(fields)}",
                                source=str(path), line=i + 1)
        rows.append(fields)
        numbers.append(i + 1)
        if len(rows) > max_triples:
            raise KGFormatError(f"more than {max_triples:,} triples", source=str(path), line=i + 1)
    return rows, numbers


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
            raise KGFormatError(f"missing {required} (expected the InGram benchmark layout)",
                                source=str(d))

    def graph(fname: str) -> KnowledgeGraph:
        rows, numbers = _read_rows(d / fname, max_triples)
        if not rows:
            raise KGFormatError("file is empty", source=str(d / fname))
        return from_triples(rows, source=str(d / fname), line_numbers=numbers,
                            max_triples=max_triples)

    train = graph("train.txt") if (d / "train.txt").is_file() else None
    inference = graph("msg.txt")
    queries = {}
    for split in ("valid", "test"):
        rows, numbers = _read_rows(d / f"{split}.txt", max_triples)
        queries[split] = encode_triples(inference, rows, source=str(d / f"{split}.txt"),
                                        line_numbers=numbers)
    return BenchmarkDataset(d.name, train, inference, queries["valid"], queries["test"])


def add_triples(kg: KnowledgeGraph, triples: Iterable[Sequence[str]], *, source: str | None = None) -> KnowledgeGraph:
    """A new KG with ``triples`` appended; existing ids are kept, new names get new ids."""
    return from_triples(list(kg.string_triples()) + [tuple(t) for t in triples],
                        source=source or kg.source, entities=kg.entities, relations=kg.relations)


def remove_triples(kg: KnowledgeGraph, triples: Iterable[Sequence[str]]) -> KnowledgeGraph:
    """A new KG without ``triples``; names left without any triple are dropped."""
    drop = {tuple(s.strip() for s in t) for t in triples}
    kept = [t for t in kg.string_triples() if t not in drop]
    if not kept:
        raise KGFormatError("removing these triples would leave the KG empty", source=kg.source)
    used_e = {x for h, _, t in kept for x in (h, t)}
    used_r = {r for _, r, _ in kept}
    # Surviving names keep their relative order, so ids only close the gaps.
    return from_triples(kept, source=kg.source, entities=[e for e in kg.entities if e in used_e],
                        relations=[r for r in kg.relations if r in used_r])


def parse_quick_add(text: str, *, source: str = "<quick add>") -> list[tuple[str, str, str]]:
    """Parse ``head, relation, tail`` lines (comma or tab separated) into string triples."""
    out = []
    reader_lines = [(i + 1, ln) for i, ln in enumerate(_split_lines(text))
                    if ln.strip() and not ln.lstrip().startswith("#")]
    for n, ln in reader_lines:
        delim = "\t" if "\t" in ln else ","
        fields = next(csv.reader(io.StringIO(ln), delimiter=delim, skipinitialspace=True,
                                 quoting=csv.QUOTE_MINIMAL if delim == "," else csv.QUOTE_NONE))
        if len(fields) != 3:
            raise KGFormatError(f"expected 'head, relation, tail', found {len(fields)} fields",
                                source=source, line=n)
        out.append(tuple(_clean_name(f, what=w, source=source, line=n)
                         for f, w in zip(fields, HEADER_COLUMNS)))
    return out
