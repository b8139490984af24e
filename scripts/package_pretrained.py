"""Package a training run as shipped weights: ``pretrained/<SET>/``.

Writes ``config.json`` + ``model.ckpt`` (authors' layout, weights only), ``metrics.json``
(valid and test: per seed, mean ± std, ensemble) and ``README.md`` (a model card). Then stores
in ``model.ckpt`` the draw with the best valid MRR among ``--stored-draw-pool`` (the authors'
``inf_emb_ent`` / ``inf_emb_rel``, see ``kgviz/draws.py``) and adds its test figures to
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


from kgviz.checkpoint import atomic_torch_save, find_checkpoint_file, load_checkpoint, load_state, save_checkpoint
from kgviz.draws import choose_draw, stored_draw_entries, stored_features
from kgviz.data import load_benchmark
from kgviz.evaluation import REPORT_SEEDS, evaluate, selection_draws_reused
from kgviz.release import PAPER
from kgviz.runtime import cpu_model
from kgviz.training import STATE_FILE, saved_lr_schedule, saved_procedure, write_json

DEFAULT_PROCEDURE = saved_procedure({})


def consecutive(seeds: list[int]) -> bool:
    return len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1))


def seeds_text(seeds: list[int]) -> str:
    """``100–109`` for a run of consecutive seeds, else ``0, 3, 7``."""
    return f"{seeds[0]}–{seeds[-1]}" if consecutive(seeds) else ", ".join(map(str, seeds))


def train_commands(name: str, seed: int, options: dict, schedule: list, epochs: int, snapshots: bool,
                   procedure: dict | None = None) -> list[str]:
    """One ``kgviz train`` line per stretch of the learning-rate schedule; later ones ``--resume``.

    ``procedure``: the run's split options (``saved_procedure``); those not at their default get a flag."""
    split_flags = "".join(f" --{k.replace('_', '-')} {v}" for k, v in (procedure or {}).items()
                          if v != DEFAULT_PROCEDURE[k])
    lines = []
    for i, (start, lr) in enumerate(schedule):
        end = schedule[i + 1][0] if i + 1 < len(schedule) else epochs
        flags = {**options, "learning_rate": lr, "num_epoch": end}
        lines.append(f"python -m kgviz train --data $KGVIZ_DATA/{name} --out runs/{name} --seed {seed} "
                     + " ".join(f"--{k} {v}" for k, v in flags.items()) + split_flags
                     + (" --snapshots" if snapshots else "") + (" --resume" if i else ""))
    return lines


STORED_ROW = "| the draw with the best valid MRR"


def stored_draw_row(entry: dict) -> str:
    pool, t = entry["pool"], entry["test"]
    return (f"{STORED_ROW} among draws {seeds_text(pool)} (seed {entry['seed']}), stored in `model.ckpt` "
            f"— the authors' test.py protocol, a chosen draw | {t['MRR']:.3f} | {t['Hits@10']:.3f} |")


def add_stored_draw(out: Path, data, pool: list[int]) -> dict:
    """Choose a draw on valid among ``pool``, store it in ``out``'s checkpoint, record its test figures.

    Updates ``metrics.json`` (``stored_draw``) and the card's table (one row, replaced if present).
    """
    file = find_checkpoint_file(out)
    model, _, _ = load_checkpoint(file)
    choice = choose_draw(model, data, pool, device="cpu")
    state = load_state(file)
    state.update(stored_draw_entries(model, data.inference, choice, data_name=data.name))
    atomic_torch_save(state, file)
    stored = stored_features(state, model, data.inference, source=str(file))
    test = evaluate(model, data, "test", seeds=[choice["seed"]], device="cpu", stored=stored)
    entry = {"seed": choice["seed"], "pool": choice["pool"], "valid": choice["valid"],
             "test": test["stored_draw"]["metrics"],
             "protocol": "the draw with the best single-draw valid MRR among the pool, stored as inf_emb_ent/"
                         "inf_emb_rel and used for test, as the authors' train.py/test.py do; not a random draw"}
    metrics_path = out / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["stored_draw"] = entry
    write_json(metrics_path, metrics)
    card_path = out / "README.md"
    lines = [line for line in card_path.read_text(encoding="utf-8").splitlines() if not line.startswith(STORED_ROW)]
    at = next(i for i, line in enumerate(lines) if line.startswith("| ensemble of")) + 1
    lines.insert(at, stored_draw_row(entry))
    lines = [line for line in lines if "kgviz store-draw" not in line and "--stored-draw" not in line]
    at = max(i for i, line in enumerate(lines) if line.startswith("    python -m kgviz evaluate")) + 1
    pool_arg = f"$(seq {pool[0]} {pool[-1]})" if consecutive(pool) else " ".join(map(str, pool))
    lines[at:at] = [f"    python -m kgviz store-draw --checkpoint runs/{data.name} --data $KGVIZ_DATA/{data.name} "
                    f"--seeds {pool_arg}",
                    f"    python -m kgviz evaluate --checkpoint runs/{data.name} --data $KGVIZ_DATA/{data.name} "
                    f"--split test --stored-draw"]
    card_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return entry


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", help="training output folder (model.ckpt = best epoch)")
    p.add_argument("--data", required=True, help="benchmark folder the run was trained on")
    p.add_argument("--out", required=True, help="destination, e.g. pretrained/NL-100")
    p.add_argument("--seeds", type=int, nargs="+", default=list(REPORT_SEEDS),
                   help="random draws for the figures (default 100 … 109); must not be those that chose the weights")
    p.add_argument("--ensemble", type=int, default=10)
    p.add_argument("--note", default="", help="extra text for the model card")
    p.add_argument("--stored-draw-pool", type=int, nargs="+", default=list(range(30)), metavar="SEED",
                   help="draws among which the stored draw is chosen on valid (default 0…29)")
    p.add_argument("--only-stored-draw", action="store_true",
                   help="only (re)choose the stored draw of the existing --out folder and record it")
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
        p.error(f"draws {reused} chose {run}'s weights (its valid_seeds {rest['valid_seeds']}): "
                "figures on them would be optimistic; pass other --seeds")
    data = load_benchmark(args.data)
    state = load_state(run / STATE_FILE) if (run / STATE_FILE).is_file() else {}
    t0 = time.perf_counter()
    results = {split: evaluate(model, data, split, seeds=args.seeds, ensemble=args.ensemble, device="cpu")
               for split in ("valid", "test")}
    eval_seconds = time.perf_counter() - t0
    kept = ("epoch", "seed", "selected_by", "valid_seeds", "selection_top", "averaged_epochs", "averaged_by", "valid",
            "holdout")
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
        "hardware": (f"{cpu_model()}, torch {torch.__version__}, device {state.get('device', 'cpu')}, "
                     f"{state.get('threads', 1)} thread(s), machine shared with other jobs"),
        "selection": rest.get("selected_by") or (
            f"best validation MRR during training, mean of single draws with seeds {rest.get('valid_seeds', [0, 1, 2])}"),
        "selection_valid": rest.get("valid"),
        "selection_holdout": rest.get("holdout"),  # the winner on held-out valid draws (unbiased by the choice)
        "valid": results["valid"], "test": results["test"],
        "evaluation_wall_time_s": round(eval_seconds, 1),
    }
    write_json(out / "metrics.json", metrics)
    t, e = results["test"], results["test"]["ensemble"]["metrics"]
    paper = PAPER.get(data.name)
    averaged = rest.get("averaged_epochs")
    vs = rest.get("valid_seeds") or []
    seeds_arg = f"$(seq {vs[0]} {vs[-1]})" if consecutive(vs) else " ".join(map(str, vs))
    if rest.get("selection_top"):
        seeds_arg += f" --top {rest['selection_top']}"
    avg_flag = (" --greedy" if rest.get("averaged_by") == "greedy"
                else f" --average {len(averaged)}" if averaged else "")
    select_line = (f"\n    python -m kgviz select --run runs/{data.name} --data $KGVIZ_DATA/{data.name} "
                   f"--seeds {seeds_arg}{avg_flag}") if "selected_by" in rest else ""
    train_lines = "\n    ".join(train_commands(data.name, metrics["seed"], config.to_dict(), metrics["learning_rate_schedule"],
                                              metrics["epochs_trained"], snapshots="selected_by" in rest,
                                              procedure=metrics["procedure"]))
    weights_line = (f"Weights averaged over the snapshots of epochs {', '.join(map(str, averaged))}"
                    if averaged else f"Best epoch {metrics['best_epoch']}")
    sv = rest.get("valid")
    selection_valid_line = (f" (on those draws, valid MRR {sv['MRR']:.3f}; on these, {results['valid']['mean']['MRR']:.3f})"
                            if sv and "MRR" in sv else "")
    paper_line = f"| paper (Lee et al. 2023) | {paper[0]:.3f} | {paper[1]:.3f} |\n" if paper else ""
    card = f"""# InGram trained on {data.name}

Weights of InGram (Lee, Chung, Whang, ICML 2023) trained by kgviz's own code (`python -m kgviz train`)
on the training graph of **{data.name}** from the InGram benchmark release. Layout: the authors'
(`config.json` + `model.ckpt` holding `model_state_dict`), loadable with `torch.load(weights_only=True)`
and with the authors' code.

- {weights_line} of {metrics['epochs_trained']} trained, training seed {metrics['seed']},
  {metrics['training_wall_time_s'] / 60:.0f} min of training on {metrics['hardware']}.
- Options: see `config.json` (names as in the authors' code). Chosen by: {metrics['selection']}.
  {args.note}
- Every figure below and in `metrics.json` uses random draws (seeds {seeds_text(args.seeds)}) other than those
  that chose the weights{selection_valid_line}.

## Test figures (filtered, head and tail queries)

| | MRR | Hits@10 |
|---|---|---|
| single random draw, mean ± std over seeds {seeds_text(args.seeds)} | {t['mean']['MRR']:.3f} ± {t['std']['MRR']:.3f} | {t['mean']['Hits@10']:.3f} ± {t['std']['Hits@10']:.3f} |
| ensemble of {args.ensemble} draws (scores averaged) | {e['MRR']:.3f} | {e['Hits@10']:.3f} |
{paper_line}
All figures, valid and test, per seed: `metrics.json`.

## Reproduce

    {train_lines}{select_line}
    python -m kgviz evaluate --checkpoint runs/{data.name} --data $KGVIZ_DATA/{data.name} --split test --seeds {' '.join(map(str, args.seeds))} --ensemble {args.ensemble}

(a run can be stopped and continued with `--resume`).

## Data licence

Trained on the InGram benchmark data (derived from NELL-995, Wikidata, Freebase), released by the
authors under **CC BY-NC-SA 4.0**; these weights are a derived work under the same licence
(non-commercial, share alike). Cite the InGram paper when you use them.
"""
    (out / "README.md").write_text(card, encoding="utf-8")
    entry = add_stored_draw(out, data, args.stored_draw_pool)
    print(json.dumps({"test_mean": t["mean"], "test_std": t["std"], "test_ensemble": e,
                      "stored_draw": {"seed": entry["seed"], "test": entry["test"]}}, indent=1))


if __name__ == "__main__":
    main()
