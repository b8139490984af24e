"""The training commands behind ``kgviz train``, ``kgviz adapt`` and ``kgviz select`` (:mod:`kgviz.cli.parser`).

Like :mod:`kgviz.cli.commands`, each imports what it needs (torch among it) when it runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from kgviz.config import MESSAGE_RATIO, InGramConfig


def use_threads(args: argparse.Namespace) -> None:
    """Limit torch's CPU threads to ``--threads`` when given."""
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)


def _config_from_args(args: argparse.Namespace) -> InGramConfig:
    return InGramConfig(**{f.name: getattr(args, f.name) for f in fields(InGramConfig)})


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options both trainers take from ``kgviz train``: seed, device, validation draws, snapshots."""
    return dict(seed=args.seed, device=args.device, valid_seeds=tuple(args.valid_seeds), snapshots=args.snapshots)


def cmd_train(args: argparse.Namespace) -> None:
    from kgviz.graph.data import load_benchmark
    from kgviz.training.loop import Trainer

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(out / "train.log"), logging.StreamHandler(sys.stderr)]
        if args.verbose
        else [logging.FileHandler(out / "train.log")],
    )
    use_threads(args)
    datasets = [load_benchmark(d) for d in args.data]
    if len(datasets) > 1 or args.subgraph_size:
        _train_universal(args, datasets, out)
        return
    ratio = args.message_ratio[0] if args.message_ratio else MESSAGE_RATIO
    trainer = Trainer(
        datasets[0],
        _config_from_args(args),
        out,
        **_run_options(args),
        spanning=args.spanning,
        message_ratio=ratio,
    )
    if args.compile:
        trainer.model.use_compiled_kernels()
    state = trainer.run(resume=args.resume, progress=not args.no_progress)
    print(
        f"done: {state.epoch} epochs, best valid MRR {state.best_valid_mrr:.4f} at epoch {state.best_epoch}, "
        f"{state.wall_time:.0f} s training time; best checkpoint in {out}"
    )


def _train_universal(args: argparse.Namespace, datasets: list, out: Path) -> None:
    from kgviz.training.universal_examples import MixtureOptions, training_graphs
    from kgviz.training.universal import UniversalTrainer

    defaults = MixtureOptions()
    ratio = args.message_ratio or defaults.message_ratio
    options = MixtureOptions(
        size_range=tuple(args.subgraph_size or defaults.size_range),
        graphs_per_step=args.graphs_per_step,
        message_ratio=(ratio[0], ratio[-1]),
        mixture=args.mixture,
        relation_subset=args.relation_subset,
        closure=args.closure,
        other_side_negatives=args.other_side_negatives,
    )
    trainer = UniversalTrainer(
        training_graphs(datasets),
        _config_from_args(args),
        out,
        options=options,
        validation=datasets,
        small_valid_per_set=args.small_valid,
        **_run_options(args),
        init_from=args.init_from,
    )
    r = trainer.run(resume=args.resume, progress=not args.no_progress)
    print(
        f"done: {r['steps']} steps, best valid criterion {r['best_valid']:.4f} at step {r['best_step']}, "
        f"{r['wall_time']:.0f} s training time; best checkpoint in {out}"
    )


def cmd_adapt(args: argparse.Namespace) -> None:
    from kgviz.training.adapt import adapt
    from kgviz.models.ingram.checkpoint import load_checkpoint, save_checkpoint
    from kgviz.graph.data import load_benchmark, read_kg
    from kgviz.models.pretrained import default_checkpoint

    use_threads(args)
    kg = read_kg(args.kg) if args.kg else load_benchmark(args.data).inference
    source = args.checkpoint or default_checkpoint()
    model, config, _ = load_checkpoint(source)
    print(
        f"adapting {source} to {kg.source} ({kg.num_triples} triples) for {args.seconds:g} s, "
        f"fine-tuning {args.parts} weights at lr {args.lr:g}",
        file=sys.stderr,
    )
    result = adapt(
        model,
        config,
        kg,
        seconds=args.seconds,
        learning_rate=args.lr,
        parts=args.parts,
        other_side_negatives=args.other_side_negatives,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
    )
    first, last = result.losses[:20], result.losses[-20:]
    save_checkpoint(
        args.out,
        result.model,
        config,
        extra={
            "adapted": {
                "from": str(source),
                "kg": kg.source,
                "triples": kg.num_triples,
                "steps": result.steps,
                "seconds": round(result.seconds, 1),
                "learning_rate": args.lr,
                "parts": args.parts,
                "seed": args.seed,
                **result.record(),
            }
        },
    )
    print(
        f"{result.steps} steps in {result.seconds:.0f} s; loss {sum(first) / len(first):.4f} (first 20 steps) "
        f"-> {sum(last) / len(last):.4f} (last 20)\n{result.summary()}\nthe model kept is in {args.out} (authors' layout)"
    )


def cmd_select(args: argparse.Namespace) -> None:
    from kgviz.graph.data import load_benchmark
    from kgviz.training.snapshot_selection import select_snapshot

    use_threads(args)
    result = select_snapshot(
        args.run,
        load_benchmark(args.data),
        tuple(args.seeds),
        top=args.top,
        average=args.average,
        greedy=args.greedy,
        holdout=tuple(args.holdout),
        against=args.against,
        device=args.device,
        progress=not args.no_progress,
    )
    for snap in sorted(result.snapshots, key=lambda s: -s.valid["MRR"])[:10]:
        print(f"epoch {snap.epoch:>6}  valid MRR {snap.valid['MRR']:.4f}  Hits@10 {snap.valid['Hits@10']:.4f}")
    chosen = f"epoch {result.selected_epoch}"
    for avg, label in ((result.average, "average"), (result.greedy, "greedy soup")):
        if avg is not None:
            print(
                f"{label} of epochs {', '.join(map(str, avg.epochs))}  valid MRR {avg.valid['MRR']:.4f}  "
                f"Hits@10 {avg.valid['Hits@10']:.4f}"
            )
            if avg.selected:
                chosen = f"the {label} of {len(avg.epochs)} snapshots"
    print(f"selected {chosen} (mean of {len(args.seeds)} draws) -> {Path(args.run) / 'model.ckpt'}")
    held = result.holdout
    if held is not None:
        print(
            f"on {len(held.seeds)} held-out draws: valid MRR {held.valid['MRR']:.4f}  "
            f"Hits@10 {held.valid['Hits@10']:.4f} (the figure to compare runs by; the one above is biased by the choice)"
        )
        ref = held.against
        if ref is not None:
            print(
                f"  {args.against} on the same draws: valid MRR {ref.valid['MRR']:.4f}  Hits@10 "
                f"{ref.valid['Hits@10']:.4f}; paired difference {ref.mrr_difference:+.4f} "
                f"± {ref.standard_error:.4f} (standard error)"
            )
