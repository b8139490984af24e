"""Command line: ``kgviz {relgraph,predict,train,select,evaluate,store-draw,compare,transfer,selfcheck,...} ...``

Only the parser is built here; the commands are in :mod:`kgviz.commands` and :mod:`kgviz.train_commands`,
and each imports what it needs (torch among it) when it runs, so ``kgviz --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import fields

from . import commands, train_commands
from .config import HOLDOUT_SEEDS, MESSAGE_RATIO, REPORT_SEEDS, InGramConfig
from .defaults import DRAWS, SEED, SELF_CHECK_SEED


def _add_run_options(s: argparse.ArgumentParser, *, threads: bool = False, progress: bool = False) -> None:
    """``--device`` of a command that runs the model; ``--threads`` and ``--no-progress`` when asked."""
    if threads:
        s.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    s.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    if progress:
        s.add_argument("--no-progress", action="store_true")


def _add_draws(s: argparse.ArgumentParser, default: Iterable[int], help: str) -> None:
    """``--seeds``: the random draws of initial features a command scores with or chooses among."""
    s.add_argument("--seeds", type=int, nargs="+", default=list(default), help=help)


def _add_stored_draw(s: argparse.ArgumentParser, help: str) -> None:
    """``--stored-draw``: use the draw a checkpoint keeps (``kgviz store-draw``)."""
    s.add_argument("--stored-draw", action="store_true", help=help)


def _add_leaderboard(s: argparse.ArgumentParser, flag: str, text: str) -> None:
    s.add_argument(flag, action="store_true", help=text)
    s.add_argument(
        "--budget",
        type=float,
        default=None,
        help="with " + flag + ": training seconds of all trained scorers together (default: 20 for "
        "selfcheck, 120 for transfer)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kgviz", description="kgviz: explore InGram on knowledge graphs")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("relgraph", help="print the strongest relation pairs of a KG with their bins")
    s.add_argument("--kg", required=True, help="TSV/CSV file of triples")
    s.add_argument("--num-bin", type=int, default=10, help="bins B (default 10)")
    s.add_argument("--top", type=int, default=20, help="pairs to print (default 20)")
    s.set_defaults(func=commands.cmd_relgraph)

    s = sub.add_parser(
        "predict",
        help="rank tails (or heads) of a query as the app's Predictions view does (default model, draws, constraints)",
    )
    s.add_argument("--kg", required=True, help="TSV/CSV file of the known triples (message graph)")
    # exactly one: checked by argparse before any work (exit code 2 and the usage line)
    anchor = s.add_mutually_exclusive_group(required=True)
    anchor.add_argument("--head", help="head entity: rank tails of (HEAD, RELATION, ?)")
    anchor.add_argument("--tail", help="tail entity: rank heads of (?, RELATION, TAIL)")
    s.add_argument("--relation", required=True)
    which = s.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        help="a registered scorer (NL-0, universal, ultra-3g, frequency, pagerank, transe …; "
        "`kgviz models` lists them); default: the default model (kgviz.defaults)",
    )
    which.add_argument("--checkpoint", help="an InGram checkpoint folder (config.json + torch file) or file")
    s.add_argument("--top-k", type=int, default=10)
    s.add_argument("--seeds", type=int, default=None, help=f"random draws averaged (default {DRAWS})")
    s.add_argument("--seed", type=int, default=None, help=f"first seed (default {SEED})")
    s.add_argument("--raw", action="store_true", help="constraints off: order by score alone")
    s.add_argument("--filter-known", action="store_true", help="drop candidates that already form a known triple")
    s.add_argument("--json", help="write the ranking it prints to this JSON file")
    _add_stored_draw(s, "use the draw the checkpoint keeps for this KG (`store-draw`) instead of random draws")
    _add_run_options(s)
    s.set_defaults(func=commands.cmd_predict)

    s = sub.add_parser("models", help="list the registered models (scorers) and what each needs")
    s.set_defaults(func=commands.cmd_models)

    s = sub.add_parser(
        "train",
        help="train InGram on a benchmark folder (authors' procedure), "
        "or on subgraphs of several (the universal checkpoint)",
    )
    s.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="folder(s) with train.txt, msg.txt, valid.txt, test.txt; several (or --subgraph-size) "
        "train on subgraphs of all their training graphs, validated on their valid splits",
    )
    s.add_argument("--out", required=True, help="output folder (checkpoint, logs, state for --resume)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    s.add_argument(
        "--valid-seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="random draws averaged for validation (default 0 1 2)",
    )
    s.add_argument(
        "--compile",
        action="store_true",
        help="fuse the per-edge kernels with torch.compile (faster on large graphs; needs a C++ compiler)",
    )
    s.add_argument(
        "--snapshots",
        action="store_true",
        help="also keep the weights of every validated epoch in OUT/snapshots (for `select`)",
    )
    s.add_argument(
        "--spanning",
        choices=["random", "authors"],
        default="random",
        help="spanning forest kept in each epoch's message set: a new random one per epoch (default), "
        "or the authors' breadth-first tree fixed for the run",
    )
    s.add_argument(
        "--message-ratio",
        type=float,
        nargs="+",
        default=None,
        metavar="R",
        help=f"share of the training triples in each epoch's message set (default {MESSAGE_RATIO}, "
        "the authors' value; a lower one makes the message graph as sparse as a sparse inference "
        "graph); on subgraphs LOW HIGH, drawn uniformly per example (default 0.5 0.9)",
    )
    u = s.add_argument_group("subgraph training (several --data, or --subgraph-size)")
    u.add_argument(
        "--subgraph-size",
        type=int,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="size of each example's connected subgraph in triples, log-uniform (default 10 10000)",
    )
    u.add_argument("--graphs-per-step", type=int, default=4, help="examples averaged per Adam step (default 4)")
    u.add_argument(
        "--mixture",
        choices=["uniform", "sqrt"],
        default="uniform",
        help="how a training graph is drawn: uniformly (default) or in proportion to √triples",
    )
    u.add_argument(
        "--relation-subset",
        type=float,
        default=0.3,
        help="probability that an example keeps a random subset of the relations (default 0.3)",
    )
    u.add_argument(
        "--closure",
        type=float,
        default=0.5,
        help="probability that an example adds the triples among its entities (default 0.5)",
    )
    u.add_argument(
        "--other-side-negatives",
        type=float,
        default=0.0,
        help="share of negatives whose replaced entity is drawn from the other side of the relation "
        "(a head of r for a tail, a tail of r for a head) in the example's message set (default 0)",
    )
    u.add_argument(
        "--small-valid",
        type=int,
        default=20,
        help="small KGs cut from each valid inference graph for validation (default 20)",
    )
    u.add_argument("--init-from", metavar="CHECKPOINT", help="start from these weights (same model shape)")
    s.add_argument("--verbose", action="store_true", help="also log to stderr")
    defaults = InGramConfig()
    for f in fields(InGramConfig):
        s.add_argument(
            f"--{f.name}",
            type=type(getattr(defaults, f.name)),
            default=getattr(defaults, f.name),
            help=f"(default {getattr(defaults, f.name)})",
        )
    _add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_train)

    s = sub.add_parser("adapt", help="fine-tune a model on one KG (self-supervised, the authors' procedure)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--kg", help="TSV/CSV file of the KG's triples")
    src.add_argument(
        "--data",
        help="benchmark folder: adapt to its msg.txt (its queries are not used; a part of msg.txt is held out to judge it)",
    )
    s.add_argument("--checkpoint", help="model to start from (default: the app's default model)")
    s.add_argument("--out", required=True, help="folder for the adapted model (config.json + model.ckpt)")
    s.add_argument("--seconds", type=float, default=30.0, help="time budget of fine-tuning and validation (default 30)")
    s.add_argument("--lr", type=float, default=1e-3, help="Adam step size (default 1e-3)")
    s.add_argument(
        "--parts",
        choices=["all", "relation", "entity", "output"],
        default="output",
        help="which weights move (default output: the output projections only)",
    )
    s.add_argument(
        "--other-side-negatives",
        type=float,
        default=0.0,
        help="share of negatives drawn from the other side of the relation (default 0)",
    )
    s.add_argument("--seed", type=int, default=0)
    _add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_adapt)

    s = sub.add_parser("select", help="re-validate a run's snapshots with more draws; the best becomes model.ckpt")
    s.add_argument("--run", required=True, help="run folder of `train --snapshots`")
    s.add_argument("--data", required=True, help="the benchmark folder the run was trained on")
    _add_draws(s, range(30), "random draws (default 0…29; keep them apart from the reporting draws 100…)")
    s.add_argument("--top", type=int, default=None, help="only the N best snapshots by the logged valid MRR")
    s.add_argument(
        "--average",
        type=int,
        default=None,
        metavar="K",
        help="also try the weights averaged over the K best snapshots; kept if its valid MRR is higher",
    )
    s.add_argument(
        "--greedy",
        action="store_true",
        help="also try a greedy soup: add snapshots best first to a weight average while its valid "
        "MRR does not drop; kept if higher",
    )
    s.add_argument(
        "--holdout",
        type=int,
        nargs="*",
        default=list(HOLDOUT_SEEDS),
        metavar="SEED",
        help="score the winner again on these draws, which chose nothing (default 200…229; `--holdout` alone skips it)",
    )
    s.add_argument(
        "--against",
        metavar="CHECKPOINT",
        help="also score this checkpoint (e.g. pretrained/WK-100) on the held-out draws: paired difference",
    )
    _add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_select)

    s = sub.add_parser("evaluate", help="filtered MR/MRR/Hits of a checkpoint on a benchmark split")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--split", choices=["valid", "test"], default="test")
    _add_draws(s, REPORT_SEEDS[:5], "random draws (default 100 … 104: not those that validation and `select` use)")
    s.add_argument("--ensemble", type=int, default=None, help="also rank by scores averaged over K draws")
    s.add_argument("--json", help="write the figures to this JSON file")
    _add_stored_draw(s, "also score the draw stored in the checkpoint (`store-draw`; the authors' test.py protocol)")
    _add_run_options(s)
    s.set_defaults(func=commands.cmd_evaluate)

    s = sub.add_parser("store-draw", help="keep the draw with the best valid MRR in the checkpoint (authors' protocol)")
    s.add_argument("--checkpoint", required=True, help="checkpoint folder or file; rewritten with the draw added")
    s.add_argument("--data", required=True, help="benchmark folder whose inference graph the draw is for")
    _add_draws(s, range(30), "candidate draws, judged on valid only (default 0…29; not the reporting draws 100…)")
    _add_run_options(s)
    s.set_defaults(func=commands.cmd_store_draw)

    s = sub.add_parser("transfer", help="checkpoints on KGs they never saw, next to baselines from the known facts")
    s.add_argument("--checkpoint", nargs="+", help="InGram checkpoint folder(s) (or --model, or --recommend)")
    s.add_argument(
        "--model",
        nargs="+",
        default=[],
        help="registered model(s) (`kgviz models`: ultra-3g, ultra-50g, frequency …), one row each beside the baselines",
    )
    s.add_argument(
        "--data", required=True, nargs="+", help="benchmark folder(s): msg.txt known facts, valid/test queries"
    )
    s.add_argument("--split", choices=["valid", "test"], default="test")
    _add_draws(s, REPORT_SEEDS[:5], "single random draws (default 100 … 104: not those that chose weights)")
    s.add_argument("--ensemble", type=int, default=10, help="also rank by scores averaged over K draws (default 10)")
    s.add_argument("--json", help="write the table to this JSON file")
    _add_leaderboard(
        s,
        "--recommend",
        "choose a ranking from msg.txt's held-out facts alone (docs/leaderboard.md), "
        "then rank test.txt with it: a row named `recommended`",
    )
    _add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_transfer)

    s = sub.add_parser("selfcheck", help="how well InGram and baselines predict a KG's own triples (held out in turn)")
    s.add_argument("--kg", required=True, help="TSV/CSV file of triples")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--checkpoint", help="InGram checkpoint folder (default: the default model, as predict)")
    which.add_argument(
        "--model", help="a registered model (`kgviz models`: NL-0, ultra-3g, frequency …) instead of --checkpoint"
    )
    s.add_argument("--baselines-only", action="store_true", help="no model: only the baselines")
    s.add_argument("--seeds", type=int, default=DRAWS, help=f"random draws averaged (default {DRAWS}, as the app)")
    s.add_argument(
        "--seed-from", type=int, default=SELF_CHECK_SEED, help=f"first draw (default {SELF_CHECK_SEED}, as the app)"
    )
    s.add_argument("--seed", type=int, default=0, help="seed of the held-out sample and the folds (default 0)")
    s.add_argument("--json", help="write metrics and every held-out triple's ranks to this JSON file")
    _add_leaderboard(
        s,
        "--leaderboard",
        "every scorer on the same held-out facts, validation and test apart, "
        "and a recommended ranking (docs/leaderboard.md)",
    )
    _add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_selfcheck)

    s = sub.add_parser(
        "compare", help="TransE … RotatE, R-GCN, InGram and ULTRA side by side (trained here, or zero-shot)"
    )
    s.add_argument("--kg", help="TSV/CSV file: train every model on it and rank --head/--tail --relation (or --split)")
    s.add_argument("--data", help="benchmark folder: train on msg.txt, rank test.txt, print the table")
    s.add_argument("--head", help="rank tails of (HEAD, RELATION, ?)")
    s.add_argument("--tail", help="rank heads of (?, RELATION, TAIL)")
    s.add_argument("--relation")
    s.add_argument("--expected", help="also print the filtered rank of this entity")
    s.add_argument(
        "--split",
        action="store_true",
        help="with --kg: the Why-InGram split; scores on held-out groups (a) seen, (b) with a new entity, "
        "(c) with a new relation",
    )
    s.add_argument(
        "--patterns",
        action="store_true",
        help="the lecture's property table, measured on synthetic pattern KGs (400 epochs a cell)",
    )
    s.add_argument(
        "--models",
        default="transe,transr,distmult,complex,rotate,rgcn,ingram,ultra-3g",
        help="comma-separated, of transe, transr, distmult, complex, rotate, rgcn, ingram, ingram-untrained, "
        "ultra-3g, ultra-4g, ultra-50g (ULTRA: zero-shot, as InGram)",
    )
    s.add_argument("--top-k", type=int, default=10)
    s.add_argument("--budget", type=float, default=25.0, help="training seconds per model (default 25)")
    s.add_argument("--max-epochs", type=int, default=1000, help="epoch limit per model (default 1000)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1, help="torch CPU threads while training (default 1; 0: torch's)")
    s.add_argument(
        "--checkpoint",
        default=None,
        help="InGram checkpoint applied zero-shot (default: the default model, kgviz.defaults)",
    )
    _add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_compare)

    s = sub.add_parser("workspace", help="list (default) or clear the KGs and adapted models the app keeps")
    ws = s.add_mutually_exclusive_group()
    ws.add_argument("--list", action="store_true", help="list the entries, most recently used first (default)")
    ws.add_argument("--clear", action="store_true", help="remove every entry")
    s.set_defaults(func=_cmd_workspace)
    return p


def _cmd_workspace(args: argparse.Namespace) -> None:
    from .workspace import cmd_workspace  # kgviz.workspace: the folder, its cap, the entries

    cmd_workspace(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .checkpoint import CheckpointError
    from .data import KGFormatError
    from .inference import UnknownNameError
    from .runtime import retain_freed_memory

    if args.command in ("train", "evaluate", "select", "store-draw", "adapt", "transfer"):
        retain_freed_memory()
    try:
        args.func(args)
    except (KGFormatError, CheckpointError, UnknownNameError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
