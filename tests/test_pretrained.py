"""Shipped checkpoints: loadable in the authors' layout, and their metrics.json reproducible."""
import json
import os
from pathlib import Path

import pytest
import torch

from kgviz.checkpoint import load_checkpoint
from kgviz.data import load_benchmark
from kgviz.draws import stored_features
from kgviz.evaluation import evaluate

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(d for d in (ROOT / "pretrained").glob("*") if (d / "config.json").is_file())


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
