"""Shipped checkpoints: loadable in the authors' layout, and their metrics.json reproducible."""

import json
import os
from pathlib import Path

import pytest
import torch

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.draws import stored_features
from kgviz.evaluation.benchmark import evaluate

ROOT = Path(__file__).resolve().parents[1]
UNIVERSAL = ROOT / "pretrained" / "universal"  # trained on all training graphs: its own layout of metrics.json
SHIPPED = sorted(d for d in (ROOT / "pretrained").glob("*") if (d / "config.json").is_file() and d != UNIVERSAL)
needs_universal = pytest.mark.skipif(
    not (UNIVERSAL / "config.json").is_file(), reason="pretrained/universal not shipped"
)


def test_some_weights_are_shipped():
    assert SHIPPED, "pretrained/ holds no model folder"


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda d: d.name)
def test_layout_and_card(folder):
    files = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.ckpt", "metrics.json", "README.md"} <= files
    state = torch.load(folder / "model.ckpt", weights_only=True, map_location="cpu")
    assert "model_state_dict" in state
    card = (folder / "README.md").read_text()
    assert "CC BY-NC-SA" in card and "python -m kgviz train" in card
    metrics = json.loads((folder / "metrics.json").read_text())
    for split in ("valid", "test"):
        assert len(metrics[split]["per_seed"]) >= 5 and "ensemble" in metrics[split]
    # reported draws are not the ones that chose the weights (those figures would be optimistic)
    _, _, extra = load_checkpoint(folder)
    chosen_by = set(extra.get("valid_seeds") or [0, 1, 2])
    for split in ("valid", "test"):
        reported = {int(s) for s in metrics[split]["per_seed"]} | set(metrics[split]["ensemble"]["seeds"])
        assert not reported & chosen_by, f"{split} figures reuse selection draws {sorted(reported & chosen_by)}"
    # the stored draw (authors' inf_emb_ent/inf_emb_rel) was chosen on valid, among draws apart from the reported
    stored = metrics["stored_draw"]
    assert extra["inf_emb_seed"] == stored["seed"] in stored["pool"] and extra["inf_emb_data"] == metrics["data"]
    assert not set(stored["pool"]) & {int(s) for s in metrics["test"]["per_seed"]}
    assert "stored in `model.ckpt`" in card


@pytest.mark.slow
@pytest.mark.parametrize("folder", SHIPPED, ids=lambda d: d.name)
def test_metrics_json_is_reproducible(folder):
    data_root = os.environ.get("KGVIZ_DATA")
    metrics = json.loads((folder / "metrics.json").read_text())
    data_dir = Path(data_root or "") / metrics["data"]
    if not data_root or not (data_dir / "msg.txt").is_file():
        pytest.skip(f"KGVIZ_DATA does not hold {metrics['data']}")
    model, _, extra = load_checkpoint(folder)
    data = load_benchmark(data_dir)
    seeds = [int(s) for s in metrics["test"]["per_seed"]][:2]
    stored = stored_features(extra, model, data.inference, source=str(folder))
    result = evaluate(model, data, "test", seeds=seeds, device="cpu", stored=stored)
    for s in seeds:
        assert result["per_seed"][str(s)]["MRR"] == pytest.approx(metrics["test"]["per_seed"][str(s)]["MRR"], abs=0.01)
    assert result["stored_draw"]["metrics"]["MRR"] == pytest.approx(metrics["stored_draw"]["test"]["MRR"], abs=0.01)


@needs_universal
def test_universal_layout_and_card():
    model, config, extra = load_checkpoint(UNIVERSAL)  # the authors' layout, strict=True
    card = (UNIVERSAL / "README.md").read_text()
    assert "CC BY-NC-SA" in card and "python -m kgviz train" in card and "--init-from" in card
    metrics = json.loads((UNIVERSAL / "metrics.json").read_text())
    assert metrics["config"] == config.to_dict()
    assert len(metrics["procedure"]["graphs"]) == 9 and not any(
        g.startswith("FB") for g in metrics["procedure"]["graphs"]
    )
    # the draws that chose the weights are apart from the held-out and the reported ones
    chosen_by = set(extra["valid_seeds"])
    assert not chosen_by & set(metrics["holdout"]["seeds"])
    for row in metrics["zero_shot"].values():
        assert not chosen_by & set(row["seeds"]) and len(row["seeds"]) == row["ensemble"] == 10
        assert 0 < row["raw"] <= 1 and 0 < row["both"] <= 1
        assert f"{row['raw']:.3f} raw" in card


@pytest.mark.slow
@needs_universal
def test_universal_metrics_are_reproducible():
    from kgviz.evaluation.transfer import transfer

    data_root = os.environ.get("KGVIZ_DATA")
    metrics = json.loads((UNIVERSAL / "metrics.json").read_text())
    for name, row in metrics["zero_shot"].items():
        data_dir = Path(data_root or "") / name
        if not data_root or not (data_dir / "msg.txt").is_file():
            pytest.skip(f"KGVIZ_DATA does not hold {name}")
        result = transfer(
            [UNIVERSAL],
            [data_dir],
            seeds=row["seeds"][:1],
            ensemble=row["ensemble"],
            baselines=False,
            untrained=False,
            progress=False,
        )
        got = {r["constraints"]: r["metrics"]["MRR"] for r in result["results"][0]["rows"]}
        assert got["none"] == pytest.approx(row["raw"], abs=0.01)
        assert got["both constraints"] == pytest.approx(row["both"], abs=0.01)
