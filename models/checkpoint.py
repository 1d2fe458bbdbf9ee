"""Checkpoints: resumable training state, and shipped weights (safetensors + manifest).

Training checkpoints hold state dicts and plain metadata only, written atomically
(temp file + rename) and read back with ``torch.load(weights_only=True)``. Shipped
weights are safetensors files (no pickle at all) beside a JSON manifest that carries
each model's config, data provenance, metrics and the SHA-256 of every file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

import torch
from safetensors.torch import load_file, save_file


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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
