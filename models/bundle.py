"""The shipped model: tokenizer + LDM + transformer (+ vocabulary) + IDM (+ value model), as safetensors.

A bundle folder holds one safetensors file per model and ``manifest.json`` with every
config, the data provenance, held-out metrics and each file's SHA-256. Loading checks
the hashes before any weight is read; nothing is unpickled.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
from safetensors.torch import load_file, save_file

from models.checkpoint import WeightsHashMismatch, dataclass_from_dict, load_training_state, sha256_file
from models.dynamics import DynamicsConfig
from models.frame_slots import SLOTS_KEY, FrameSlots, check_mask
from models.low_precision import bf16_matmuls
from models.precisions import PRECISIONS
from models.ldm import build_dynamics
from models.idm import IdmConfig, InverseDynamics
from models.tokenizer import FrameTokenizer, TokenizerConfig
from models.transformer import ModelArgs, Transformer
from models.value import ValueConfig, ValueNet
from models.vocab import CodeVocab, Layout

FILES = {"tokenizer": "tokenizer.safetensors", "dynamics": "dynamics.safetensors",
         "transformer": "transformer.safetensors", "idm": "idm.safetensors"}
# a bundle may have these; without them the player falls back (winrate: the transformer's outcome head)
OPTIONAL_FILES = {"value": "value.safetensors", "slots": "slots.safetensors"}  # slots: models/frame_slots.py
ALL_FILES = {**FILES, **OPTIONAL_FILES}
DEFAULT_BUNDLE = Path(__file__).resolve().parent.parent / "weights" / "9x9"
# the inference copy each precision of models/precisions.PRECISIONS but "fp32" imagines with
_CASTS = {"bf16": bf16_matmuls}


@dataclass
class Bundle:
    tokenizer: FrameTokenizer
    dynamics: torch.nn.Module  # LatentDynamics or PixelDynamics
    transformer: Transformer
    vocab: CodeVocab
    idm: InverseDynamics
    layout: Layout
    board_size: int
    manifest: dict
    value: Optional[ValueNet] = None
    frame_slots: Optional[torch.Tensor] = None  # (16, frame codes) bool: the codes each slot used in training video
    _slot_rows: dict = field(default_factory=dict, repr=False)  # precision -> FrameSlots
    _cast: dict = field(default_factory=dict, repr=False)  # precision -> the transformer's inference copy

    def to(self, device) -> "Bundle":
        for m in (self.tokenizer, self.dynamics, self.transformer, self.idm, self.value):
            if m is not None:
                m.to(device)
        self._slot_rows, self._cast = {}, {}  # built again on the new device when asked
        return self

    def transformer_for(self, precision: str = "fp32") -> Transformer:
        """The transformer as a player imagines with it: "fp32" the trained one, "bf16" a copy whose
        matrix products run in bf16 (models/low_precision.py), built on first use and shared by every
        player of this bundle."""
        if precision == "fp32":
            return self.transformer
        if precision not in _CASTS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if precision not in self._cast:
            self._cast[precision] = _CASTS[precision](self.transformer)
        return self._cast[precision]

    def slot_rows(self, precision: str = "fp32") -> Optional[FrameSlots]:
        """The output rows per frame slot (models/frame_slots.py) of ``transformer_for(precision)``, built on
        first use and shared by every player of this bundle; None when the bundle has no slot sets."""
        if self.frame_slots is None:
            return None
        if precision not in self._slot_rows:
            output = self.transformer_for(precision).output.weight.detach()
            self._slot_rows[precision] = FrameSlots.build(output, self.vocab, self.frame_slots)
        return self._slot_rows[precision]

    @property
    def device(self) -> torch.device:
        return self.transformer.tok_embeddings.weight.device


def _build(manifest: dict) -> tuple:
    c = manifest["configs"]
    tok = FrameTokenizer(dataclass_from_dict(TokenizerConfig, c["tokenizer"]))
    dyn = build_dynamics(dataclass_from_dict(DynamicsConfig, c["dynamics"]))
    tr = Transformer(dataclass_from_dict(ModelArgs, c["transformer"]))
    idm = InverseDynamics(dataclass_from_dict(IdmConfig, c["idm"]))
    return tok, dyn, tr, idm


def load_bundle(folder: Path | str = DEFAULT_BUNDLE, device: str | torch.device = "cpu", verify: bool = True) -> Bundle:
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    tok, dyn, tr, idm = _build(manifest)
    states = {}
    present = {**FILES, **{k: f for k, f in OPTIONAL_FILES.items() if f in manifest["files"]}}
    for name, fname in present.items():
        path = folder / fname
        if verify:
            want = manifest["files"][fname]["sha256"]
            got = sha256_file(path)
            if got != want:
                raise WeightsHashMismatch(f"{path}: SHA-256 {got} != manifest {want}")
        states[name] = load_file(str(path))
    vocab = CodeVocab.from_state({k: v for k, v in states["transformer"].items() if k.startswith("vocab.")})
    tok.load_state_dict(states["tokenizer"])
    dyn.load_state_dict(states["dynamics"])
    tr.load_state_dict({k: v for k, v in states["transformer"].items() if not k.startswith("vocab.")})
    idm.load_state_dict(states["idm"])
    value = None
    if "value" in states:
        value = ValueNet(dataclass_from_dict(ValueConfig, manifest["configs"]["value"]))
        value.load_state_dict(states["value"])
    for m in (tok, dyn, tr, idm, value):
        if m is not None:
            m.eval().requires_grad_(False)
    layout = Layout(manifest["layout"]["context"], manifest["layout"]["horizon"])
    # a mask that does not fit the vocabulary fails here, at load; its rows are copied on first use (slot_rows)
    slots = torch.from_numpy(check_mask(vocab, states["slots"][SLOTS_KEY].numpy())) if "slots" in states else None
    return Bundle(tok, dyn, tr, vocab, idm, layout, manifest["board_size"], manifest, value, slots).to(device)


def export_bundle(out: Path | str, runs: dict[str, str], vocab_path: str, board_size: int, context: int,
                  provenance: dict, metrics: Optional[dict] = None, player: Optional[dict] = None) -> dict:
    """Training states (runs: stage -> state.pt) -> safetensors + manifest in ``out``.

    ``player``: play-time settings chosen on validation data (e.g. {"branches": 16, "chosen_on": ...}),
    read by NeuralPlayer as its defaults.

    With an "outcome" run, the transformer weights come from it (the same transformer with
    its trained outcome head); both stages' training records go into the manifest.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"format": "videoworld-go bundle v1", "board_size": board_size,
                      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      "configs": {}, "training": {}, "files": {}, "provenance": provenance, "metrics": metrics or {}}
    if player:
        manifest["player"] = player
    for stage, path in runs.items():
        state = load_training_state(Path(path))
        rec = json.loads(state["config"])
        manifest["training"][stage] = {"steps": int(state["step"]), "seconds": round(float(state["elapsed"]), 1),
                                       "config": {k: v for k, v in rec.items() if k not in ("model", "model_args")}}
        if stage == "transformer" and "outcome" in runs:
            continue  # its weights are written from the outcome run, which holds them plus the head
        target = "transformer" if stage == "outcome" else stage
        manifest["configs"][target] = rec["model_args"] if target == "transformer" else rec["model"]
        tensors = {k: v.contiguous() for k, v in state["model"].items()}
        if target == "transformer":
            tensors.update(CodeVocab.load(vocab_path).state())
            manifest["layout"] = {"context": context, "horizon": rec["horizon"]}
        fname = ALL_FILES[target]
        save_file(tensors, str(out / fname))
        manifest["files"][fname] = {"sha256": sha256_file(out / fname), "bytes": (out / fname).stat().st_size}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
