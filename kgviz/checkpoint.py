"""Checkpoints in the authors' layout: a folder with ``config.json`` and a torch file.

The torch file is a dict with ``model_state_dict`` (the authors also store
``optimizer_state_dict``, ``inf_emb_ent``, ``inf_emb_rel``; we may add ``epoch`` and others).
Files are always read with ``torch.load(..., weights_only=True)``: no pickled code runs.
Writes are atomic (temporary file, then rename), so a killed run never leaves a broken file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch

from .model import InGram, InGramConfig

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint", "atomic_write_bytes",
           "atomic_torch_save", "find_checkpoint_file", "CHECKPOINT_SUFFIXES"]

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
DEFAULT_FILENAME = "model.ckpt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(directory: str | os.PathLike, model: InGram, config: InGramConfig, *,
                    filename: str = DEFAULT_FILENAME, extra: dict | None = None) -> Path:
    """Write ``config.json`` and ``filename`` (``{"model_state_dict": ..., **extra}``) into ``directory``."""
    d = Path(directory)
    state = {"model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    state.update(extra or {})
    atomic_write_bytes(d / "config.json", (json.dumps(config.to_dict(), indent=2) + "\n").encode())
    atomic_torch_save(state, d / filename)
    return d / filename


def find_checkpoint_file(directory: Path) -> Path:
    """The one torch file in ``directory`` (``model.ckpt`` preferred)."""
    if (directory / DEFAULT_FILENAME).is_file():
        return directory / DEFAULT_FILENAME
    files = sorted(p for p in directory.iterdir() if p.suffix in CHECKPOINT_SUFFIXES and p.is_file())
    if not files:
        raise CheckpointError(f"{directory}: no checkpoint file ({', '.join(CHECKPOINT_SUFFIXES)})")
    if len(files) > 1:
        raise CheckpointError(f"{directory}: several checkpoint files ({', '.join(p.name for p in files)}); "
                              "pass the file itself")
    return files[0]


def read_config(path: Path) -> InGramConfig:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing config.json next to the checkpoint")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path}: expected a JSON object of training options")
    try:
        return InGramConfig.from_dict(raw)
    except TypeError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def load_state(path: Path, map_location="cpu") -> dict:
    """Read a torch checkpoint safely; returns its dict (a bare state dict is wrapped)."""
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt, truncated, or pickled code that weights_only refuses
        raise CheckpointError(f"{path}: cannot be read as a weights-only torch checkpoint "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict, found {type(obj).__name__}")
    if "model_state_dict" not in obj:
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            obj = {"model_state_dict": obj}
        else:
            raise CheckpointError(f"{path}: no 'model_state_dict' entry")
    weights = obj["model_state_dict"]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{path}: 'model_state_dict' is not a dict of tensors")
    return obj


def load_checkpoint(path: str | os.PathLike, *, config_path: str | os.PathLike | None = None,
                    device: str | torch.device = "cpu") -> tuple[InGram, InGramConfig, dict]:
    """Rebuild an :class:`InGram` from a checkpoint folder or file.

    ``path`` is a folder (with ``config.json`` and one torch file) or a torch file with
    ``config.json`` beside it (or at ``config_path``). Returns ``(model in eval mode, config,
    the rest of the checkpoint dict)``. Raises :class:`CheckpointError` with the reason.
    """
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{p}: no such file or folder")
    file = find_checkpoint_file(p) if p.is_dir() else p
    config = read_config(Path(config_path) if config_path else file.parent / "config.json")
    state = load_state(file)
    try:
        model = InGram.from_config(config)
    except ValueError as exc:
        raise CheckpointError(f"{file}: config.json describes an impossible model ({exc})") from None
    try:
        model.load_state_dict(state["model_state_dict"], strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()
        raise CheckpointError(f"{file}: weights do not match config.json ({' '.join(first[:3])[:400]})") from None
    for name, t in state["model_state_dict"].items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{file}: parameter {name} holds NaN or infinite values")
    model.to(device).eval()
    rest = {k: v for k, v in state.items() if k != "model_state_dict"}
    return model, config, rest
