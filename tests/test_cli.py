"""kgviz.cli.parser: ``python -m kgviz`` subcommands, output, and exit codes on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SMALL_CONFIG, randomize

from kgviz.models.ingram.checkpoint import save_checkpoint
from kgviz.cli.parser import main
from kgviz.graph.data import read_kg
from kgviz.models.ingram.predictor import Predictor
from kgviz.ranking.ranks import rank_query
from kgviz.models.ingram.network import InGram

ROOT = Path(__file__).resolve().parents[1]
# The relation graph's hand example of tests/test_relgraph.py: A[q, q⁻¹] = 4/9 is the strongest pair.
HAND_TSV = "a\tp\tb\na\tp\tb\na\tq\tc\nc\tq\tc\nb\tq\td\n"


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kgviz", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def kg_file(tmp_path) -> Path:
    path = tmp_path / "hand.tsv"
    path.write_text(HAND_TSV, encoding="utf-8")
    return path


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    model = randomize(InGram.from_config(SMALL_CONFIG), 0)
    save_checkpoint(tmp_path / "ckpt", model, SMALL_CONFIG)
    return tmp_path / "ckpt"


def select_argv(run, data, *rest: str) -> list[str]:
    """`kgviz select` on ``run`` trained on ``data``, then ``rest``."""
    return ["select", "--run", str(run), "--data", str(data), *rest]


def test_help_lists_subcommands():
    out = run_module("--help")
    assert out.returncode == 0
    for cmd in ("relgraph", "predict", "train", "select", "evaluate"):
        assert cmd in out.stdout


def test_relgraph_prints_pairs(kg_file, capsys):
    # The file's duplicate (a, p, b) is dropped on reading, so degrees are a 2, b 2, c 3, d 1 and
    # (by hand, as in test_relgraph): A[q, q⁻¹] = 2/9 + 2/9 (c as head and as tail) = 0.4444;
    # A[p, q] = 1/4 (a as head), A[p, q⁻¹] = 1/4 (b as tail), … Edges: 4 diagonal + 10 off-diagonal.
    # Ranks: q,q⁻¹ diagonals (2.06) k=1,2; p,p⁻¹ diagonals (0.5) k=3,4; (q, q⁻¹), (q⁻¹, q) k=5,6;
    # the eight 1/4 edges k=7..14 in row-major order: (p, q) k=7 → bin ceil(28/14)−1 = 1, (p, q⁻¹) k=8 → 2.
    assert main(["relgraph", "--kg", str(kg_file), "--num-bin", "4", "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "4 relations" in out[0] and "14 edges" in out[0] and "1 duplicate" in out[0]
    assert [line.split() for line in out[2:]] == [
        ["q", "q⁻¹", "0.4444", "1"],
        ["p", "q", "0.2500", "1"],
        ["p", "q⁻¹", "0.2500", "2"],
    ]


def test_predict_prints_ranked_table(kg_file, checkpoint, capsys):
    args = [
        "predict",
        "--checkpoint",
        str(checkpoint),
        "--kg",
        str(kg_file),
        "--head",
        "a",
        "--relation",
        "p",
        "--top-k",
        "3",
        "--seeds",
        "2",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("(a, p, ?)") and "mean of 2 draw(s), seeds 0–1" in out[0]
    assert "constraints: own entity last, known side first" in out[0]
    assert out[1].startswith("defaults used (kgviz.defaults): constraints")  # not the model, not the draws
    assert out[2].split()[:4] == ["rank", "entity", "prob.", "score"]
    rows = [line.split() for line in out[3:6]]
    model = randomize(InGram.from_config(SMALL_CONFIG), 0)
    expected = rank_query(Predictor(model, read_kg(kg_file), seeds=(0, 1), device="cpu"), "a", "p").candidates[:3]
    assert [r[:2] for r in rows] == [[str(c.rank), c.name] for c in expected]
    # relation-tail frequency of p: b once, a c d never (tied: rank 2 + ⌊2/2⌋ = 3)
    assert [r[6:8] for r in rows] == [["1", "(1×)"] if c.name == "b" else ["3", "(0×)"] for c in expected]
    assert out[6].startswith("prob.: softmax of the scores averaged over the draws")
    assert "relation-tail frequency" in out[7] and ("agrees" in out[7] or "differs" in out[7])
    assert [float(r[3]) for r in rows] == pytest.approx([c.score for c in expected], abs=1e-4)
    assert [float(r[2]) for r in rows] == pytest.approx([c.probability for c in expected], abs=1e-3)


def test_predict_heads_and_unknown_name(kg_file, checkpoint, capsys):
    base = ["predict", "--checkpoint", str(checkpoint), "--kg", str(kg_file), "--device", "cpu", "--seeds", "1"]
    assert main(base + ["--tail", "c", "--relation", "q"]) == 0
    assert capsys.readouterr().out.startswith("(?, q, c)")
    assert main(base + ["--tail", "c", "--relation", "qq"]) == 2
    assert "did you mean 'q'" in capsys.readouterr().err


def test_predict_needs_exactly_one_anchor(kg_file, checkpoint, capsys):
    base = ["predict", "--checkpoint", str(checkpoint), "--kg", str(kg_file), "--relation", "p"]
    for extra in ([], ["--head", "a", "--tail", "b"]):
        with pytest.raises(SystemExit) as info:
            main(base + extra)
        assert info.value.code == 2
        assert "--head" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_file_exit_code_2_no_traceback(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tr\tb\na\tr\n", encoding="utf-8")
    out = run_module("relgraph", "--kg", str(bad))
    assert out.returncode == 2
    assert f"{bad}, line 2" in out.stderr and "Traceback" not in out.stderr


def test_bad_checkpoint_and_unreadable_input(kg_file, tmp_path, capsys):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.ckpt").write_bytes(b"not a checkpoint")
    (tmp_path / "broken" / "config.json").write_text(json.dumps(SMALL_CONFIG.to_dict()))
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(tmp_path / "broken"),
                "--kg",
                str(kg_file),
                "--head",
                "a",
                "--relation",
                "p",
            ]
        )
        == 2
    )
    assert "model.ckpt" in capsys.readouterr().err
    assert main(["relgraph", "--kg", str(tmp_path / "missing.tsv")]) == 2
    assert "missing.tsv: no such file" in capsys.readouterr().err


def test_evaluate_on_a_tiny_benchmark(tmp_path, checkpoint, capsys):
    d = tmp_path / "toy"
    d.mkdir()
    (d / "msg.txt").write_text(HAND_TSV)
    (d / "valid.txt").write_text("a\tq\td\n")
    (d / "test.txt").write_text("b\tp\tc\nd\tq\ta\n")
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(checkpoint),
                "--data",
                str(d),
                "--seeds",
                "0",
                "1",
                "--device",
                "cpu",
                "--json",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "test split, 2 queries" in out and "MRR" in out and (tmp_path / "m.json").is_file()
    torch.set_num_threads(1)  # evaluate may change the process' settings; keep the suite single-threaded


@pytest.mark.slow
def test_train_with_snapshots_then_select(tmp_path, capsys):
    from kg_factory import write_benchmark

    data = write_benchmark(tmp_path / "TINY")
    run = tmp_path / "run"
    tiny = [
        "--dimension_entity",
        "8",
        "--dimension_relation",
        "8",
        "--hidden_dimension_ratio_entity",
        "2",
        "--hidden_dimension_ratio_relation",
        "2",
        "--num_head",
        "2",
        "--num_layer_ent",
        "1",
        "--num_layer_rel",
        "1",
        "--num_bin",
        "3",
        "--num_epoch",
        "6",
        "--validation_epoch",
        "3",
    ]
    assert (
        main(["train", "--data", str(data), "--out", str(run), "--threads", "1", "--no-progress", "--snapshots", *tiny])
        == 0
    )
    assert "done: 6 epochs" in capsys.readouterr().out
    assert sorted(p.name for p in (run / "snapshots").iterdir() if p.suffix == ".ckpt") == [
        "epoch_00003.ckpt",
        "epoch_00006.ckpt",
    ]
    assert main(select_argv(run, data, "--seeds", "0", "1", "2", "--threads", "1", "--no-progress")) == 0
    out = capsys.readouterr().out
    assert "selected epoch" in out and "mean of 3 draws" in out
    assert "on 30 held-out draws: valid MRR" in out  # default held-out draws 200…229
    snap = run / "snapshots" / "epoch_00003.ckpt"
    assert (
        main(
            select_argv(
                run,
                data,
                "--seeds",
                "0",
                "1",
                "--holdout",
                "5",
                "6",
                "--against",
                str(snap),
                "--threads",
                "1",
                "--no-progress",
            )
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "on 2 held-out draws" in out and "paired difference" in out and str(snap) in out
    assert main(select_argv(run, data, "--seeds", "0", "--holdout", "--threads", "1", "--no-progress")) == 0
    assert "held-out" not in capsys.readouterr().out
    assert main(select_argv(run, data, "--seeds", "0", "1", "--holdout", "1", "7", "--no-progress")) == 2
    assert "held-out draws [1] are also selection draws" in capsys.readouterr().err
    assert (
        main(
            ["select", "--run", str(run), "--data", str(data), "--against", str(tmp_path / "missing"), "--no-progress"]
        )
        == 2
    )
    assert "missing" in capsys.readouterr().err
    assert (
        main(["select", "--run", str(run), "--data", str(data), "--holdout", "--against", str(snap), "--no-progress"])
        == 2
    )
    assert "needs held-out draws" in capsys.readouterr().err
    assert main(["select", "--run", str(tmp_path / "nothing"), "--data", str(data), "--no-progress"]) == 2
    assert "no snapshots" in capsys.readouterr().err
    torch.set_num_threads(1)


def test_predict_raw_model_and_json(kg_file, checkpoint, tmp_path, capsys):
    """--raw orders by score alone; --model picks a registered scorer; --json writes what is printed."""
    base = ["predict", "--kg", str(kg_file), "--head", "a", "--relation", "p", "--device", "cpu"]
    out_file = tmp_path / "r.json"
    assert main(base + ["--checkpoint", str(checkpoint), "--seeds", "2", "--raw", "--json", str(out_file)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "constraints: none" in printed[0]
    doc = json.loads(out_file.read_text())
    assert set(doc) == {"query", "model", "settings", "candidates"}
    assert doc["query"] == {"anchor": "a", "relation": "p", "direction": "tail"} and doc["model"] == "ckpt"
    assert doc["settings"]["seeds"] == [0, 1] and doc["settings"]["exclude_self"] is False
    assert all(set(c) == {"rank", "name", "score", "marks"} and c["marks"] == [] for c in doc["candidates"])
    scores = [c["score"] for c in doc["candidates"]]
    assert scores == sorted(scores, reverse=True)  # raw: by score alone
    assert [c["name"] for c in doc["candidates"]] == [line.split()[1] for line in printed[3 : 3 + len(scores)]]
    # a counting baseline, constraints on: b is p's only tail; a (the anchor) is last, marked
    assert main(base + ["--model", "frequency", "--json", str(out_file)]) == 0
    doc = json.loads(out_file.read_text())
    assert doc["model"] == "relation-tail frequency" and doc["settings"]["seeds"] == []
    assert doc["candidates"][0]["name"] == "b" and doc["candidates"][-1]["name"] == "a"
    assert doc["candidates"][-1]["marks"] == ["own entity (excluded)"]
    assert all(c["marks"] == ["other side only"] for c in doc["candidates"][1:-1])
    assert main(base + ["--model", "no-such-model"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err
