"""A hostile-input corpus: KG files and checkpoints a careless or malicious user may hand kgviz.

Each case writes its file(s) into a folder (large ones are generated on the fly, never stored in
the repository) and states what kgviz must do with it: load it, or refuse it with a message that
names the file and, where there is one, the line. Used by ``test_hostile_inputs.py`` (the library)
and ``test_hostile_upload.py`` (the app's upload widgets).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kgviz.models.ingram.network import InGram, InGramConfig

# Names a careful UI must escape; the library keeps them verbatim.
HTML_NAMES = ('<script>alert("kg")</script>', "<img src=x onerror=alert(1)>", "a & b \"quoted\" 'single'")
RTL_NAMES = ("\u202eevil\u202c", "\u05e9\u05dc\u05d5\u05dd\u200f", "مرحبا", "e\u0301\u200d👩‍🔬", "\u2066x\u2069")
PAYLOAD_MARKER = "payload-ran"  # the file a pickled payload would create, beside the checkpoint


@dataclass(frozen=True)
class KGCase:
    """A KG file. ``words`` is ``None`` when it must load, else words of the refusal."""

    name: str
    content: Callable[[], bytes]
    words: str | None = None
    line: int | None = None
    triples: int | None = None  # how many (distinct) triples it loads with

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        path.write_bytes(self.content())
        return path


@dataclass(frozen=True)
class ModelCase:
    """A checkpoint + config.json pair. ``blame``: which of the two a refusal names."""

    name: str  # the checkpoint's file name; the config is <stem>.json
    build: Callable[[Path, Path], None]  # writes (checkpoint path, config path)
    words: str | None = None
    blame: str = "checkpoint"
    config_name: str = field(default="")

    def write(self, folder: Path) -> tuple[Path, Path]:
        ckpt = folder / self.name
        config = folder / (self.config_name or f"{Path(self.name).stem}.json")
        self.build(ckpt, config)
        return ckpt, config


def _text(s: str) -> Callable[[], bytes]:
    return lambda: s.encode("utf-8")


def _raw(b: bytes) -> Callable[[], bytes]:
    return lambda: b


def _huge_line() -> bytes:
    return b"a\tr\tb\nc\tr\t" + b"x" * 10_000_000 + b"\n"


def _three_million_lines() -> bytes:
    return b"a\tr\tb\n" * 3_000_000  # 18 MB: under the app's upload size limit, over every triple cap


KG_CASES: list[KGCase] = [
    KGCase("ok-basic.tsv", _text("Alice\tknows\tBob\nBob\tlikes\tCarol\nCarol\tknows\tAlice\n"), triples=3),
    KGCase("binary.tsv", _raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "binary", 3),
    KGCase("nul-bytes.tsv", _raw(b"a\tr\tb\nc\tr\td\ne\tr\x00\tf\n"), "NUL byte", 3),
    KGCase("latin1.tsv", _raw("a\tr\tb\ncaf\u00e9\tr\td\n".encode("latin-1")), "not valid UTF-8", 2),
    KGCase("utf16.tsv", _raw("a\tr\tb\n".encode("utf-16")), "UTF-16", 1),
    KGCase("bom-crlf.tsv", _raw(b"\xef\xbb\xbfa\tr\tb\r\nb\tr\tc\r\n\r\nc\ts\ta\r\n"), triples=3),
    KGCase("lone-cr.tsv", _raw(b"a\tr\tb\rb\tr\tc\r"), triples=2),
    KGCase("two-columns.tsv", _text("a\tr\tb\nc\td\n"), "found 2", 2),
    KGCase("four-columns.tsv", _text("a\tr\tb\nc\tr\td\ne\tr\tf\tg\n"), "found 4", 3),
    KGCase("empty-field.tsv", _text("a\tr\tb\nc\t\td\n"), "empty relation", 2),
    KGCase("blank-unicode-name.tsv", _text("a\tr\tb\n\u00a0\u3000\tr\tc\n"), "empty head", 2),
    KGCase("empty.tsv", _text(""), "empty"),
    KGCase("only-comments.tsv", _text("# nothing\n\n# here\n"), "no triples"),
    KGCase("header-only.csv", _text("head,relation,tail\n"), "header row but no triples", 1),
    KGCase("unclosed-quote.csv", _text('a,r,b\nc,"r,d\ne",f,g\n'), "not closed", 2),
    KGCase("bad-quote.csv", _text('a,r,b\nc,"r"x,d\n'), "malformed CSV", 2),
    KGCase("huge-line.tsv", _huge_line, "characters", 2),
    KGCase("three-million-lines.tsv", _three_million_lines, "more than", None),
    KGCase(
        "unicode-rtl.tsv",
        _text("".join(f"{RTL_NAMES[i]}\t\u200frel\u200e\t{RTL_NAMES[i + 1]}\n" for i in range(len(RTL_NAMES) - 1))),
        triples=len(RTL_NAMES) - 1,
    ),
    KGCase("line-separators.tsv", _text("a\u2028b\tr\u0085s\tc\u2029d\x0ce\n"), triples=1),
    KGCase(
        "html-js.tsv",
        _text(f"{HTML_NAMES[0]}\t<b>rel</b>\t{HTML_NAMES[1]}\n{HTML_NAMES[1]}\tjavascript:alert(1)\t{HTML_NAMES[2]}\n"),
        triples=2,
    ),
    KGCase("html-js.csv", _text('head,relation,tail\n"<script>x</script>","a, b",c\n'), triples=1),
    KGCase("duplicates.tsv", _text("a\tr\tb\n" * 50 + "b\tr\tc\n"), triples=2),
    KGCase("self-loops.tsv", _text("a\tr\ta\nb\tr\tb\na\ts\tb\n"), triples=3),
    KGCase("one-triple.tsv", _text("a\tr\tb\n"), triples=1),
    KGCase("one-relation.tsv", _text("".join(f"e{i}\tsame\te{(i * 7) % 40}\n" for i in range(40))), triples=40),
    KGCase("self-loop-only.tsv", _text("x\tr\tx\n"), triples=1),
    KGCase("long-names.tsv", _text(f"{'n' * 60_000}\tr\tb\n"), triples=1),
]

# A small model: every case below builds and loads in well under a second.
SMALL = dict(
    InGramConfig(
        dimension_entity=8,
        dimension_relation=8,
        hidden_dimension_ratio_entity=2,
        hidden_dimension_ratio_relation=2,
        num_bin=4,
        num_head=2,
    ).to_dict()
)


class _Payload:
    """Unpickling this calls ``open(path, "w")``, creating the file: a safe loader never does."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _good_state() -> dict:
    torch.manual_seed(0)
    return {"model_state_dict": InGram.from_config(InGramConfig.from_dict(SMALL)).state_dict()}


def _model(
    config: dict | str | bytes = SMALL,
    state: Callable[[Path], object] | None = None,
    ckpt_bytes: Callable[[bytes], bytes] | None = None,
) -> Callable[[Path, Path], None]:
    """A builder: ``config`` (a dict, or raw text/bytes), ``state(folder)`` saved with torch
    (default a good one), then ``ckpt_bytes`` applied to the saved bytes."""

    def build(ckpt: Path, config_path: Path) -> None:
        raw = json.dumps(config) if isinstance(config, dict) else config
        config_path.write_bytes(raw.encode() if isinstance(raw, str) else raw)
        torch.save(_good_state() if state is None else state(ckpt.parent), ckpt)
        if ckpt_bytes is not None:
            ckpt.write_bytes(ckpt_bytes(ckpt.read_bytes()))

    return build


def _nan_state(_: Path) -> dict:
    state = _good_state()
    next(iter(state["model_state_dict"].values())).view(-1)[0] = float("nan")
    return state


MODEL_CASES: list[ModelCase] = [
    ModelCase("ok.ckpt", _model()),
    ModelCase("authors-extras.pt", _model(SMALL | {"data_name": "NL-100", "exp": "x", "no_write": False})),
    ModelCase(
        "pickled-code.ckpt",
        _model(state=lambda d: {"model_state_dict": {"w": _Payload(d / PAYLOAD_MARKER)}}),
        "pickled Python code",
    ),
    ModelCase(
        "plain-pickle.pt", _model(ckpt_bytes=lambda _: pickle.dumps(_Payload(Path("/nonexistent/x")))), "cannot be read"
    ),
    ModelCase("truncated.ckpt", _model(ckpt_bytes=lambda b: b[: len(b) // 2]), "truncated"),
    ModelCase("random-bytes.pth", _model(ckpt_bytes=lambda b: bytes(range(256)) * 64), "cannot be read"),
    ModelCase("empty.ckpt", _model(ckpt_bytes=lambda b: b""), "cannot be read"),
    ModelCase("nan-weights.ckpt", _model(state=_nan_state), "NaN"),
    ModelCase("not-a-dict.ckpt", _model(state=lambda d: [1, 2, 3]), "expected a dict"),
    ModelCase("wrong-shapes.ckpt", _model(SMALL | {"dimension_entity": 16}), "do not match"),
    ModelCase("absurd-dimension.ckpt", _model(SMALL | {"dimension_entity": 10**9}), "out of range", "config"),
    ModelCase(
        "too-big.ckpt",
        _model(SMALL | {"dimension_entity": 65_536, "hidden_dimension_ratio_entity": 1024}),
        "GiB of parameters",
        "config",
    ),
    ModelCase("missing-keys.ckpt", _model({"learning_rate": 0.001}), "missing options", "config"),
    ModelCase("not-json.ckpt", _model("{'dimension_entity': 32,"), "not valid JSON", "config"),
    ModelCase("binary-config.ckpt", _model(b"\x00\xff\xfe\x00"), "not a JSON text", "config"),
    ModelCase("nan-config.ckpt", _model(json.dumps(SMALL).replace("0.0005", "NaN")), "out of range", "config"),
    ModelCase("string-config.ckpt", _model(SMALL | {"num_head": "2"}), "must be an integer", "config"),
    ModelCase("list-config.ckpt", _model("[1, 2, 3]"), "expected a JSON object", "config"),
    ModelCase("indivisible-heads.ckpt", _model(SMALL | {"num_head": 3}), "impossible model", "config"),
]
