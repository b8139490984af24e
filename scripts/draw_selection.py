"""How much choosing the feature draw on validation is worth: the authors' protocol, measured.

The authors' test.py scores the test split with the one draw saved at the best validation
(``inf_emb_ent`` / ``inf_emb_rel``, see ``kgviz/models/ingram/draws.py``). This script scores a checkpoint on
many fresh draws, valid and test, and prints

- the correlation of valid and test MRR over draws (does validation see which draws are good?),
- the mean test MRR of a random draw (the figure the issue's bars use),
- the expected test MRR / Hits@10 of the draw with the best valid MRR among k random draws
  (``kgviz.models.ingram.draws.expected_best_of``, exact over all k-subsets) for several k,
- the checkpoint's stored draw, when it holds one.

    python scripts/draw_selection.py --checkpoint pretrained/WK-100 --data $KGVIZ_DATA/WK-100 [--record]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kgviz.models.ingram.checkpoint import load_checkpoint
from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.draws import expected_best_of, has_stored_draw, stored_features
from kgviz.evaluation.benchmark import evaluate, selection_draws_reused
from kgviz.training.release import write_json


def per_draw(result: dict, seeds: list[int], key: str) -> np.ndarray:
    return np.array([result["per_seed"][str(s)][key] for s in seeds])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(range(200, 300)),
        help="fresh draws (default 200 … 299: none chose weights)",
    )
    p.add_argument("--k", type=int, nargs="+", default=[1, 5, 10, 30], help="pool sizes")
    p.add_argument(
        "--from-json",
        nargs=2,
        metavar=("VALID", "TEST"),
        help="per-seed figures already written by `evaluate --json` for the two splits",
    )
    p.add_argument("--json", help="write the table to this JSON file")
    p.add_argument(
        "--record",
        action="store_true",
        help="also keep the table in the checkpoint folder's metrics.json (`draw_selection`)",
    )
    args = p.parse_args()

    model, _, extra = load_checkpoint(args.checkpoint)
    data = load_benchmark(args.data)
    if args.from_json:
        valid, test = (json.loads(Path(f).read_text()) for f in args.from_json)
        seeds = [int(s) for s in valid["per_seed"] if s in test["per_seed"]]
    else:
        seeds = args.seeds
        valid, test = (evaluate(model, data, split, seeds=seeds, device="auto") for split in ("valid", "test"))
    reused = selection_draws_reused(extra, seeds)
    if reused:
        p.error(f"draws {reused} chose these weights; use fresh ones")
    if max(args.k) > len(seeds):
        p.error(f"pool size {max(args.k)} exceeds the {len(seeds)} draws measured")
    v_mrr = per_draw(valid, seeds, "MRR")
    rows = {}
    for k in args.k:
        rows[k] = {m: expected_best_of(v_mrr, per_draw(test, seeds, m), k) for m in ("MRR", "Hits@10")}
    t_mrr = per_draw(test, seeds, "MRR")
    out = {
        "checkpoint": args.checkpoint,
        "data": data.name,
        "draws": len(seeds),
        "seeds": [seeds[0], seeds[-1]],
        "valid_test_mrr_correlation": float(np.corrcoef(v_mrr, t_mrr)[0, 1]),
        "test_mrr_random_draw": {
            "mean": float(t_mrr.mean()),
            "std": float(t_mrr.std()),
            "min": float(t_mrr.min()),
            "max": float(t_mrr.max()),
        },
        "best_valid_of_k": {str(k): r for k, r in rows.items()},
    }
    if has_stored_draw(extra):
        st = evaluate(
            model,
            data,
            "test",
            seeds=seeds[:1],
            device="auto",
            stored=stored_features(extra, model, data.inference, source=args.checkpoint),
        )
        out["stored_draw"] = {"seed": extra.get("inf_emb_seed"), "test": st["stored_draw"]["metrics"]}

    print(
        f"{data.name}: {len(seeds)} fresh draws ({seeds[0]} … {seeds[-1]}), valid/test MRR correlation "
        f"{out['valid_test_mrr_correlation']:.2f}"
    )
    r = out["test_mrr_random_draw"]
    print(f"  test MRR of a random draw: {r['mean']:.4f} ± {r['std']:.4f} (min {r['min']:.4f}, max {r['max']:.4f})")
    for k, row in rows.items():
        print(f"  best valid draw of {k:>3}: expected test MRR {row['MRR']:.4f}  Hits@10 {row['Hits@10']:.4f}")
    if "stored_draw" in out:
        sd = out["stored_draw"]
        print(
            f"  stored draw (seed {sd['seed']}): test MRR {sd['test']['MRR']:.4f}  Hits@10 {sd['test']['Hits@10']:.4f}"
        )
    if args.json:
        write_json(args.json, out)
    if args.record:
        path = Path(args.checkpoint) / "metrics.json"
        if not path.is_file():
            p.error(f"--record: no {path}")
        metrics = json.loads(path.read_text(encoding="utf-8"))
        metrics["draw_selection"] = {k: v for k, v in out.items() if k not in ("checkpoint", "data")}
        write_json(path, metrics)
        print(f"recorded in {path}")


if __name__ == "__main__":
    main()
