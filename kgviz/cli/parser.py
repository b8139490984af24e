"""Command line: ``kgviz {relgraph,predict,train,select,evaluate,store-draw,compare,transfer,selfcheck,...} ...``

Only the parser is built here; the commands are in :mod:`kgviz.cli.commands` and :mod:`kgviz.cli.train_commands`,
and each imports what it needs (torch among it) when it runs, so ``kgviz --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

from kgviz.cli import commands
from kgviz.cli.options import Subcommands, add_draws, add_leaderboard, add_run_options, add_stored_draw
from kgviz.config import REPORT_SEEDS
from kgviz.cli.train_parsers import adapt_command, select_command, train_command
from kgviz.defaults import DRAWS, SEED, SELF_CHECK_SEED


def _relgraph_command(sub: Subcommands) -> None:
    """``kgviz relgraph``."""
    s = sub.add_parser("relgraph", help="print the strongest relation pairs of a KG with their bins")
    s.add_argument("--kg", required=True, help="TSV/CSV file of triples")
    s.add_argument("--num-bin", type=int, default=10, help="bins B (default 10)")
    s.add_argument("--top", type=int, default=20, help="pairs to print (default 20)")
    s.set_defaults(func=commands.cmd_relgraph)


def _predict_command(sub: Subcommands) -> None:
    """``kgviz predict``."""
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
    add_stored_draw(s, "use the draw the checkpoint keeps for this KG (`store-draw`) instead of random draws")
    add_run_options(s)
    s.set_defaults(func=commands.cmd_predict)


def _models_command(sub: Subcommands) -> None:
    """``kgviz models``."""
    s = sub.add_parser("models", help="list the registered models (scorers) and what each needs")
    s.set_defaults(func=commands.cmd_models)


def _evaluate_command(sub: Subcommands) -> None:
    """``kgviz evaluate``."""
    s = sub.add_parser("evaluate", help="filtered MR/MRR/Hits of a checkpoint on a benchmark split")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--split", choices=["valid", "test"], default="test")
    add_draws(s, REPORT_SEEDS[:5], "random draws (default 100 … 104: not those that validation and `select` use)")
    s.add_argument("--ensemble", type=int, default=None, help="also rank by scores averaged over K draws")
    s.add_argument("--json", help="write the figures to this JSON file")
    add_stored_draw(s, "also score the draw stored in the checkpoint (`store-draw`; the authors' test.py protocol)")
    add_run_options(s)
    s.set_defaults(func=commands.cmd_evaluate)


def _store_draw_command(sub: Subcommands) -> None:
    """``kgviz store-draw``."""
    s = sub.add_parser("store-draw", help="keep the draw with the best valid MRR in the checkpoint (authors' protocol)")
    s.add_argument("--checkpoint", required=True, help="checkpoint folder or file; rewritten with the draw added")
    s.add_argument("--data", required=True, help="benchmark folder whose inference graph the draw is for")
    add_draws(s, range(30), "candidate draws, judged on valid only (default 0…29; not the reporting draws 100…)")
    add_run_options(s)
    s.set_defaults(func=commands.cmd_store_draw)


def _transfer_command(sub: Subcommands) -> None:
    """``kgviz transfer``."""
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
    add_draws(s, REPORT_SEEDS[:5], "single random draws (default 100 … 104: not those that chose weights)")
    s.add_argument("--ensemble", type=int, default=10, help="also rank by scores averaged over K draws (default 10)")
    s.add_argument("--json", help="write the table to this JSON file")
    add_leaderboard(
        s,
        "--recommend",
        "choose a ranking from msg.txt's held-out facts alone (docs/leaderboard.md), "
        "then rank test.txt with it: a row named `recommended`",
    )
    add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_transfer)


def _selfcheck_command(sub: Subcommands) -> None:
    """``kgviz selfcheck``."""
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
    add_leaderboard(
        s,
        "--leaderboard",
        "every scorer on the same held-out facts, validation and test apart, "
        "and a recommended ranking (docs/leaderboard.md)",
    )
    add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_selfcheck)


def _compare_command(sub: Subcommands) -> None:
    """``kgviz compare``."""
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
    add_run_options(s, progress=True)
    s.set_defaults(func=commands.cmd_compare)


def _workspace_command(sub: Subcommands) -> None:
    """``kgviz workspace``."""
    s = sub.add_parser("workspace", help="list (default) or clear the KGs and adapted models the app keeps")
    ws = s.add_mutually_exclusive_group()
    ws.add_argument("--list", action="store_true", help="list the entries, most recently used first (default)")
    ws.add_argument("--clear", action="store_true", help="remove every entry")
    s.set_defaults(func=_cmd_workspace)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``kgviz COMMAND …``: one subcommand per ``_<command>_command`` function."""
    p = argparse.ArgumentParser(prog="kgviz", description="kgviz: explore InGram on knowledge graphs")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _relgraph_command(sub)
    _predict_command(sub)
    _models_command(sub)
    train_command(sub)
    adapt_command(sub)
    select_command(sub)
    _evaluate_command(sub)
    _store_draw_command(sub)
    _transfer_command(sub)
    _selfcheck_command(sub)
    _compare_command(sub)
    _workspace_command(sub)
    return p


def _cmd_workspace(args: argparse.Namespace) -> None:
    from kgviz.workspace import cmd_workspace  # kgviz.workspace: the folder, its cap, the entries

    cmd_workspace(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kgviz.models.ingram.checkpoint import CheckpointError
    from kgviz.graph.data import KGFormatError
    from kgviz.models.ingram.predictor import UnknownNameError
    from kgviz.runtime import retain_freed_memory

    if args.command in ("train", "evaluate", "select", "store-draw", "adapt", "transfer"):
        retain_freed_memory()
    try:
        args.func(args)
    except (KGFormatError, CheckpointError, UnknownNameError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
