"""The parsers of the training commands: ``kgviz train``, ``kgviz adapt``, ``kgviz select``."""

from __future__ import annotations

import argparse
from dataclasses import fields

from kgviz.cli import train_commands
from kgviz.cli.options import Subcommands, add_draws, add_run_options
from kgviz.config import HOLDOUT_SEEDS, MESSAGE_RATIO, InGramConfig


def _add_subgraph_options(s: argparse.ArgumentParser) -> None:
    """``kgviz train``'s options for training on subgraphs of several graphs (the universal checkpoint)."""
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


def _add_config_options(s: argparse.ArgumentParser) -> None:
    """One option per :class:`kgviz.config.InGramConfig` field (the authors' ``config.json`` keys)."""
    defaults = InGramConfig()
    for f in fields(InGramConfig):
        s.add_argument(
            f"--{f.name}",
            type=type(getattr(defaults, f.name)),
            default=getattr(defaults, f.name),
            help=f"(default {getattr(defaults, f.name)})",
        )


def train_command(sub: Subcommands) -> None:
    """``kgviz train``."""
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
    _add_subgraph_options(s)
    s.add_argument("--verbose", action="store_true", help="also log to stderr")
    _add_config_options(s)
    add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_train)


def adapt_command(sub: Subcommands) -> None:
    """``kgviz adapt``."""
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
    add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_adapt)


def select_command(sub: Subcommands) -> None:
    """``kgviz select``."""
    s = sub.add_parser("select", help="re-validate a run's snapshots with more draws; the best becomes model.ckpt")
    s.add_argument("--run", required=True, help="run folder of `train --snapshots`")
    s.add_argument("--data", required=True, help="the benchmark folder the run was trained on")
    add_draws(s, range(30), "random draws (default 0…29; keep them apart from the reporting draws 100…)")
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
    add_run_options(s, threads=True, progress=True)
    s.set_defaults(func=train_commands.cmd_select)
