"""kgviz.models.ingram.checkpoint: the authors' layout, our round trip, and refusal of bad files."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SMALL_CONFIG, randomize

import kgviz.models.ingram.checkpoint as ckpt
from kgviz.models.ingram.checkpoint import (
    CheckpointError,
    load_checkpoint,
    parameter_bytes,
    save_checkpoint,
    validate_config,
)
from kgviz.models.ingram.network import InGram, InGramConfig

AUTHOR_KEYS = [
    "learning_rate",
    "dimension_entity",
    "dimension_relation",
    "num_layer_ent",
    "num_layer_rel",
    "hidden_dimension_ratio_entity",
    "hidden_dimension_ratio_relation",
    "num_bin",
    "num_head",
    "margin",
    "num_neg",
    "num_epoch",
    "validation_epoch",
]


def authors_checkpoint(root: Path) -> tuple[Path, InGram]:
    """A folder as the authors' code writes it: config.json (their option names + extras) and a .ckpt."""
    d = root / "ckpt" / "exp" / "NL-100"
    d.mkdir(parents=True)
    cfg = SMALL_CONFIG.to_dict()
    assert sorted(cfg) == sorted(AUTHOR_KEYS)
    cfg |= {"data_name": "NL-100", "exp": "exp", "data_path": "./data/", "no_write": False}
    (d / "config.json").write_text(json.dumps(cfg))
    model = randomize(InGram.from_config(SMALL_CONFIG), 1)
    opt = torch.optim.Adam(model.parameters(), lr=SMALL_CONFIG.learning_rate)
    model.ent_proj1.weight.sum().backward()
    opt.step()
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "inf_emb_ent": torch.randn(5, 8),
            "inf_emb_rel": torch.randn(4, 8),
        },
        d / "NL-100_best.ckpt",
    )
    return d, model


def assert_same_parameters(a: InGram, b: InGram):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_authors_layout(tmp_path, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(ckpt.torch, "load", spy)
    d, model = authors_checkpoint(tmp_path)
    for path in (d, d / "NL-100_best.ckpt"):
        loaded, config, rest = load_checkpoint(path)
        assert config == SMALL_CONFIG  # data_name, exp … ignored
        assert_same_parameters(loaded, model)
        assert not loaded.training
        assert set(rest) == {"optimizer_state_dict", "inf_emb_ent", "inf_emb_rel"}
        assert rest["inf_emb_ent"].shape == (5, 8)
    assert calls == [True, True]


def test_config_at_another_path(tmp_path):
    d, model = authors_checkpoint(tmp_path)
    other = tmp_path / "elsewhere.json"
    (d / "config.json").rename(other)
    with pytest.raises(CheckpointError, match="missing config.json"):
        load_checkpoint(d)
    loaded, _, _ = load_checkpoint(d / "NL-100_best.ckpt", config_path=other)
    assert_same_parameters(loaded, model)


def test_save_then_load_strict(tmp_path):
    model = randomize(InGram.from_config(SMALL_CONFIG), 2)
    path = save_checkpoint(tmp_path / "run", model, SMALL_CONFIG, extra={"epoch": 7})
    assert path == tmp_path / "run" / "model.ckpt"
    assert sorted(json.loads((tmp_path / "run" / "config.json").read_text())) == sorted(AUTHOR_KEYS)
    raw = torch.load(path, weights_only=True)
    fresh = InGram.from_config(SMALL_CONFIG)
    fresh.load_state_dict(raw["model_state_dict"], strict=True)
    assert_same_parameters(fresh, model)
    loaded, config, rest = load_checkpoint(tmp_path / "run")
    assert config == SMALL_CONFIG and rest == {"epoch": 7}
    assert_same_parameters(loaded, model)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "model.ckpt"]  # no temp files


def test_bare_state_dict_accepted(tmp_path):
    model = randomize(InGram.from_config(SMALL_CONFIG), 3)
    save_checkpoint(tmp_path, model, SMALL_CONFIG)
    torch.save(model.state_dict(), tmp_path / "model.ckpt")
    assert_same_parameters(load_checkpoint(tmp_path)[0], model)


# -- refused files: CheckpointError naming the file -------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model = randomize(InGram.from_config(SMALL_CONFIG), 4)
    return save_checkpoint(tmp_path / "run", model, SMALL_CONFIG)


def refused(path, match, **kwargs) -> str:
    with pytest.raises(CheckpointError, match=match) as info:
        load_checkpoint(path, **kwargs)
    msg = str(info.value)
    assert "Traceback" not in msg
    return msg


def test_corrupt_file(saved):
    saved.write_bytes(bytes(range(256)) * 40)
    assert str(saved) in refused(saved.parent, "cannot be read")


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    assert str(saved) in refused(saved, "cannot be read")


class _Payload:
    """Unpickling this calls open(path, "w"): it creates a file. A safe loader must not run it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_with_code_is_refused_not_run(saved, tmp_path):
    marker = tmp_path / "marker"
    torch.save({"model_state_dict": {"ent_proj1.weight": _Payload(marker)}}, saved)
    msg = refused(saved.parent, "holds pickled Python code or objects other than tensors.*will not load")
    assert str(saved) in msg and "io.open" in msg and "weights_only" not in msg
    assert not marker.exists()
    # the payload does work when unpickled without weights_only: the check above can fail
    torch.load(saved, weights_only=False)
    assert marker.exists()


def test_missing_config(saved):
    (saved.parent / "config.json").unlink()
    assert "config.json" in refused(saved.parent, "missing config.json")


def test_bad_config_json(saved):
    cfg = saved.parent / "config.json"
    cfg.write_text("{not json")
    refused(saved.parent, "not valid JSON")
    cfg.write_text("[1, 2]")
    refused(saved.parent, "JSON object")
    cfg.write_text(json.dumps(SMALL_CONFIG.to_dict() | {"num_head": 3}))
    refused(saved.parent, "impossible model")


def test_mismatched_shapes(saved):
    cfg = saved.parent / "config.json"
    cfg.write_text(json.dumps(SMALL_CONFIG.to_dict() | {"dimension_entity": 16}))
    msg = refused(saved.parent, "do not match config.json")
    assert str(saved) in msg and "ent_proj1.weight" in msg


def test_missing_and_extra_keys(saved):
    state = torch.load(saved, weights_only=True)
    del state["model_state_dict"]["rel_proj.bias"]
    torch.save(state, saved)
    refused(saved, "do not match")
    torch.save({"optimizer_state_dict": {}}, saved)
    refused(saved, "no 'model_state_dict'")
    torch.save([1, 2, 3], saved)
    refused(saved, "expected a dict")


def test_nan_weights(saved):
    state = torch.load(saved, weights_only=True)
    state["model_state_dict"]["rel_proj.weight"][0, 0] = float("nan")
    torch.save(state, saved)
    refused(saved, "NaN")


def test_no_or_several_checkpoint_files(saved):
    refused(saved.parent / "absent", "no such file")
    saved.unlink()
    refused(saved.parent, "no checkpoint file")
    for name in ("a.pt", "b.ckpt"):
        (saved.parent / name).write_bytes(b"x")
    refused(saved.parent, "several checkpoint files")


@pytest.mark.parametrize("weights", [[1, 2], "weights", {"ent_proj1.weight": 3}])
def test_state_dict_that_is_not_tensors(saved, weights):
    # once escaped as a TypeError (a traceback in the CLI)
    torch.save({"model_state_dict": weights}, saved)
    refused(saved, "not a dict of tensors")


# -- config.json checked before a model is built ----------------------------------------------


@pytest.mark.parametrize(
    "change, words",
    [
        ({"dimension_entity": 10**9}, "dimension_entity = 1000000000 is out of range"),
        ({"num_head": 0}, "num_head = 0 is out of range"),
        ({"learning_rate": float("nan")}, "learning_rate = nan is out of range"),
        ({"margin": float("inf")}, "margin = inf is out of range"),
        ({"num_layer_ent": "2"}, 'num_layer_ent must be an integer, found "2"'),
        ({"num_bin": 4.5}, "num_bin must be an integer, found 4.5"),
        ({"num_head": True}, "num_head must be an integer, found true"),
        ({"learning_rate": None}, "learning_rate must be a number, found null"),
        ({"num_head": 3}, "impossible model"),  # hidden sizes not divisible by 3 heads
        ({"dimension_entity": 65_536, "hidden_dimension_ratio_entity": 1024}, "GiB of parameters"),
    ],
)
def test_config_values_checked(saved, change, words):
    (saved.parent / "config.json").write_text(json.dumps(SMALL_CONFIG.to_dict() | change))
    msg = refused(saved.parent, re.escape(words), config_source="my config.json")
    assert msg.startswith("my config.json: ")


def test_config_missing_model_keys_refused_training_keys_defaulted(saved):
    cfg = SMALL_CONFIG.to_dict()
    (saved.parent / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "num_bin"}))
    refused(saved.parent, "missing option num_bin")
    (saved.parent / "config.json").write_text(json.dumps({"num_epoch": 3}))
    refused(saved.parent, "missing options dimension_entity, dimension_relation")
    (saved.parent / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "learning_rate"}))
    assert load_checkpoint(saved.parent)[1].learning_rate == InGramConfig().learning_rate


@pytest.mark.parametrize(
    "text, words",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),  # nesting deeper than the parser's recursion
        ('{"num_bin": ' + "9" * 5000 + "}", "not valid JSON"),  # longer than int()'s digit limit
    ],
)
def test_config_that_is_not_a_json_object(saved, text, words):
    (saved.parent / "config.json").write_text(text)
    assert refused(saved.parent, words, config_source="upload.json").startswith("upload.json: ")


def test_config_not_utf8(saved):
    (saved.parent / "config.json").write_bytes(b"\xff\xfe{\x00}\x00")
    refused(saved.parent, "not a JSON text file")


def test_validate_config_and_parameter_bytes():
    config = validate_config(SMALL_CONFIG.to_dict() | {"data_name": "NL-100"}, "c.json")
    assert config == SMALL_CONFIG
    model = InGram.from_config(SMALL_CONFIG)
    assert parameter_bytes(SMALL_CONFIG) == 4 * sum(p.numel() for p in model.parameters())
    with pytest.raises(CheckpointError, match="^c.json: expected a JSON object"):
        validate_config([1], "c.json")


def test_source_names_the_uploaded_files(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 3])
    msg = refused(saved.parent, "truncated", source="mine.pt", config_source="mine.json")
    assert msg.startswith("mine.pt: ") and str(saved) not in msg
    saved.write_bytes(data)
    (saved.parent / "config.json").write_text(json.dumps(SMALL_CONFIG.to_dict() | {"dimension_entity": 16}))
    assert refused(saved.parent, "do not match mine.json", source="mine.pt", config_source="mine.json").startswith(
        "mine.pt: "
    )


def test_parameter_bytes_draws_nothing_and_imports_no_compiler():
    """Counting on the meta device must not import torch._dynamo (seconds on the app's first screen)."""
    code = (
        "import sys\n"
        "from kgviz.models.ingram.checkpoint import parameter_bytes\n"
        "from kgviz.config import InGramConfig\n"
        "print(parameter_bytes(InGramConfig()), 'torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    model = InGram.from_config(InGramConfig())
    assert out == [str(4 * sum(p.numel() for p in model.parameters())), "False"]
