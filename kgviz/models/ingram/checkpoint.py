"""Checkpoints in the authors' layout: a folder with ``config.json`` and a torch file.

The torch file is a dict with ``model_state_dict`` (the authors also store
``optimizer_state_dict``, ``inf_emb_ent``, ``inf_emb_rel``; we may add ``epoch`` and others).
Files are always read with ``torch.load(..., weights_only=True)``: no pickled code runs.
Writes are atomic (temporary file, then rename), so a killed run never leaves a broken file.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import warnings
from dataclasses import fields
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

from kgviz.config import InGramConfig
from kgviz.models.ingram.network import InGram

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "CONFIG_RANGES",
    "CheckpointError",
    "atomic_torch_save",
    "atomic_write_bytes",
    "find_checkpoint_file",
    "load_checkpoint",
    "parameter_bytes",
    "save_checkpoint",
    "validate_config",
]

CHECKPOINT_SUFFIXES = (".ckpt", ".pt", ".pth")
DEFAULT_FILENAME = "model.ckpt"
# Accepted values of each config.json option: (type, lowest, highest), both ends included.
CONFIG_RANGES: dict[str, tuple[type, float, float]] = {
    "learning_rate": (float, 1e-12, 10.0),
    "dimension_entity": (int, 1, 65_536),
    "dimension_relation": (int, 1, 65_536),
    "num_layer_ent": (int, 1, 64),
    "num_layer_rel": (int, 1, 64),
    "hidden_dimension_ratio_entity": (int, 1, 1024),
    "hidden_dimension_ratio_relation": (int, 1, 1024),
    "num_bin": (int, 1, 100_000),
    "num_head": (int, 1, 4096),
    "margin": (float, 0.0, 1e6),
    "num_neg": (int, 1, 1_000_000),
    "num_epoch": (int, 0, 10**9),
    "validation_epoch": (int, 1, 10**9),
}
# Options that fix the model's shape must be present; training-only ones may be left out (defaults).
REQUIRED_CONFIG_KEYS = (
    "dimension_entity",
    "dimension_relation",
    "num_layer_ent",
    "num_layer_rel",
    "hidden_dimension_ratio_entity",
    "hidden_dimension_ratio_relation",
    "num_bin",
    "num_head",
)
# Largest model kgviz builds (float32 parameters); InGram's published settings need a few MB.
MAX_PARAMETER_BYTES = 2 * 2**30


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


def save_checkpoint(
    directory: str | os.PathLike,
    model: InGram,
    config: InGramConfig,
    *,
    filename: str = DEFAULT_FILENAME,
    extra: dict | None = None,
) -> Path:
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
        raise CheckpointError(
            f"{directory}: several checkpoint files ({', '.join(p.name for p in files)}); pass the file itself"
        )
    return files[0]


def _check_option(key: str, value: object, source: str) -> None:
    """Type and range of one option (:data:`CONFIG_RANGES`; others: the type of their default)."""
    if key not in CONFIG_RANGES:
        kind = type(getattr(InGramConfig(), key))
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise CheckpointError(f"{source}: {key} must be of type {kind.__name__}, found {json.dumps(value)[:60]}")
        return
    kind, low, high = CONFIG_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise CheckpointError(
            f"{source}: {key} must be {'an integer' if kind is int else 'a number'}, found {json.dumps(value)[:60]}"
        )
    if not math.isfinite(value) or not low <= value <= high:
        raise CheckpointError(f"{source}: {key} = {value} is out of range ({low:g} to {high:g})")


def available_memory_bytes() -> int | None:
    """Memory the system can still hand out (Linux), or ``None`` where unknown."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


class _SkipNormalInit(TorchFunctionMode):
    """Makes ``Tensor.normal_`` a no-op (this thread only): shapes are all :func:`parameter_bytes` needs,
    and ``normal_`` on the meta device imports ``torch._dynamo`` (2–5 s on this project's machine)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.normal_:
            return args[0]
        return func(*args, **(kwargs or {}))


def parameter_bytes(config: InGramConfig) -> int:
    """Bytes of the float32 parameters of ``InGram.from_config(config)``, counted on the meta device.

    Nothing is allocated and nothing is drawn; raises ``ValueError`` for a model the constructor refuses.
    """
    with torch.device("meta"), _SkipNormalInit():
        model = InGram.from_config(config)
    return 4 * sum(p.numel() for p in model.parameters())


def validate_config(raw: object, source: str) -> InGramConfig:
    """An :class:`InGramConfig` from a parsed ``config.json``, every option checked first.

    Checks: a JSON object; the options in :data:`REQUIRED_CONFIG_KEYS` present; each option's type
    and range (:data:`CONFIG_RANGES`); a model the constructor accepts; parameters that fit in
    :data:`MAX_PARAMETER_BYTES` and in half the free memory. Keys that are not options are ignored.
    Raises :class:`CheckpointError` naming ``source`` (the file as the user knows it).
    """
    if not isinstance(raw, dict):
        raise CheckpointError(f"{source}: expected a JSON object of training options, found {type(raw).__name__}")
    missing = [k for k in REQUIRED_CONFIG_KEYS if k not in raw]
    if missing:
        raise CheckpointError(f"{source}: missing option{'s' * (len(missing) > 1)} {', '.join(missing)}")
    options = {f.name: raw[f.name] for f in fields(InGramConfig) if f.name in raw}
    for key, value in options.items():
        _check_option(key, value, source)
    config = InGramConfig.from_dict(options)
    try:
        size = parameter_bytes(config)
    except ValueError as exc:
        raise CheckpointError(f"{source}: describes an impossible model ({exc})") from None
    free = available_memory_bytes()
    limit = MAX_PARAMETER_BYTES if free is None else min(MAX_PARAMETER_BYTES, free // 2)
    if size > limit:
        raise CheckpointError(
            f"{source}: the model it describes needs {size / 2**30:,.1f} GiB of parameters, "
            f"more than the {limit / 2**30:.1f} GiB kgviz allows here"
        )
    return config


def read_config(path: Path, source: str | None = None) -> InGramConfig:
    """Read and check ``config.json`` (:func:`validate_config`); ``source`` names it in messages."""
    source = source or str(path)
    if not path.is_file():
        raise CheckpointError(f"{source}: missing config.json next to the checkpoint")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"{source}: not a JSON text file (not UTF-8)") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, a 5,000-digit number, deep nesting
        raise CheckpointError(f"{source}: not valid JSON ({str(exc)[:200]})") from None
    except OSError as exc:
        raise CheckpointError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    return validate_config(raw, source)


def _load_error(exc: Exception, source: str) -> CheckpointError:
    """A message for what ``torch.load(weights_only=True)`` refused, without torch's advice to retry."""
    text = str(exc)
    named = re.search(r"GLOBAL (\S+)", text)
    if named:
        return CheckpointError(
            f"{source}: holds pickled Python code or objects other than tensors (it refers to "
            f"{named.group(1)}); kgviz reads weights only and will not load it (nothing in it "
            "was run)"
        )
    torch_advice = ("Weights only load failed", "Please file an issue", "Check the documentation")
    reasons = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(torch_advice)]
    reason = reasons[0].split(". ")[0][:200] if reasons else type(exc).__name__
    return CheckpointError(
        f"{source}: cannot be read as a torch checkpoint of weights: truncated, corrupt, or "
        f"pickled objects that kgviz will not load ({reason})"
    )


def load_state(path: Path, map_location="cpu", source: str | None = None) -> dict:
    """Read a torch checkpoint safely; returns its dict (a bare state dict is wrapped)."""
    source = source or str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. torch's note on pickle protocols
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 — corrupt, truncated, or pickled code that weights_only refuses
        raise _load_error(exc, source) from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{source}: expected a dict, found {type(obj).__name__}")
    if "model_state_dict" not in obj:
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            obj = {"model_state_dict": obj}
        else:
            raise CheckpointError(f"{source}: no 'model_state_dict' entry")
    weights = obj["model_state_dict"]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{source}: 'model_state_dict' is not a dict of tensors")
    return obj


def load_checkpoint(
    path: str | os.PathLike,
    *,
    config_path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    source: str | None = None,
    config_source: str | None = None,
) -> tuple[InGram, InGramConfig, dict]:
    """Rebuild an :class:`InGram` from a checkpoint folder or file.

    ``path`` is a folder (with ``config.json`` and one torch file) or a torch file with
    ``config.json`` beside it (or at ``config_path``). ``source`` / ``config_source`` name the
    torch file / config in messages (e.g. the names of uploaded files; default: their paths).
    The config is checked (:func:`validate_config`) before anything is built. Returns ``(model in
    eval mode, config, the rest of the checkpoint dict)``. Raises :class:`CheckpointError` with the reason.
    """
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{source or p}: no such file or folder")
    file = find_checkpoint_file(p) if p.is_dir() else p
    source = source or str(file)
    config_file = Path(config_path) if config_path else file.parent / "config.json"
    config = read_config(config_file, config_source)
    state = load_state(file, source=source)
    model = InGram.from_config(config)  # validate_config built it on the meta device: it cannot fail here
    try:
        model.load_state_dict(state["model_state_dict"], strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()
        raise CheckpointError(
            f"{source}: weights do not match {config_source or 'config.json'} ({' '.join(first[:3])[:400]})"
        ) from None
    for name, t in state["model_state_dict"].items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{source}: parameter {name} holds NaN or infinite values")
    model.to(device).eval()
    rest = {k: v for k, v in state.items() if k != "model_state_dict"}
    return model, config, rest
