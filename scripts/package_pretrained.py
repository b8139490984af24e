"""Package a training run as shipped weights: ``pretrained/<SET>/``.

Writes ``config.json`` + ``model.ckpt`` (authors' layout, weights only), ``metrics.json``
(valid and test: per seed, mean ± std, ensemble) and ``README.md`` (a model card). Then stores
in ``model.ckpt`` the draw with the best valid MRR among ``--stored-draw-pool`` (the authors'
``inf_emb_ent`` / ``inf_emb_rel``, see ``kgviz/models/ingram/draws.py``) and adds its test figures to
``metrics.json`` and the card; ``--only-stored-draw`` does just that on an existing folder.

    python scripts/package_pretrained.py --run runs/NL-100 --data $KGVIZ_DATA/NL-100 --out pretrained/NL-100
    python scripts/package_pretrained.py --only-stored-draw --data $KGVIZ_DATA/NL-100 --out pretrained/NL-100
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from kgviz.models.ingram.checkpoint import load_checkpoint, load_state, save_checkpoint
from kgviz.graph.data import BenchmarkDataset, load_benchmark
from kgviz.models.ingram.draws import stored_features
from kgviz.evaluation.benchmark import REPORT_SEEDS, evaluate, selection_draws_reused
from kgviz.training.release import card_with_stored_draw, model_card, store_draw, write_json
from kgviz.runtime import cpu_model
from kgviz.training.loop import STATE_FILE, saved_lr_schedule, saved_procedure


def add_stored_draw(out: Path, data: BenchmarkDataset, pool: list[int]) -> dict:
    """Choose a draw on valid among ``pool``, store it in ``out``'s checkpoint, record its test figures.

    Updates ``metrics.json`` (``stored_draw``) and the card's table (one row, replaced if present).
    """
    kept = store_draw(out, data, pool, device="cpu")
    stored = stored_features(kept.entries, kept.model, data.inference, source=str(kept.file))
    test = evaluate(kept.model, data, "test", seeds=[kept.choice["seed"]], device="cpu", stored=stored)
    entry = {
        "seed": kept.choice["seed"],
        "pool": kept.choice["pool"],
        "valid": kept.choice["valid"],
        "test": test["stored_draw"]["metrics"],
        "protocol": "the draw with the best single-draw valid MRR among the pool, stored as inf_emb_ent/"
        "inf_emb_rel and used for test, as the authors' train.py/test.py do; not a random draw",
    }
    metrics_path = out / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["stored_draw"] = entry
    write_json(metrics_path, metrics)
    card_path = out / "README.md"
    card_path.write_text(
        card_with_stored_draw(card_path.read_text(encoding="utf-8"), entry, data.name, pool), encoding="utf-8"
    )
    return entry


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="training output folder (model.ckpt = best epoch)")
    p.add_argument("--data", required=True, help="benchmark folder the run was trained on")
    p.add_argument("--out", required=True, help="destination, e.g. pretrained/NL-100")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(REPORT_SEEDS),
        help="random draws for the figures (default 100 … 109); must not be those that chose the weights",
    )
    p.add_argument("--ensemble", type=int, default=10)
    p.add_argument("--note", default="", help="extra text for the model card")
    p.add_argument(
        "--stored-draw-pool",
        type=int,
        nargs="+",
        default=list(range(30)),
        metavar="SEED",
        help="draws among which the stored draw is chosen on valid (default 0…29)",
    )
    p.add_argument(
        "--only-stored-draw",
        action="store_true",
        help="only (re)choose the stored draw of the existing --out folder and record it",
    )
    args = p.parse_args()

    out = Path(args.out)
    if set(args.stored_draw_pool) & set(args.seeds):
        p.error("--stored-draw-pool must not share draws with the reporting --seeds")
    if args.only_stored_draw:
        entry = add_stored_draw(out, load_benchmark(args.data), args.stored_draw_pool)
        print(json.dumps({"stored_draw_seed": entry["seed"], "test": entry["test"]}, indent=1))
        return
    if not args.run:
        p.error("--run is required (or --only-stored-draw)")
    run = Path(args.run)
    model, config, rest = load_checkpoint(run)
    reused = selection_draws_reused(rest, args.seeds)
    if reused:
        p.error(
            f"draws {reused} chose {run}'s weights (its valid_seeds {rest['valid_seeds']}): "
            "figures on them would be optimistic; pass other --seeds"
        )
    data = load_benchmark(args.data)
    state = load_state(run / STATE_FILE) if (run / STATE_FILE).is_file() else {}
    t0 = time.perf_counter()
    results = {
        split: evaluate(model, data, split, seeds=args.seeds, ensemble=args.ensemble, device="cpu")
        for split in ("valid", "test")
    }
    eval_seconds = time.perf_counter() - t0
    kept = (
        "epoch",
        "seed",
        "selected_by",
        "valid_seeds",
        "selection_top",
        "averaged_epochs",
        "averaged_by",
        "valid",
        "holdout",
    )
    save_checkpoint(out, model, config, extra={k: rest[k] for k in kept if k in rest})
    metrics = {
        "data": data.name,
        "best_epoch": rest.get("epoch"),
        "averaged_epochs": rest.get("averaged_epochs"),
        "averaged_by": rest.get("averaged_by"),
        "epochs_trained": int(state.get("epoch", rest.get("epoch") or 0)),
        "training_wall_time_s": round(float(state.get("wall_time", 0.0)), 1),
        "learning_rate_schedule": saved_lr_schedule(state) if state else [[0, config.learning_rate]],
        "procedure": saved_procedure(state),  # split options: spanning forest, message ratio
        "seed": rest.get("seed", 0),
        "hardware": (
            f"{cpu_model()}, torch {torch.__version__}, device {state.get('device', 'cpu')}, "
            f"{state.get('threads', 1)} thread(s), machine shared with other jobs"
        ),
        "selection": rest.get("selected_by")
        or (
            f"best validation MRR during training, mean of single draws with seeds {rest.get('valid_seeds', [0, 1, 2])}"
        ),
        "selection_valid": rest.get("valid"),
        "selection_holdout": rest.get("holdout"),  # the winner on held-out valid draws (unbiased by the choice)
        "valid": results["valid"],
        "test": results["test"],
        "evaluation_wall_time_s": round(eval_seconds, 1),
    }
    write_json(out / "metrics.json", metrics)
    card = model_card(data.name, metrics, rest, results, config, args.seeds, args.ensemble, note=args.note)
    (out / "README.md").write_text(card, encoding="utf-8")
    entry = add_stored_draw(out, data, args.stored_draw_pool)
    t = results["test"]
    print(
        json.dumps(
            {
                "test_mean": t["mean"],
                "test_std": t["std"],
                "test_ensemble": t["ensemble"]["metrics"],
                "stored_draw": {"seed": entry["seed"], "test": entry["test"]},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
