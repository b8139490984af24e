"""Where the shipped checkpoints live and which one is the default."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["pretrained_dir", "default_checkpoint", "DEFAULT_MODELS"]

REPO_ROOT = Path(__file__).resolve().parents[2]
# The default model, first shipped of these: the checkpoint with the best zero-shot figures in
# docs/transfer.md. NL-0 leads on FB-25/50/75/100 (ensemble MRR 0.207 raw, 0.281 with both
# constraints) and ranks every sample query's answer in the top 3 under the app's constraints; the
# universal checkpoint is better on validation (0.265 vs 0.239) but not on FB-* (0.178 / 0.273).
DEFAULT_MODELS = ("NL-0", "universal", "NL-100")


def pretrained_dir() -> Path:
    """``$KGVIZ_PRETRAINED`` or ``<repo>/pretrained``."""
    return Path(os.environ.get("KGVIZ_PRETRAINED") or REPO_ROOT / "pretrained")


def default_checkpoint() -> Path:
    """The folder of the default model (see :data:`DEFAULT_MODELS`); raises ``FileNotFoundError`` if none is shipped."""
    root = pretrained_dir()
    for name in DEFAULT_MODELS:
        if (root / name / "config.json").is_file():
            return root / name
    raise FileNotFoundError(
        f"{root}: none of the default models {', '.join(DEFAULT_MODELS)} is there; pass --checkpoint"
    )
