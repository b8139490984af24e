"""The commands behind ``kgviz COMMAND`` (:mod:`kgviz.cli.parser` builds the parser): one ``cmd_<name>(args)`` each.

Each command imports what it needs (torch among it) when it runs, so that ``kgviz --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kgviz.config import REPORT_SEEDS


def cmd_relgraph(args: argparse.Namespace) -> None:
    from kgviz.graph.data import read_kg
    from kgviz.graph.relgraph import binned_edges, relation_graph, relation_label, strongest_pairs

    kg = read_kg(args.kg)
    a = relation_graph(kg.triples, kg.num_entities, kg.num_relations)
    bins = binned_edges(a, args.num_bin)
    bin_of = {(int(i), int(j)): int(b) for i, j, b in bins}
    print(
        f"{kg}: relation graph over {a.shape[0]} relations (with inverses), {a.nnz} edges, "
        f"{args.num_bin} bins" + (f"; {kg.num_duplicates} duplicate triples dropped" if kg.num_duplicates else "")
    )
    width = max([len(relation_label(r, kg.relations)) for r in range(a.shape[0])] + [10])
    print(f"{'relation i':<{width}}  {'relation j':<{width}}  {'weight':>10}  bin")
    for i, j in strongest_pairs(a, args.top):
        print(
            f"{relation_label(i, kg.relations):<{width}}  {relation_label(j, kg.relations):<{width}}  "
            f"{a[i, j]:>10.4f}  {bin_of[(int(i), int(j))]:>3}"
        )


def _predict_scorer(
    args: argparse.Namespace, kg: Any, seeds: tuple[int, ...]
) -> tuple[Any, str, tuple[int, ...], bool, Any]:
    """The scorer ``predict`` ranks with, its name, its draws, whether it is the default model, and the seed
    of a checkpoint's stored draw (``None`` without ``--stored-draw``)."""
    from kgviz.models.registry import resolve_scorer

    if args.stored_draw:
        from kgviz.models.ingram.checkpoint import load_checkpoint
        from kgviz.models.ingram.draws import stored_features
        from kgviz.models.ingram.predictor import STORED_DRAW, Predictor
        from kgviz.models.pretrained import default_checkpoint

        source = args.checkpoint or (args.model and resolve_checkpoint_name(args.model)) or default_checkpoint()
        model, _, extra = load_checkpoint(source)
        stored = stored_features(extra, model, kg, source=str(source))
        pred = Predictor(model, kg, seeds=[STORED_DRAW], device=args.device, stored=stored)
        default_model = args.checkpoint is None and not args.model
        return pred.scorer, Path(source).name, (STORED_DRAW,), default_model, extra.get("inf_emb_seed", "?")
    scorer = resolve_scorer(args.checkpoint or args.model or "ingram", graph=kg, seeds=seeds, device=args.device)
    drawn = tuple(getattr(scorer, "seeds", ())) if scorer.capabilities.draws else ()
    return scorer, scorer.name, drawn, args.checkpoint is None and args.model is None, None


def resolve_checkpoint_name(name: str) -> Path:
    """The folder of a shipped checkpoint called ``name`` (for ``--stored-draw`` with ``--model``)."""
    from kgviz.models.pretrained import pretrained_dir

    return pretrained_dir() / name


def cmd_predict(args: argparse.Namespace) -> None:
    from kgviz.graph.data import read_kg
    from kgviz.defaults import DEFAULTS
    from kgviz.ranking.report import PredictSettings, header, ranking_json, ranking_table
    from kgviz.ranking.ranks import rank_query

    kg = read_kg(args.kg)
    seeds = (
        DEFAULTS.seeds(args.seed) if args.seeds is None else tuple(range(args.seed or 0, (args.seed or 0) + args.seeds))
    )
    scorer, name, drawn, default_model, stored_seed = _predict_scorer(args, kg, seeds)
    exclude_self, known_side = (False, False) if args.raw else (DEFAULTS.exclude_self, DEFAULTS.known_side)
    anchor, direction = (args.head, "tail") if args.head is not None else (args.tail, "head")
    ranking = rank_query(
        scorer,
        anchor,
        args.relation,
        direction,
        graph=kg,
        exclude_self=exclude_self,
        known_side=known_side,
        filter_known=args.filter_known,
        top_k=args.top_k,
    )
    device = str(getattr(scorer, "device", "cpu"))
    settings = PredictSettings(
        name, drawn, exclude_self, known_side, args.filter_known, args.top_k, device, default_model, stored_seed
    )
    title = f"({anchor}, {args.relation}, ?)" if direction == "tail" else f"(?, {args.relation}, {anchor})"
    print(header(title, kg, settings))
    print(ranking_table(ranking, args.top_k, direction, args.relation))
    if args.json:
        from kgviz.training.release import write_json

        write_json(args.json, ranking_json(ranking, anchor, args.relation, direction, settings))
        print(f"written to {args.json}")


def cmd_models(args: argparse.Namespace) -> None:
    from kgviz.models.registry import available_scorers

    rows = available_scorers()
    width = max(len(r.name) for r in rows)
    print(f"{'name':<{width}}  {'needs':<18}  description")
    for r in rows:
        print(
            f"{r.name:<{width}}  {r.needs.value:<18}  {r.description}{'' if r.available else ' (not available here)'}"
        )


def cmd_evaluate(args: argparse.Namespace) -> None:
    from kgviz.models.ingram.checkpoint import load_checkpoint
    from kgviz.graph.data import load_benchmark
    from kgviz.models.ingram.draws import stored_features
    from kgviz.evaluation.benchmark import evaluate, format_metrics, selection_draws_reused
    from kgviz.training.release import write_json

    model, _, extra = load_checkpoint(args.checkpoint)
    reused = selection_draws_reused(extra, args.seeds)
    if reused:
        print(
            f"note: draws {reused} chose this checkpoint (its valid_seeds); figures on them are optimistic. "
            "Use other seeds, e.g. the default 100 … 104.",
            file=sys.stderr,
        )
    data = load_benchmark(args.data)
    stored = None
    if args.stored_draw:
        stored = stored_features(extra, model, data.inference, source=str(args.checkpoint))
    result = evaluate(
        model, data, args.split, seeds=args.seeds, ensemble=args.ensemble, device=args.device, stored=stored
    )
    result["checkpoint"], result["data"] = str(args.checkpoint), str(args.data)
    print(format_metrics(result))
    if stored is not None:
        result["stored_draw"]["seed"] = extra.get("inf_emb_seed")
        print(
            f"stored = the draw kept in the checkpoint (seed {extra.get('inf_emb_seed', '?')}), chosen on valid "
            "as the authors' test.py does: a selected draw, not a random one"
        )
    if args.json:
        write_json(args.json, result)
        print(f"written to {args.json}")


def cmd_store_draw(args: argparse.Namespace) -> None:
    from kgviz.graph.data import load_benchmark
    from kgviz.training.release import store_draw

    clash = sorted(set(args.seeds) & set(REPORT_SEEDS))
    if clash:
        raise ValueError(f"draws {clash} are reporting draws (100 … 109); choose the stored draw among others")
    data = load_benchmark(args.data)
    kept = store_draw(args.checkpoint, data, args.seeds, device=args.device)
    ranked = sorted(kept.choice["pool_valid_mrr"].items(), key=lambda kv: -kv[1])
    print(
        f"valid MRR of single draws on {data.name}: best {ranked[0][1]:.4f} (seed {ranked[0][0]}), "
        f"median {ranked[len(ranked) // 2][1]:.4f}, worst {ranked[-1][1]:.4f} (seed {ranked[-1][0]})"
    )
    print(
        f"stored draw {kept.choice['seed']} ({data.inference.num_entities} entities, "
        f"{data.inference.num_relations} relations) in {kept.file}; score it with `evaluate --stored-draw`"
    )


def cmd_compare(args: argparse.Namespace) -> None:
    from kgviz.models.baselines import TrainOptions, parse_model_names
    from kgviz.models.baselines.compare import (
        compare_on_benchmark,
        compare_query,
        format_compare_table,
        format_rankings,
    )
    from kgviz.graph.data import load_benchmark, read_kg

    modes = [args.data is not None, args.kg is not None and not args.split, args.split, args.patterns]
    if sum(modes) != 1:
        raise ValueError(
            "compare needs exactly one of: --data DIR, --kg FILE with --head/--tail and --relation, "
            "--kg FILE --split, --patterns"
        )
    models = parse_model_names(args.models)
    if args.checkpoint is None:  # the default model (kgviz.defaults), as predict and the app
        from kgviz.models.baselines.ingram import DEFAULT_CHECKPOINT

        args.checkpoint = str(DEFAULT_CHECKPOINT)
    options = TrainOptions(
        time_budget_s=args.budget,
        max_epochs=args.max_epochs,
        seed=args.seed,
        threads=args.threads or None,
        device=args.device,
        progress_bar=not args.no_progress,
    )
    say = (lambda name: None) if args.no_progress else (lambda name: print(f"{name} …", file=sys.stderr, flush=True))
    if args.patterns:
        from kgviz.models.baselines.patterns import PATTERN_EPOCHS, format_property_table, property_table

        options.max_epochs = min(args.max_epochs, PATTERN_EPOCHS)
        print(
            format_property_table(
                property_table(
                    models,
                    options,
                    seed=args.seed,
                    checkpoint=args.checkpoint,
                    progress=lambda m, p: say(f"{m} on {p}"),
                )
            )
        )
    elif args.data is not None:
        data = load_benchmark(args.data)
        rows = compare_on_benchmark(data, models, options, checkpoint=args.checkpoint, progress=say)
        title = (
            f"{data.name}: trained on msg.txt ({data.inference.num_triples} triples), test split "
            f"{len(data.test)} queries × 2 directions, filtered; budget {args.budget:.0f} s per model"
        )
        print(format_compare_table(rows, title))
    elif args.split:
        from kgviz.models.baselines.split import format_split_table, score_split, why_ingram_split

        split = why_ingram_split(read_kg(args.kg), args.seed)
        print(format_split_table(split, score_split(split, models, options, checkpoint=args.checkpoint, progress=say)))
    else:
        if args.relation is None or (args.head is None) == (args.tail is None):
            raise ValueError("compare --kg needs --relation and exactly one of --head / --tail (or --split)")
        kg = read_kg(args.kg)
        anchor, direction = (args.head, "tail") if args.head is not None else (args.tail, "head")
        print(
            format_rankings(
                compare_query(
                    kg,
                    anchor,
                    args.relation,
                    models,
                    options,
                    direction=direction,
                    expected=args.expected,
                    top_k=args.top_k,
                    checkpoint=args.checkpoint,
                    progress=say,
                )
            )
        )


def cmd_transfer(args: argparse.Namespace) -> None:
    from kgviz.evaluation.transfer import format_transfer, transfer

    if args.recommend:
        from kgviz.evaluation.leaderboard.commands import transfer_recommend

        return transfer_recommend(args)
    if not args.checkpoint and not args.model:
        raise ValueError("transfer needs --checkpoint or --model (or --recommend)")

    result = transfer(
        args.checkpoint or [],
        args.data,
        split=args.split,
        seeds=args.seeds,
        ensemble=args.ensemble,
        device=args.device,
        progress=not args.no_progress,
        models=args.model,
    )
    print(format_transfer(result))
    if args.json:
        from kgviz.training.release import write_json

        write_json(args.json, result)
        print(f"written to {args.json}")


def cmd_selfcheck(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from kgviz.models.ingram.checkpoint import load_checkpoint
    from kgviz.graph.data import read_kg
    from kgviz.models.pretrained import default_checkpoint
    from kgviz.evaluation.selfcheck import format_self_check, self_check

    if args.leaderboard:
        from kgviz.evaluation.leaderboard.commands import selfcheck_leaderboard

        return selfcheck_leaderboard(args)
    kg = read_kg(args.kg)
    scorer: Any = None
    source: Any = None
    if args.model and not args.baselines_only:  # a registered name: InGram's network, or any other scorer
        from kgviz.models.registry import resolve_scorer

        scorer = resolve_scorer(args.model, device=args.device)
    if scorer is not None and scorer.capabilities.draws:  # InGram: the fold-union path, the draws of --seeds
        source, model, scorer = scorer.name, scorer.model, None
    else:
        source = None if args.baselines_only or scorer is not None else args.checkpoint or default_checkpoint()
        model = None if source is None else load_checkpoint(source)[0]
    with tqdm(total=100, desc="self-check", unit="%", disable=args.no_progress) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(round(100 * fraction) - bar.n)

        result = self_check(
            kg,
            model,
            seeds=range(args.seed_from, args.seed_from + args.seeds),
            seed=args.seed,
            device=args.device,
            progress=progress,
            scorer=scorer,
        )
    print(format_self_check(result))
    if args.json:
        from kgviz.training.release import write_json

        write_json(
            args.json,
            {
                "kg": str(args.kg),
                "checkpoint": None if source is None else str(source),
                "model": result.model_name if (model is not None or scorer is not None) else None,
                "protocol": result.protocol,
                "folds": result.num_folds,
                "seeds": result.seeds,
                "metrics": result.metrics,
                "held_out": result.rows(),
            },
        )
        print(f"written to {args.json}")
