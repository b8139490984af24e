"""Package the universal run as ``pretrained/universal/``: selection, held-out check, card, metrics.

    python scripts/package_universal.py --run runs/universal --data $KGVIZ_DATA/{NL-0,NL-25,NL-50,NL-75,NL-100,\
WK-25,WK-50,WK-75,WK-100,NELL-995-v1} --out pretrained/universal

1. Selection (validation only): the ``--top`` snapshots by the criterion logged during training
   (valid draws 0–2) are re-scored on draws ``--seeds`` (3–5) and souped greedily
   (:func:`kgviz.training.snapshot_selection.select_by_criterion`).
2. Held-out check: the winner and the run's starting checkpoint scored on draws ``--holdout``
   (200–202), which chose nothing.
3. Zero-shot figures on FB-100 (inference only, never used above): ensemble of 10 draws
   (100–109), raw and with both inference-time constraints — what ``tests/test_pretrained.py``
   recomputes.
Writes ``config.json`` + ``model.ckpt`` (authors' layout), ``metrics.json`` and ``README.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from kgviz.models.ingram.checkpoint import load_checkpoint, load_state, save_checkpoint
from kgviz.graph.data import load_benchmark
from kgviz.models.ingram.network import InGram
from kgviz.training.release import write_json
from kgviz.training.snapshot_selection import select_by_criterion
from kgviz.training.loop import saved_lr_schedule
from kgviz.training.universal_examples import training_graphs
from kgviz.training.universal import STATE_FILE, UniversalTrainer


def card(metrics: dict, data_args: list[str]) -> str:
    """The model card (README.md) of ``pretrained/universal``."""
    proc, train = metrics["procedure"], metrics["train"]
    opts = proc["options"]
    sel, held = metrics["selection"], metrics["holdout"]
    fb = metrics.get("zero_shot", {})
    lines = [
        "# pretrained/universal — one InGram for any KG",
        "",
        "InGram (authors' layout: `config.json` + `model.ckpt` with `model_state_dict`, loads into their class with",
        "`strict=True`) trained on connected subgraphs of **all** training graphs of the InGram benchmarks",
        f"({', '.join(proc['graphs'])}; NL-50's `train.txt` is NL-25's and is used once), so that it meets graphs of",
        "the users' size (10 to 10,000 triples) and of many densities. Listed after the default model (`NL-0`,",
        "better zero-shot on FB-\\*: docs/transfer.md).",
        "",
        "## Training",
        f"- Start: `{proc['init_from']}` (the shipped default-shape checkpoint with the best valid MRR on its own set); "
        f"seed {proc['seed']}.",
        f"- Each step averages the margin loss of {opts['graphs_per_step']} examples. An example: a training graph "
        f"drawn {opts['mixture']}ly, a connected subgraph of log-uniform size {opts['size_range'][0]}–"
        f"{opts['size_range'][1]} triples (breadth-first with a random fan-out; with probability "
        f"{opts['relation_subset']} within a random subset of relations; with probability {opts['closure']} "
        f"densified by the triples among its entities), the authors' message/supervision split on it with a "
        f"message ratio drawn from {opts['message_ratio'][0]}–{opts['message_ratio'][1]}, fresh random features.",
        f"- {train['steps']:,} steps, {train['wall_time_h']:.1f} h on one CPU thread (shared machine); config: "
        f"`{json.dumps(metrics['config'])}`.",
        "- Selection on validation only (valid splits of the training sets on their inference graphs, and 20 small KGs",
        "  cut from each inference graph whose held-out triples are valid triples; criterion = mean of the two mean",
        f"  MRRs): {sel['selected_by']} of steps {', '.join(map(str, sel['chosen_epochs']))}, criterion "
        f"{sel['criterion']:.4f} on draws {sel['seeds']}.",
        f"- Held-out draws {held['seeds']} (chose nothing): criterion **{held['criterion']:.4f}**, the starting "
        f"checkpoint {held['start_criterion']:.4f}.",
        "",
        "Reproduce, one command per learning-rate stretch (then `scripts/package_universal.py` with the same "
        "`--data`):",
        "",
    ]
    schedule = train["lr_schedule"]
    for k, (first, lr) in enumerate(schedule):
        last = schedule[k + 1][0] if k + 1 < len(schedule) else train["steps"]
        lines += [
            "    python -m kgviz train --data " + " ".join(data_args) + " \\",
            f"        --out runs/universal --threads 1 --num_epoch {last} --learning_rate {lr:g} "
            f"--validation_epoch {metrics['config']['validation_epoch']} --small-valid 20 --init-from "
            f"{proc['init_from']} --snapshots --seed {proc['seed']}" + (" --resume" if first else ""),
        ]
    lines += [
        "",
        "## Zero-shot (no FB triple was used for training or selection)",
    ]
    for name, row in fb.items():
        lines.append(
            f"- {name} test, ensemble of {row['ensemble']} draws ({row['seeds'][0]}–{row['seeds'][-1]}): "
            f"MRR {row['raw']:.3f} raw, {row['both']:.3f} with both inference-time constraints."
        )
    lines += [
        "",
        "Every shipped checkpoint beside the baselines: [docs/transfer.md](../../docs/transfer.md).",
        "Licence: trained on the InGram benchmarks (CC BY-NC-SA 4.0), shared under the same licence.",
        "",
    ]
    return "\n".join(lines)


def zero_shot(out: Path, data: Path) -> dict:
    """Ensemble-of-10 test MRR on ``data`` (raw and both constraints) of the packaged model."""
    from kgviz.evaluation.transfer import transfer

    result = transfer([out], [data], seeds=[100], ensemble=10, baselines=False, untrained=False, progress=False)
    rows = {r["constraints"]: r["metrics"]["MRR"] for r in result["results"][0]["rows"]}
    return {"raw": rows["none"], "both": rows["both constraints"], "ensemble": 10, "seeds": result["ensemble_seeds"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--data", required=True, nargs="+", help="the training sets of the run (their valid splits)")
    p.add_argument("--out", required=True)
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5])
    p.add_argument("--holdout", type=int, nargs="+", default=[200, 201, 202])
    p.add_argument("--zero-shot", nargs="*", default=[], help="inference-only folders to report (e.g. FB-100)")
    p.add_argument("--skip-selection", action="store_true", help="package the run's current model.ckpt")
    args = p.parse_args()
    torch.set_num_threads(1)
    run, out = Path(args.run), Path(args.out)
    datasets = [load_benchmark(d) for d in args.data]
    state = load_state(run / STATE_FILE)
    procedure = json.loads(state["procedure"])
    _, config, _ = load_checkpoint(run)
    judge = UniversalTrainer(
        training_graphs(datasets),
        config,
        None,
        validation=datasets,
        small_valid_per_set=20,
        valid_seeds=tuple(args.seeds),
    )

    def criterion(model: InGram, seeds: tuple[int, ...]) -> float:
        judge.valid_seeds = seeds
        judge.model.load_state_dict(model.state_dict())
        return float(judge.validate()["criterion"])

    t0 = time.time()
    if not args.skip_selection:
        select_by_criterion(run, lambda m: criterion(m, tuple(args.seeds)), top=args.top)
    model, config, extra = load_checkpoint(run)
    start, _, _ = load_checkpoint(procedure["init_from"])
    held = {
        "seeds": args.holdout,
        "criterion": criterion(model, tuple(args.holdout)),
        "start_criterion": criterion(start, tuple(args.holdout)),
    }
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(
        out,
        model,
        config,
        extra={
            "procedure": procedure,
            "selected_by": extra.get("selected_by"),
            "averaged_epochs": extra.get("averaged_epochs"),
            "valid_seeds": sorted({0, 1, 2, *args.seeds}),
        },
    )
    metrics = {
        "config": config.to_dict(),
        "procedure": procedure,
        "train": {
            "steps": int(state["epoch"]),
            "wall_time_h": float(state["wall_time"]) / 3600,
            "lr_schedule": saved_lr_schedule(state),
        },
        "selection": {
            "selected_by": extra.get("selected_by"),
            "chosen_epochs": extra.get("averaged_epochs"),
            "criterion": extra.get("criterion"),
            "seeds": args.seeds,
            "top": args.top,
        },
        "holdout": held,
        "zero_shot": {Path(d).name: zero_shot(out, Path(d)) for d in args.zero_shot},
    }
    write_json(out / "metrics.json", metrics)
    (out / "README.md").write_text(card(metrics, [f"$KGVIZ_DATA/{Path(d).name}" for d in args.data]), encoding="utf-8")
    if (run / "selection.json").is_file():
        shutil.copy(run / "selection.json", out / "selection.json")
    print(json.dumps({k: metrics[k] for k in ("selection", "holdout", "zero_shot")}, indent=1))
    print(f"packaged in {out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
