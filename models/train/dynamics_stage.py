"""Stage 2: the latent dynamics model, on windows of frames (frames only).

``model.kind = "latent"``: H+1 consecutive frames as FSQ codes (from the token cache); loss:
cross-entropy of the decoder's prediction of every FSQ digit of frames t+1..t+H
(models/dynamics.py says why not L2). ``model.kind = "pixel"``: the same windows decoded to
64-px frames by the frozen tokenizer; loss: weighted pixel MSE (models/dynamics_pixel.py).
Evaluation reads the predicted frame t+1 back to a board: the share of exactly
reconstructed next frames, against copying x_t; and how much of the move z_1 names (a
probe: each code is mapped to the change it most often goes with on training windows,
then scored on validation windows; the change is read off the frames, never a label).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import config_dict
from models.dynamics import DynamicsConfig, dynamics_loss
from models.dynamics_pixel import pixel_dynamics_loss
from models.ldm import build_dynamics, ldm_inputs
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.train.windows import WindowSampler, cache_summary, get_cache, load_tokenizer
from render.frame import RenderConfig
from render.reader import read_boards


@dataclass(frozen=True)
class DynamicsTrainConfig:
    model: DynamicsConfig = field(default_factory=DynamicsConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/dynamics", steps=3000, lr=1e-3))
    tokenizer_state: str = "runs/tokenizer/state.pt"
    cache_dir: str = "cache/tokens"
    data_dir: str = "data"
    size: int = 9
    batch: int = 64
    eval_every: int = 250
    eval_windows: int = 512
    change_weight: float = 20.0  # pixel LDM: loss weight of pixels that change (models/dynamics_pixel.py)


def _boards(frames: torch.Tensor, size: int, resolution: int) -> np.ndarray:
    """(B, 3, R, R) frames in [-1, 1] -> (B, N, N) boards read back by the renderer's reader."""
    return read_boards(frames.float().clamp(-1, 1).permute(0, 2, 3, 1).cpu().numpy(), size,
                       RenderConfig(resolution=resolution))


def change_point(b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """(B, N, N) boards -> (B,) first point that turns from empty to black (the mover's colour in
    the mover's view), N*N if none: what changed between two frames, read off the frames."""
    n2 = b0.shape[-1] ** 2
    new = ((b0 == 0) & (b1 == 1)).reshape(len(b0), -1)
    return np.where(new.any(1), new.argmax(1), n2)


def code_probe(train_z: np.ndarray, train_change: np.ndarray, val_z: np.ndarray, val_change: np.ndarray) -> float:
    """Share of validation windows whose change is the one their z_1 code goes with most
    often on training windows (codes unseen in training count as wrong)."""
    table: dict[int, np.ndarray] = {}
    for z, c in zip(train_z, train_change):
        table.setdefault(int(z), np.zeros(train_change.max() + 2, np.int64))[c] += 1
    guess = np.array([table[int(z)].argmax() if int(z) in table else -1 for z in val_z])
    return float((guess == val_change).mean())


@torch.no_grad()
def next_frame_recovery(model, windows: torch.Tensor, tokenizer, size: int, probe: torch.Tensor | None = None) -> dict:
    """Exact-board share of frame t+1 decoded from x_t and z_1, against copying x_t."""
    model.eval()
    res = tokenizer.cfg.resolution
    inputs = ldm_inputs(model, tokenizer, windows)
    z, out = model(inputs)
    true_frames = tokenizer.decode(windows[:, 1])
    b_t, b_next = _boards(tokenizer.decode(windows[:, 0]), size, res), _boards(true_frames, size, res)
    if model.kind == "latent":
        pred_ids = model.predicted_tokens(out[:, 0])
        pred = _boards(tokenizer.decode(pred_ids), size, res)
        metrics = {"next_token_acc": float((pred_ids == windows[:, 1]).float().mean()),
                   "copy_token_acc": float((windows[:, 0] == windows[:, 1]).float().mean()),
                   "val_loss": float(dynamics_loss(out, windows[:, 1:], model.token_fsq))}
    else:
        pred = _boards(out[:, 0], size, res)
        metrics = {"val_loss": float(pixel_dynamics_loss(out, inputs, 0.0))}
    metrics.update(next_board_exact=float((pred == b_next).all(axis=(1, 2)).mean()),
                   copy_board_exact=float((b_t == b_next).all(axis=(1, 2)).mean()))
    val_z1 = model.fsq.codes_to_indices(z[:, 0]).cpu().numpy()
    metrics["z1_distinct"] = int(len(np.unique(val_z1)))
    if probe is not None:
        pz, _ = model(ldm_inputs(model, tokenizer, probe))
        p_change = change_point(_boards(tokenizer.decode(probe[:, 0]), size, res),
                                _boards(tokenizer.decode(probe[:, 1]), size, res))
        metrics["z1_names_change"] = code_probe(model.fsq.codes_to_indices(pz[:, 0]).cpu().numpy(), p_change,
                                                val_z1, change_point(b_t, b_next))
    model.train()
    return metrics


def train(cfg: DynamicsTrainConfig) -> Path:
    configure_torch(cfg.loop)
    tokenizer = load_tokenizer(cfg.tokenizer_state)
    train_cache = get_cache(cfg.cache_dir, "train", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                            max(1, cfg.loop.threads))
    val_cache = get_cache(cfg.cache_dir, "val", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                          max(1, cfg.loop.threads))
    sampler = WindowSampler(train_cache, cfg.model.horizon + 1)
    val = WindowSampler(val_cache, cfg.model.horizon + 1)
    if len(val) == 0:  # a tiny corpus may have no validation game yet: evaluate on training windows
        val = sampler
    val_windows = torch.from_numpy(np.stack([val.get(*k) for k in val.all(cfg.eval_windows)]))
    probe = torch.from_numpy(np.stack([sampler.get(*k) for k in sampler.all(4 * cfg.eval_windows, seed=1)]))
    trainer = Trainer(cfg.loop, lambda: build_dynamics(cfg.model), {"stage": "dynamics", "data": cache_summary(train_cache),
                                                                 **config_dict(cfg)})
    tokenizer.to(trainer.device)
    for step in trainer.steps():
        rng = np.random.default_rng((cfg.loop.seed, step, trainer.rank))
        ids = torch.from_numpy(sampler.sample(rng, cfg.batch)).to(trainer.device)
        with torch.no_grad():
            inputs = ldm_inputs(trainer.model, tokenizer, ids)  # FSQ codes or decoded frames
        with trainer.autocast():
            _, out = trainer.wrapped(inputs)
        if cfg.model.kind == "latent":
            loss = dynamics_loss(out, ids[:, 1:], trainer.model.token_fsq)
        else:
            loss = pixel_dynamics_loss(out, inputs, cfg.change_weight) + trainer.model.range_penalty
        gnorm = trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 6), grad_norm=round(gnorm, 3))
        if trainer.is_main and (step + 1) % cfg.eval_every == 0:
            trainer.log(eval=True, **next_frame_recovery(trainer.model, val_windows.to(trainer.device), tokenizer,
                                                         cfg.size, probe.to(trainer.device)))
    trainer.close()
    return trainer.state_path
