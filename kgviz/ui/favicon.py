"""The page icon: a small drawn graph (three nodes, three edges), made here rather than an emoji or a
Material icon — Debian's Chromium has no colour-emoji font, and Streamlit fetches a Material page icon
from fonts.gstatic.com, an outside request the app must not make."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

SIZE = 64  # px, drawn at 4× and scaled down (smooth edges)
NODES = ((0.22, 0.30), (0.78, 0.24), (0.52, 0.78))  # centres, as shares of the side
COLOURS = ("#c0392b", "#2c7fb8", "#e67e22")


@lru_cache(maxsize=1)
def favicon() -> Image.Image:
    """The icon, ``SIZE × SIZE`` RGBA on a transparent background."""
    big = 4 * SIZE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    points = [(x * big, y * big) for x, y in NODES]
    for k, a in enumerate(points):
        draw.line([a, points[(k + 1) % len(points)]], fill="#7f8c8d", width=big // 16)
    radius = big // 8
    for (x, y), colour in zip(points, COLOURS):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
