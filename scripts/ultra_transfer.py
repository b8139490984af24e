"""ULTRA's rows of ``docs/transfer.md``: each ULTRA checkpoint on the transfer sets and the sample queries.

    OMP_NUM_THREADS=1 python scripts/ultra_transfer.py [--models ultra-3g ultra-4g ultra-50g] [--sets FB-100 ...]

Every ULTRA checkpoint of the registry (:func:`kgviz.models.registry.resolve_scorer`) is ranked through
:func:`kgviz.evaluation.transfer.scorer_rows` — filtered, both directions, the spec's tie rule, raw and under each
constraint the baselines get — on the test splits of FB-25/50/75/100, NL-100 and WK-100, and on each sample
KG's ``# query:`` line. Figures go to ``docs/transfer_ultra.json`` after each (checkpoint, set), so a long run
can stop and go on (``--reuse`` keeps what is there); the section between the ULTRA markers of
``docs/transfer.md`` is rewritten (``scripts/transfer_tables.py`` writes it too, from the same JSON).
ultra-50g's pre-training graphs are not published and may include InGram's FB-* splits: its FB rows say
"may not be zero-shot". ULTRA has no random draws: one row per constraint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kgviz.graph.data import load_benchmark  # noqa: E402
from kgviz.models.registry import ULTRA_NAMES, resolve_scorer  # noqa: E402
from kgviz.evaluation.transfer import may_have_seen, scorer_rows  # noqa: E402
from kgviz.evaluation.transfer_ranks import scorer_ranks, transfer_task  # noqa: E402

SETS = ["FB-25", "FB-50", "FB-75", "FB-100", "NL-100", "WK-100"]
JSON = ROOT / "docs" / "transfer_ultra.json"
BEGIN, END = "<!-- ultra rows: scripts/ultra_transfer.py -->", "<!-- end of ultra rows -->"


def sample_ranks(scorer) -> dict[str, dict[str, int]]:
    """Rank of each sample query's expected answer, raw and with both constraints."""
    from transfer_tables import sample_tasks  # scripts/ is on the path of a script run from it

    return {
        s["query"]: {
            k: int(v[0]) for k, v in scorer_ranks(scorer, s["task"]).items() if k in ("none", "both constraints")
        }
        for s in sample_tasks(ROOT / "sample_kgs")
    }


def ultra_lines(doc: dict) -> list[str]:
    """The Markdown section of ULTRA's rows (between the markers), from ``docs/transfer_ultra.json``."""
    models = doc.get("models", {})
    if not models:
        return []
    sets = [s for s in SETS if any(s in m["sets"] for m in models.values())]
    lines = [
        BEGIN,
        "## ULTRA (a KG foundation model, zero-shot)",
        "",
        "ULTRA's released checkpoints (`pretrained/ultra-*`, docs/ultra.md), filtered MRR over both directions, "
        "the spec's tie rule, raw and with both constraints (no random draws: one figure each), measured with "
        "`kgviz transfer --model` by `scripts/ultra_transfer.py`. † ultra-50g's pre-training graphs are not "
        "published and may include InGram's FB-\\* splits: its FB figures **may not be zero-shot**. — not measured "
        "yet (the command below measures it). The constraints were written for InGram, whose score cannot tell "
        "(h, r, t) from (t, r, h); ULTRA's can, and on the FB-\\* sets both constraints lower its MRR (below). "
        "Zero-shot with a caveat: all three checkpoints were pre-trained on FB15k-237, the source InGram's FB-\\* "
        "splits were cut from (their test triples may be FB15k-237 triples), "
        "and ultra-4g also on NELL-995, the source of NL-100: read those figures as transfer from related data.",
        "",
        "| method | " + " | ".join(sets) + " |",
        "|---|" + "---|" * len(sets),
    ]
    for name, m in models.items():
        for label, c in ((f"`{name}`", "none"), (f"  `{name}` + both constraints", "both constraints")):
            cells = []
            for s in sets:
                row = next((r for r in m["sets"].get(s, []) if r["constraints"] == c), None)
                mark = " †" if may_have_seen(name, s) else ""
                cells.append("—" if row is None else f"{row['metrics']['MRR']:.3f}{mark}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    samples = {q for m in models.values() for q in m.get("samples", {})}
    if samples:
        lines += ["", "Sample queries, rank of the expected answer (raw / both constraints):", ""]
        lines += ["| query | " + " | ".join(f"`{n}`" for n in models) + " |", "|---|" + "---|" * len(models)]
        for q in sorted(samples):
            cells = [
                f"{r['none']} / {r['both constraints']}" if (r := m.get("samples", {}).get(q)) else "—"
                for m in models.values()
            ]
            lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Command: `OMP_NUM_THREADS=1 python scripts/ultra_transfer.py --reuse` (FB-100 ≈ 4–5 min per checkpoint on "
        "one thread; `kgviz transfer --model ultra-3g --data DIR` for one set).",
        END,
    ]
    return lines


def rewrite_section(path: Path, lines: list[str]) -> None:
    """Replace the ULTRA section of ``path`` (between the markers), or append it."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.environ.get("KGVIZ_DATA", str(ROOT.parent / "shared" / "ingram-data")))
    p.add_argument("--models", nargs="+", default=list(ULTRA_NAMES))
    p.add_argument("--sets", nargs="+", default=SETS)
    p.add_argument("--reuse", action="store_true", help="keep the figures already in docs/transfer_ultra.json")
    p.add_argument("--out", default=str(ROOT / "docs" / "transfer.md"))
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    doc = json.loads(JSON.read_text()) if args.reuse and JSON.is_file() else {"models": {}}
    for name in args.models:
        scorer = resolve_scorer(name, device="cpu")
        entry = doc["models"].setdefault(name, {"sets": {}, "samples": {}})
        if not entry["samples"]:
            entry["samples"] = sample_ranks(scorer)
        for s in args.sets:
            folder = Path(args.data) / s
            if s in entry["sets"] or not (folder / "msg.txt").is_file():
                continue
            t0 = time.perf_counter()
            note = "may not be zero-shot" if may_have_seen(name, s) else ""
            rows = scorer_rows(scorer, transfer_task(load_benchmark(folder)), note=note)
            entry["sets"][s] = [
                {k: v for k, v in r.items() if k != "single"}
                | {"metrics": {k: round(x, 6) for k, x in r["metrics"].items()}}
                for r in rows
            ]
            JSON.write_text(json.dumps(doc, indent=1) + "\n")
            print(
                f"{name} on {s}: MRR {rows[0]['metrics']['MRR']:.3f} raw ({time.perf_counter() - t0:.0f} s)", flush=True
            )
        rewrite_section(Path(args.out), ultra_lines(doc))
    print(f"written {JSON} and the ULTRA section of {args.out}")


if __name__ == "__main__":
    main()
