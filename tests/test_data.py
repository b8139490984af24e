"""kgviz.graph.data: reading KGs from files, bytes and lists, and the InGram benchmark layout."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from kgviz.graph.data import (
    DEFAULT_MAX_TRIPLES,
    KGFormatError,
    from_triples,
    load_benchmark,
    parse_quick_add,
    read_kg,
)
from kgviz.graph.triple_text import MAX_LINE_CHARS


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def read_error(path: Path, **kwargs) -> KGFormatError:
    with pytest.raises(KGFormatError) as info:
        read_kg(path, **kwargs)
    err = info.value
    assert err.source == str(path)
    assert str(path) in str(err)
    if err.line is not None:
        assert f"line {err.line}" in str(err)
    return err


# -- bad input: a KGFormatError naming the file and the line ----------------------------------


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("a\tr\tb\nc\td\n", 2, "found 2"),  # too few columns
        ("a\tr\tb\nc\td\te\tf\n", 2, "found 4"),  # too many
        ("a\tr\tb\n\n# note\nc\td\n", 4, "found 2"),  # line numbers count blank and comment lines
        ("a\t\tb\n", 1, "empty relation"),
        ("a\tr\t   \n", 1, "empty tail"),
        (" \tr\tb\n", 1, "empty head"),
        ("a\tr\tb\r\nc\td\r\n", 2, "found 2"),  # CRLF
        ("a\tr\tb\rc\td\r", 2, "found 2"),  # old Mac line ends
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, content, line, words):
    err = read_error(write(tmp_path, "kg.tsv", content))
    assert err.line == line
    assert words in str(err)


def test_wrong_column_count_in_csv(tmp_path):
    err = read_error(write(tmp_path, "kg.csv", "head,relation,tail\na,r,b\na,r\n"))
    assert err.line == 3 and "found 2" in str(err)


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n", b"# only a comment\n\n"])
def test_empty_file(tmp_path, content):
    err = read_error(write(tmp_path, "empty.tsv", content))
    assert "empty" in str(err) or "no triples" in str(err)


@pytest.mark.parametrize(
    "name, content, line", [("h.csv", "head,relation,tail\n", 1), ("h.tsv", "# c\n\nHead\tRelation\tTail\n\n", 3)]
)
def test_header_only_file(tmp_path, name, content, line):
    err = read_error(write(tmp_path, name, content))
    assert "header" in str(err) and err.line == line


def test_nul_bytes_at_start(tmp_path):
    err = read_error(write(tmp_path, "model.bin", b"\x00\x01\x02PK\x03\x04" * 10))
    assert "binary" in str(err) and err.line == 1


def test_nul_byte_far_into_the_file(tmp_path):
    # A NUL after the first 8 KB must be caught too (it once was only looked for at the start).
    rows = "".join(f"e{i}\tr\te{i + 1}\n" for i in range(1000))
    err = read_error(write(tmp_path, "kg.tsv", rows.encode() + b"a\x00b\tr\tc\n"))
    assert "binary" in str(err) and err.line == 1001


def test_invalid_utf8(tmp_path):
    err = read_error(write(tmp_path, "kg.tsv", b"a\tr\tb\nZ\xfcrich\tin\tCH\n"))  # Latin-1 ü
    assert "UTF-8" in str(err) and err.line == 2


def test_missing_file(tmp_path):
    err = read_error(tmp_path / "nope.tsv")
    assert "no such file" in str(err)


def test_bytes_input_uses_given_name():
    with pytest.raises(KGFormatError) as info:
        read_kg(b"a\tr\n", name="upload.tsv")
    assert str(info.value).startswith("upload.tsv, line 1:")


# -- accepted variations ---------------------------------------------------------------------


def test_bom_crlf_whitespace_blank_lines_and_comments(tmp_path):
    content = "\ufeff# a comment\r\n\r\n  Alice \t knows\t Bob  \r\n\t\r\n# another\r\nBob\tknows\tCarol\r\n"
    kg = read_kg(write(tmp_path, "kg.tsv", content))
    assert kg.string_triples() == [("Alice", "knows", "Bob"), ("Bob", "knows", "Carol")]
    assert kg.entities == ("Alice", "Bob", "Carol")


def test_bom_before_csv_header(tmp_path):
    kg = read_kg(write(tmp_path, "kg.csv", "\ufefftail,head,relation\nB,A,r\n"))
    assert kg.string_triples() == [("A", "r", "B")]


def test_non_ascii_names(tmp_path):
    kg = read_kg(write(tmp_path, "kg.tsv", "Zürich\tliegt in\tSchweiz\n北京\t位于\t中国\nÅsa\tknows\tZürich\n"))
    assert kg.entities == ("Zürich", "Schweiz", "北京", "中国", "Åsa")
    assert kg.relations == ("liegt in", "位于", "knows")


def test_unicode_line_separators_inside_names_do_not_split_lines(tmp_path):
    # str.splitlines() breaks at U+2028, U+0085 and form feeds; a file's lines end only at CR/LF.
    kg = read_kg(write(tmp_path, "kg.tsv", "a\u2028b\tr\tc\nd\x0ce\tr\tf\u0085g\n"))
    assert kg.string_triples() == [("a\u2028b", "r", "c"), ("d\x0ce", "r", "f\u0085g")]
    err = read_error(write(tmp_path, "bad.tsv", "a\u2028b\tr\tc\nd\tr\n"))
    assert err.line == 2


@pytest.mark.parametrize("order", list(itertools.permutations(["head", "relation", "tail"])))
def test_csv_header_in_any_column_order(tmp_path, order):
    rows = [dict(head="Alice", relation="knows", tail="Bob"), dict(head="Bob", relation="likes", tail="Carol")]
    text = ",".join(order).upper() + "\n" + "".join(",".join(r[c] for c in order) + "\n" for r in rows)
    kg = read_kg(write(tmp_path, "kg.csv", text))
    assert kg.string_triples() == [("Alice", "knows", "Bob"), ("Bob", "likes", "Carol")]


def test_tsv_header(tmp_path):
    kg = read_kg(write(tmp_path, "kg.tsv", "relation\ttail\thead\nknows\tBob\tAlice\n"))
    assert kg.string_triples() == [("Alice", "knows", "Bob")]


def test_quoted_csv_fields_with_commas(tmp_path):
    text = (
        "head,relation,tail\n"
        '"Smith, John","works for","ACME, Inc."\n'
        'Alice, "likes, a lot", "Smith, John"\n'  # a space after the comma, then a quote
        'Bob,said,"""hi"", he said"\n'
    )
    kg = read_kg(write(tmp_path, "kg.csv", text))
    assert kg.string_triples() == [
        ("Smith, John", "works for", "ACME, Inc."),
        ("Alice", "likes, a lot", "Smith, John"),
        ("Bob", "said", '"hi", he said'),
    ]


def test_csv_without_header(tmp_path):
    kg = read_kg(write(tmp_path, "kg.csv", "a,r,b\nb,s,c\n"))
    assert kg.string_triples() == [("a", "r", "b"), ("b", "s", "c")]


def test_quote_characters_in_tsv_are_kept():
    kg = read_kg(b'"a\tsays "hi"\tb"\n', name="q.tsv")
    assert kg.string_triples() == [('"a', 'says "hi"', 'b"')]


def test_duplicates_kept_once_with_count(tmp_path):
    kg = read_kg(write(tmp_path, "kg.tsv", "a\tr\tb\nb\tr\tc\na\tr\tb\n a \tr\tb\na\tr\tc\n"))
    assert kg.string_triples() == [("a", "r", "b"), ("b", "r", "c"), ("a", "r", "c")]
    assert kg.num_duplicates == 2
    assert kg.num_triples == 3


def test_self_loops_allowed(tmp_path):
    kg = read_kg(write(tmp_path, "kg.tsv", "a\tsame as\ta\na\tr\tb\n"))
    assert kg.triples.tolist() == [[0, 0, 0], [0, 1, 1]]


def test_ids_in_order_of_first_appearance_head_before_tail(tmp_path):
    kg = read_kg(write(tmp_path, "kg.tsv", "c\ts\ta\na\tr\tb\nb\ts\td\nd\tt\tc\n"))
    assert kg.entities == ("c", "a", "b", "d")
    assert kg.relations == ("s", "r", "t")
    assert kg.triples.tolist() == [[0, 0, 1], [1, 1, 2], [2, 0, 3], [3, 2, 0]]


def test_size_cap(tmp_path):
    path = write(tmp_path, "kg.tsv", "a\tr\tb\n# c\nb\tr\tc\nc\tr\td\nd\tr\te\n")
    assert read_kg(path, max_triples=4).num_triples == 4
    err = read_error(path, max_triples=3)
    assert err.line == 5 and "more than 3 triples" in str(err) and "max_triples" in str(err)
    assert DEFAULT_MAX_TRIPLES == 2_000_000
    with pytest.raises(KGFormatError, match="more than 2 triples"):
        from_triples([("a", "r", "b")] * 3, max_triples=2)


def test_line_over_the_length_cap(tmp_path):
    """A 10 MB line once crashed the csv module (field larger than field limit)."""
    long_name = "x" * (MAX_LINE_CHARS + 1)
    for name, sep in (("kg.tsv", "\t"), ("kg.csv", ",")):
        err = read_error(write(tmp_path, name, f"a{sep}r{sep}b\nc{sep}r{sep}{long_name}\n"))
        assert err.line == 2 and "characters" in err.reason
    assert read_kg(write(tmp_path, "ok.tsv", f"a\tr\t{'y' * (MAX_LINE_CHARS - 4)}\n")).num_triples == 1


def test_too_many_lines_refused_before_parsing(tmp_path):
    rows = "".join(f"e{i}\tr\te{i + 1}\n" for i in range(50))
    err = read_error(write(tmp_path, "kg.tsv", "# header comment\n\n" + rows), max_triples=30)
    assert err.line == 33 and "more than 30 triples" in err.reason
    csv_rows = "head,relation,tail\n" + rows.replace("\t", ",")[: rows.index("e30\t")]
    assert read_kg(write(tmp_path, "kg.csv", csv_rows), max_triples=30).num_triples == 30  # header not counted


@pytest.mark.parametrize(
    "content, line, words",
    [
        ('a,"r,b\nc",d\nx,y,z\n', 1, "not closed"),  # an open quote would swallow the next line
        ('a,"r\n', 1, "malformed CSV"),
        ('a,b,c\nd,"e"x,f\n', 2, "malformed CSV"),
    ],
)
def test_malformed_csv_quotes(tmp_path, content, line, words):
    err = read_error(write(tmp_path, "kg.csv", content))
    assert err.line == line and words in err.reason


def test_utf16_file(tmp_path):
    err = read_error(write(tmp_path, "kg.tsv", "a\tr\tb\n".encode("utf-16")))
    assert "UTF-16" in err.reason


def test_quick_add_long_line_and_bad_quote():
    with pytest.raises(KGFormatError, match="line 2"):
        parse_quick_add("a, r, b\n" + "c, r, " + "z" * (MAX_LINE_CHARS + 1))
    with pytest.raises(KGFormatError, match="line 1.*malformed"):
        parse_quick_add('a, "r" q, b')


def test_from_python_list():
    kg = from_triples([("Alice", "knows", "Bob"), ["Bob", " knows ", "Alice"], ("Alice", "knows", "Bob")])
    assert kg.entities == ("Alice", "Bob") and kg.relations == ("knows",)
    assert kg.triples.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert kg.num_duplicates == 1


@pytest.mark.parametrize(
    "triples, line, words",
    [
        ([("a", "r", "b"), ("a", "r")], 2, "found 2"),
        ([("a", "r", "b"), "a r b"], 2, "found 1"),
        ([("a", "r", "b"), 7], 2, "found 1"),
        ([("a", "", "b")], 1, "empty relation"),
        ([("a", "r", None)], 1, "empty tail"),  # None is not the entity "None"
    ],
)
def test_from_python_list_errors(triples, line, words):
    with pytest.raises(KGFormatError) as info:
        from_triples(triples, source="my list")
    assert info.value.line == line and words in str(info.value) and "my list" in str(info.value)


def test_to_tsv_round_trip():
    kg = from_triples([("Zürich", "in", "CH"), ("x", "self", "x")])
    again = read_kg(kg.to_tsv().encode(), name="again.tsv")
    assert again.string_triples() == kg.string_triples() and again.entities == kg.entities


def test_quick_add():
    assert parse_quick_add('a, r, b\n# skip\nc\ts\td\n"x, y", r, z\n') == [
        ("a", "r", "b"),
        ("c", "s", "d"),
        ("x, y", "r", "z"),
    ]
    with pytest.raises(KGFormatError) as info:
        parse_quick_add("a, r, b\n\na, r\n")
    assert info.value.line == 3


# -- benchmark folders -----------------------------------------------------------------------


def make_benchmark(root: Path, *, train=True, valid="b\tr\tc\n", test="a\ts\tc\n") -> Path:
    d = root / "toy"
    d.mkdir()
    if train:
        write(d, "train.txt", "x\tp\ty\ny\tq\tz\n")
    write(d, "msg.txt", "a\tr\tb\nb\ts\tc\nc\tr\ta\n")
    write(d, "valid.txt", valid)
    write(d, "test.txt", test)
    return d


def test_benchmark_layout(tmp_path):
    ds = load_benchmark(make_benchmark(tmp_path))
    assert ds.name == "toy"
    assert ds.train.entities == ("x", "y", "z") and ds.train.relations == ("p", "q")
    assert ds.inference.entities == ("a", "b", "c") and ds.inference.relations == ("r", "s")
    # valid/test in the inference graph's vocabulary (msg.txt), not the training graph's
    assert ds.valid.tolist() == [[1, 0, 2]] and ds.test.tolist() == [[0, 1, 2]]
    assert ds.split("valid") is ds.valid
    with pytest.raises(ValueError):
        ds.split("train")


def test_benchmark_without_train(tmp_path):
    assert load_benchmark(make_benchmark(tmp_path, train=False)).train is None


def test_benchmark_unknown_name_in_valid(tmp_path):
    d = make_benchmark(tmp_path, valid="b\tr\tc\n\nb\tr\tnobody\n")
    with pytest.raises(KGFormatError) as info:
        load_benchmark(d)
    err = info.value
    assert err.source == str(d / "valid.txt") and err.line == 3
    assert "'nobody'" in str(err) and "msg.txt" in str(err)


def test_benchmark_bad_row_and_missing_file(tmp_path):
    d = make_benchmark(tmp_path, test="a\ts\tc\na\ts\n")
    with pytest.raises(KGFormatError, match=r"test\.txt, line 2"):
        load_benchmark(d)
    (d / "msg.txt").unlink()
    with pytest.raises(KGFormatError, match="missing msg.txt"):
        load_benchmark(d)
    with pytest.raises(KGFormatError, match="no such data folder"):
        load_benchmark(tmp_path / "nothing")


def raw_rows(path: Path) -> list[list[str]]:
    return [ln.split("\t") for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["NL-100", "WK-100"])
def test_real_benchmark(benchmark_dir, name):
    d = benchmark_dir(name)
    ds = load_benchmark(d)
    msg = raw_rows(d / "msg.txt")
    assert ds.inference.num_triples + ds.inference.num_duplicates == len(msg)
    assert ds.inference.entities[0] == msg[0][0] and ds.inference.entities[1] == msg[0][2]
    assert ds.inference.relations[0] == msg[0][1]
    assert set(ds.inference.string_triples()) == {tuple(r) for r in msg}
    train = raw_rows(d / "train.txt")
    assert ds.train.num_triples + ds.train.num_duplicates == len(train)
    for split in ("valid", "test"):
        rows = raw_rows(d / f"{split}.txt")
        ids = ds.split(split)
        assert ids.shape == (len(rows), 3)
        inf = ds.inference
        assert [(inf.entities[h], inf.relations[r], inf.entities[t]) for h, r, t in ids.tolist()] == [
            tuple(r) for r in rows
        ]
    # inductive sets: the inference graph's entities are new
    assert not set(ds.inference.entities) & set(ds.train.entities)


def test_real_fb_has_no_train(benchmark_dir):
    d = benchmark_dir("FB-100")
    ds = load_benchmark(d)
    assert not (d / "train.txt").exists() and ds.train is None
    assert ds.inference.num_triples > 0 and len(ds.test) > 0
    assert np.all(ds.test[:, [0, 2]] < ds.inference.num_entities)


def test_benchmark_size_cap_and_unknown_relation(tmp_path):
    d = make_benchmark(tmp_path, test="a\tnew relation\tc\n")
    with pytest.raises(KGFormatError, match="more than 2 triples") as info:
        load_benchmark(d, max_triples=2)
    assert info.value.source == str(d / "msg.txt") and info.value.line == 3
    with pytest.raises(KGFormatError, match="relation 'new relation'") as info:
        load_benchmark(d)
    assert info.value.source == str(d / "test.txt") and info.value.line == 1


def test_fingerprint_is_content():
    from kgviz.catalog import builtin_kg
    from kgviz.graph.whatif import edited_kg

    lecture = builtin_kg()
    assert lecture.fingerprint == builtin_kg().fingerprint
    assert lecture.fingerprint != edited_kg(lecture, "add", ("a", "b", "c")).fingerprint
    same_triples_other_ids = from_triples([("b", "r", "c"), ("a", "r", "b")], entities=["a", "b", "c"])
    assert same_triples_other_ids.fingerprint != from_triples([("b", "r", "c"), ("a", "r", "b")]).fingerprint
    renamed = from_triples([("a", "r", "b"), ("b", "r", "c")])
    assert renamed.fingerprint != from_triples([("a", "r", "b"), ("b", "s", "c")]).fingerprint
