"""What `kgviz adapt` gains on a KG: a model fine-tuned on a benchmark's ``msg.txt`` against itself zero-shot.

    OMP_NUM_THREADS=1 python scripts/adapt_figure.py --data $KGVIZ_DATA/FB-100 --seconds 120 [--parts P --lr LR]

Runs ``kgviz adapt --data DIR`` (fine-tuning on ``msg.txt`` only, less the facts it holds out to keep its best
state; the queries are never seen), then
``kgviz transfer`` on the test split for the starting and the adapted model (ensemble of 10 draws,
100–109, raw and with both constraints), and records the run in ``docs/adapt.json`` (one entry per
data set, starting model and setting; a rerun replaces its entry), which ``scripts/transfer_tables.py``
puts into docs/transfer.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.cli.parser import main as kgviz
from kgviz.models.pretrained import default_checkpoint
from kgviz.training.release import write_json
from kgviz.evaluation.transfer import transfer

ROOT = Path(__file__).resolve().parents[1]


def figures(checkpoint: Path, data: Path) -> dict:
    result = transfer([checkpoint], [data], seeds=[100], ensemble=10, baselines=False, untrained=False, progress=False)
    rows = {r["constraints"]: r["metrics"]["MRR"] for r in result["results"][0]["rows"]}
    return {"raw": rows["none"], "both": rows["both constraints"], "seeds": result["ensemble_seeds"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", default=None, help="default: the app's default model")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--parts", default=None, help="default: kgviz adapt's")
    p.add_argument("--lr", type=float, default=None, help="default: kgviz adapt's")
    p.add_argument("--out", default="runs/adapted")
    p.add_argument("--json", default=str(ROOT / "docs" / "adapt.json"))
    args = p.parse_args()
    start = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    data = Path(args.data)
    argv = [
        "adapt",
        "--data",
        str(data),
        "--checkpoint",
        str(start),
        "--out",
        args.out,
        "--seconds",
        f"{args.seconds:g}",
        "--threads",
        "1",
        "--no-progress",
    ]
    argv += ["--parts", args.parts] if args.parts else []
    argv += ["--lr", f"{args.lr:g}"] if args.lr else []
    if kgviz(argv) != 0:
        raise SystemExit("kgviz adapt failed")
    _, _, extra = load_checkpoint(args.out)
    zero, adapted = figures(start, data), figures(Path(args.out), data)
    name = f"pretrained/{start.name}" if start.parent.name == "pretrained" else str(start)
    out = {
        "data": data.name,
        "checkpoint": name,
        "command": f"kgviz adapt --data $KGVIZ_DATA/{data.name} --checkpoint {name} --seconds {args.seconds:g}",
        "steps": extra["adapted"]["steps"],
        "seconds": extra["adapted"]["seconds"],
        "ensemble": 10,
        "seeds": zero.pop("seeds"),
        "zero_shot": zero,
        "adapted": {k: adapted[k] for k in ("raw", "both")},
        "parts": extra["adapted"]["parts"],
        "learning_rate": extra["adapted"]["learning_rate"],
        "rule": "best state on held-out msg facts, never worse than the start there",
        "improved": extra["adapted"]["improved"],
        "held_out": extra["adapted"]["held_out"],
        "held_out_mrr_start": extra["adapted"]["held_out_mrr_start"]["both constraints"],
        "held_out_mrr_kept": extra["adapted"]["held_out_mrr_kept"]["both constraints"],
    }
    path = Path(args.json)
    runs = json.loads(path.read_text(encoding="utf-8"))["runs"] if path.is_file() else []
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    same = lambda r: all(r.get(k) == out[k] for k in ("data", "checkpoint", "parts", "learning_rate", "rule"))  # noqa: E731
    write_json(path, doc | {"runs": [r for r in runs if not same(r)] + [out]})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
