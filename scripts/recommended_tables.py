"""The ``recommended`` rows of ``docs/transfer.md``: `kgviz transfer --data DIR --recommend` per benchmark set.

    OMP_NUM_THREADS=1 python -m kgviz transfer --data $KGVIZ_DATA/FB-100 --recommend --json FB-100.json
    python scripts/recommended_tables.py FB-100.json NL-100.json ...   # merge, then rewrite the doc's section

Merges the per-set results into ``docs/transfer_recommended.json`` (``{"kgs": {set: result}}``) and writes
the section "Recommended ranking" of ``docs/transfer.md`` in place (``scripts/transfer_tables.py`` writes the
same section when it regenerates the whole file). A set without a result is named as missing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ["FB-25", "FB-50", "FB-75", "FB-100", "NL-100", "WK-100"]
TITLE = "## Recommended ranking (`kgviz transfer --recommend`)"
ZERO_SHOT_PREFIXES = ("InGram", "ULTRA")


def _best(rows: list[dict], keep) -> dict | None:
    found = [r for r in rows if r["split"] == "test.txt" and r["method"] != "recommended" and keep(r["method"])]
    return max(found, key=lambda r: r["mrr"], default=None)


def _cell(row: dict | None) -> str:
    return "—" if row is None else f"{row['mrr']:.3f} ({row['method']})"


def recommended_lines(path: Path, sets: list[str] = SETS) -> list[str]:
    """The section: one row per set (the recommended test.txt MRR beside the best single, zero-shot and
    counting rows), then which sets have no result yet."""
    merged = json.loads(path.read_text()) if path.is_file() else {}
    kgs = merged.get("kgs", {})
    lines = [
        TITLE,
        "",
        "The choice is made from each set's `msg.txt` alone (held-out facts of msg.txt, validation half chooses; "
        "never valid.txt or test.txt; docs/leaderboard.md), among relation-side frequency, PageRank, the shipped "
        "InGram checkpoints and ULTRA 3g zero-shot, and DistMult, RotatE and R-GCN trained on msg.txt (60 s each, "
        "one thread); then the recommended ranking ranks `test.txt` (filtered, both directions). "
        "Figures from `docs/transfer_recommended.json`.",
        "",
        "| set | recommended (chosen on msg.txt) | **recommended**, test.txt MRR | best single row | best zero-shot "
        "row | counting + own entity last |",
        "|---|---|---|---|---|---|",
    ]
    for s in sets:
        if s not in kgs:
            continue
        rows = kgs[s]["rows"]
        rec = next(r for r in rows if r["method"] == "recommended" and r["split"] == "test.txt")
        counting = next(
            (
                r
                for r in rows
                if r["method"] == "relation-side frequency + own entity last" and r["split"] == "test.txt"
            ),
            None,
        )
        count = "—" if counting is None else f"{counting['mrr']:.3f}"
        lines.append(
            f"| {s} | {kgs[s]['recommended']} | **{rec['mrr']:.3f}** ({rec['mrr_low']:.3f}–{rec['mrr_high']:.3f}) | "
            f"{_cell(_best(rows, lambda m: True))} | {_cell(_best(rows, lambda m: m.startswith(ZERO_SHOT_PREFIXES)))} "
            f"| {count} |"
        )
    if merged.get("note"):
        lines += ["", merged["note"]]
    missing = [s for s in sets if s not in kgs]
    if missing:
        lines += ["", f"Not measured yet (too slow for the session that wrote this, one thread): {', '.join(missing)}."]
    return lines + [""]


def patch_section(text: str, section: list[str]) -> str:
    """``text`` with the section titled :data:`TITLE` replaced by ``section`` (or inserted before "## Per set")."""
    lines = text.splitlines()
    if TITLE in lines:
        start = lines.index(TITLE)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = lines.index("## Per set") if "## Per set" in lines else len(lines)
    return "\n".join(lines[:start] + section + lines[end:]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="*", help="JSON files of `kgviz transfer --recommend --json` (one set each)")
    p.add_argument("--json", default=str(ROOT / "docs" / "transfer_recommended.json"))
    p.add_argument("--out", default=str(ROOT / "docs" / "transfer.md"))
    p.add_argument("--note", help="a line under the table (e.g. which code measured the figures)")
    args = p.parse_args()
    merged = json.loads(Path(args.json).read_text()) if Path(args.json).is_file() else {"kgs": {}}
    if args.note:
        merged["note"] = args.note
    for f in args.results:
        result = json.loads(Path(f).read_text())
        merged["kgs"].update(result["kgs"] if "kgs" in result else {result["kg"]: result})
    Path(args.json).write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    out = Path(args.out)
    out.write_text(patch_section(out.read_text(encoding="utf-8"), recommended_lines(Path(args.json))), encoding="utf-8")
    print(f"written {args.json} and {args.out}")


if __name__ == "__main__":
    main()
