"""The explorer's colours: one per relation, one per bin, and the marks of a selection."""

from __future__ import annotations

from functools import lru_cache

from plotly.colors import sample_colorscale

# 20 distinguishable relation colours, none red or orange (those mark selections and queries);
# relation r is drawn in PALETTE[r % 20], in the explorer's views and in the classroom alike.
PALETTE = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#6b6ecf",
    "#8c6d31",
    "#3182bd",
    "#31a354",
    "#756bb1",
    "#636363",
    "#9edae5",
    "#c5b0d5",
    "#dbdb8d",
    "#aec7e8",
)
HIGHLIGHT = "#e6194b"
FADED = "rgba(180,180,180,0.35)"


def relation_colour(r: int, num_relations: int | None = None) -> str:
    """Colour of relation ``r``; an inverse ``r + R`` gets the colour of ``r``."""
    if num_relations:
        r = r % num_relations
    return PALETTE[r % len(PALETTE)]


@lru_cache(maxsize=1024)  # plotly looks the scale up by name on every call (≈ 4 ms)
def bin_colour(b: int, num_bins: int) -> str:
    """Viridis from dark purple (bin 0, strongest) to yellow (bin ``B - 1``, weakest) — no red,
    which marks selections; the classroom's binning step uses the same colours."""
    t = 0.0 if num_bins <= 1 else b / (num_bins - 1)
    return sample_colorscale("Viridis", [t], colortype="rgb")[0]
