"""Checkpoints: resumable training state, and shipped weights (safetensors + manifest).

Training checkpoints hold state dicts and plain metadata only, written atomically
(temp file + rename) and read back with ``torch.load(weights_only=True)``. Shipped
weights are safetensors files (no pickle at all) beside a JSON manifest that carries
each model's config, data provenance, metrics and the SHA-256 of every file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Optional

import torch
from safetensors.torch import load_file, save_file

from engine.corpus import sha256_file  # noqa: F401  (re-exported: one implementation of file hashing)


def atomic_torch_save(obj: Any, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_training_state(path: Path) -> Optional[dict]:
    """The saved training state, or None if there is none (weights_only: no code runs)."""
    path = Path(path)
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def dataclass_from_dict(cls, d: dict):
    """A (frozen) config dataclass from its JSON form (JSON lists back to tuples)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def frozen_model_from_state(state_path: Path | str, build, what: str, device="cpu") -> torch.nn.Module:
    """A frozen model from a training state: ``build(config record) -> module``, then its weights."""
    state = load_training_state(Path(state_path))
    if state is None:
        raise FileNotFoundError(f"no {what} state at {state_path}")
    model = build(json.loads(state["config"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval().requires_grad_(False)


def config_dict(cfg: Any) -> dict:
    d = dataclasses.asdict(cfg)
    return json.loads(json.dumps(d))  # tuples -> lists, everything JSON-plain


def save_weights(model: torch.nn.Module, path: Path) -> str:
    """Write a model's weights as safetensors (contiguous, shared tensors de-duplicated); returns SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp))
    os.replace(tmp, path)
    return sha256_file(path)


class WeightsHashMismatch(RuntimeError):
    pass


def load_weights(model: torch.nn.Module, path: Path, sha256: Optional[str] = None, device: str = "cpu") -> None:
    """Load safetensors weights into ``model``, checking the file's SHA-256 first when given."""
    path = Path(path)
    if sha256 is not None:
        actual = sha256_file(path)
        if actual != sha256:
            raise WeightsHashMismatch(f"{path}: SHA-256 {actual} does not match the manifest's {sha256}")
    model.load_state_dict(load_file(str(path), device=device))
