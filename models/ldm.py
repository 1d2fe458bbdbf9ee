"""Either LDM behind one interface: build it from its config, and feed it token windows.

The transformer and IDM stages hold token ids (the token cache); the latent LDM reads
them as FSQ codes, the pixel LDM as frames decoded by the frozen tokenizer (or by its own copy
of the decoder it was trained with, when the bundle's decoder was fine-tuned after it).
"""

from __future__ import annotations

import torch
from torch import nn

from models.dynamics import DynamicsConfig, LatentDynamics
from models.dynamics_pixel import PixelDynamics


def build_dynamics(cfg: DynamicsConfig) -> nn.Module:
    if cfg.kind == "latent":
        return LatentDynamics(cfg)
    if cfg.kind == "pixel":
        return PixelDynamics(cfg)
    raise ValueError(f"unknown LDM kind {cfg.kind!r} (latent, pixel)")


def ldm_inputs(ldm: nn.Module, tokenizer, ids: torch.Tensor) -> torch.Tensor:
    """(B, T, 16) token ids -> what ``ldm`` reads: (B, T, 16, 6) FSQ codes or (B, T, 3, R, R) frames."""
    if ldm.kind == "latent":
        return tokenizer.fsq.indices_to_codes(ids)
    if ldm.reader is not None:
        tokenizer = ldm.reader  # the decoder this LDM was trained with (a fine-tuned one is elsewhere)
    # windows of one game overlap (the IDM's pairs: every t, so each frame sits in H+1 windows):
    # each distinct frame is decoded once, then gathered back into place
    flat = ids.flatten(0, 1)  # (B*T, 16)
    uniq, where = torch.unique(flat, dim=0, return_inverse=True)  # (U, 16), (B*T,)
    frames = tokenizer.decode(uniq)[where] if len(uniq) < len(flat) else tokenizer.decode(flat)  # (B*T, 3, R, R)
    return frames.unflatten(0, ids.shape[:2])


@torch.no_grad()
def ldm_codes(ldm: nn.Module, tokenizer, windows: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """(B, H+1, 16) raw token ids -> (B, H) raw LDM code ids."""
    out = [ldm.code_indices(ldm_inputs(ldm, tokenizer, windows[i:i + batch])) for i in range(0, len(windows), batch)]
    return torch.cat(out) if out else torch.zeros(0, ldm.cfg.horizon, dtype=torch.long)
