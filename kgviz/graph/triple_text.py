"""Text of triple files, line by line: decoding, line ends, size limits, fields; :class:`KGFormatError`.

The readers of :mod:`kgviz.graph.data` build on these. Every refusal is a :class:`KGFormatError` naming
the source, the line and what is wrong.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

__all__ = [
    "KGFormatError",
    "MAX_LINE_CHARS",
    "HEADER_COLUMNS",
    "lf_line_ends",
    "line_of",
    "read_bytes",
    "decode_text",
    "looks_like_header",
    "data_lines",
    "split_fields",
]

MAX_LINE_CHARS = 65_536  # a longer line is refused (no name is that long; csv's own limit is 131,072)


HEADER_COLUMNS = ("head", "relation", "tail")


# Line ends of text files: LF, CRLF or a lone CR. Not str.splitlines(), which also breaks at
# form feeds, U+0085, U+2028 … that may sit inside a name and would split one triple in two.
# A line that carries data: its first non-blank character is not '#' (lines end in LF here).
_DATA_LINE = re.compile(r"^[^\S\n]*[^\s#]", re.MULTILINE)


_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")


class KGFormatError(ValueError):
    """Bad knowledge-graph input; the message names the source, the line and what is wrong."""

    def __init__(self, message: str, *, source: str = "<input>", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = message
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")


def lf_line_ends(text: str) -> str:
    """CRLF and lone CR line ends turned into LF (then str.split: a regex split is 4x slower)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def line_of(data: bytes, pos: int) -> int:
    """1-based line number of byte offset ``pos``."""
    return len(_LINE_END_BYTES.findall(data, 0, pos)) + 1


def read_bytes(path: Path, source: str) -> bytes:
    if not path.is_file():
        raise KGFormatError("no such file", source=source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KGFormatError(f"cannot be read ({exc.strerror or exc})", source=source) from None


def decode_text(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KGFormatError("UTF-16 text; save the file as UTF-8", source=source, line=1)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise KGFormatError(
            "looks like a binary file (NUL byte); expected text triples", source=source, line=line_of(data, nul)
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = line_of(data, exc.start)
        raise KGFormatError(f"not valid UTF-8 text (byte 0x{data[exc.start]:02x})", source=source, line=line) from None


def looks_like_header(line: str) -> bool:
    """Whether ``line`` may be a ``head, relation, tail`` header (in any order, either separator)."""
    return sorted(f.strip().strip('"').lower() for f in re.split("[\t,]", line)) == sorted(HEADER_COLUMNS)


def data_lines(text: str, *, source: str, max_rows: int, header: bool = False) -> list[tuple[int, str]]:
    """``(line number, line)`` of the lines that carry data (not blank, not ``#`` comments).

    Refuses, with the line number, a line over :data:`MAX_LINE_CHARS` characters and more than
    ``max_rows`` data lines (not counting a first line that looks like a header when ``header``);
    both checks run before any field is parsed, so an oversized file is refused quickly.
    """
    text = lf_line_ends(text)
    lines = text.split("\n")
    if max(map(len, lines)) > MAX_LINE_CHARS:
        n = next(i for i, ln in enumerate(lines) if len(ln) > MAX_LINE_CHARS) + 1
        raise KGFormatError(
            f"line of {len(lines[n - 1]):,} characters; names longer than "
            f"{MAX_LINE_CHARS:,} characters are not accepted",
            source=source,
            line=n,
        )
    if len(lines) > max_rows:  # maybe too many: find the first data line over the limit, if any
        starts = _DATA_LINE.finditer(text)
        first = next(starts, None)
        skip = header and first is not None and looks_like_header(text[first.start() :].split("\n", 1)[0])
        extra = next(itertools.islice(starts, max(max_rows - 1 + skip, 0), None), None) if first else None
        if extra is not None:
            raise KGFormatError(
                f"more than {max_rows:,} triples; raise the limit (max_triples) if this is intended",
                source=source,
                line=text.count("\n", 0, extra.start()) + 1,
            )
    return [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]


def split_fields(numbered: list[tuple[int, str]], delimiter: str, source: str) -> list[list[str]]:
    """Each line's stripped fields; CSV quotes (``"b, c"``) are honoured and may not span lines."""
    if delimiter != ",":  # a tab-separated name may contain a quote character: no quoting
        return [[f.strip() for f in ln.split(delimiter)] for _, ln in numbered]
    reader = csv.reader((ln for _, ln in numbered), delimiter=",", skipinitialspace=True, strict=True)
    rows = []
    try:
        for k, row in enumerate(reader):
            if reader.line_num != k + 1:
                raise KGFormatError("a quoted field is not closed on its line", source=source, line=numbered[k][0])
            rows.append([f.strip() for f in row])
    except csv.Error as exc:
        raise KGFormatError(
            f"malformed CSV ({exc})", source=source, line=numbered[min(reader.line_num, len(numbered)) - 1][0]
        ) from None
    return rows
