"""Stage 2: the latent dynamics model, on windows of tokenizer latents (frames only).

Input: H+1 consecutive frames as FSQ codes (from the token cache). Loss: cross-entropy of
the decoder's prediction of every FSQ digit of frames t+1..t+H (models/dynamics.py says
why not L2). Evaluation decodes the predicted tokens of frame t+1 with the frozen
tokenizer and reads the board back: the share of exactly reconstructed next frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import config_dict
from models.dynamics import DynamicsConfig, LatentDynamics, dynamics_loss
from models.fsq import FSQ
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


def codes_of(ids: torch.Tensor, fsq: FSQ) -> torch.Tensor:
    """(B, L, 16) token ids -> (B, L, 16, 6) FSQ codes in [-1, 1]."""
    return fsq.indices_to_codes(ids)


@torch.no_grad()
def next_frame_recovery(model: LatentDynamics, windows: torch.Tensor, tokenizer, size: int) -> dict:
    """Exact-board share of frame t+1 decoded from f_t and z_1 (through the frozen tokenizer)."""
    model.eval()
    fsq = tokenizer.fsq
    codes = codes_of(windows, fsq)
    _, logits = model(codes)
    pred_ids = model.predicted_tokens(logits[:, 0])
    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    pred = read_boards(tokenizer.decode(pred_ids.cpu()).permute(0, 2, 3, 1).numpy(), size, rcfg)
    true = read_boards(tokenizer.decode(windows[:, 1].cpu()).permute(0, 2, 3, 1).numpy(), size, rcfg)
    model.train()
    token_acc = float((pred_ids.cpu() == windows[:, 1].cpu()).float().mean())
    copy_acc = float((windows[:, 0] == windows[:, 1]).float().mean())  # "nothing changes"
    return {"next_board_exact": float((pred == true).all(axis=(1, 2)).mean()), "next_token_acc": token_acc,
            "copy_token_acc": copy_acc, "val_loss": float(dynamics_loss(logits, windows[:, 1:], model.token_fsq))}


def train(cfg: DynamicsTrainConfig) -> Path:
    configure_torch(cfg.loop)
    tokenizer = load_tokenizer(cfg.tokenizer_state)
    train_cache = get_cache(cfg.cache_dir, "train", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress)
    val_cache = get_cache(cfg.cache_dir, "val", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress)
    sampler = WindowSampler(train_cache, cfg.model.horizon + 1)
    val = WindowSampler(val_cache, cfg.model.horizon + 1)
    if len(val) == 0:  # a tiny corpus may have no validation game yet: evaluate on training windows
        val = sampler
    val_windows = torch.from_numpy(np.stack([val.get(*k) for k in val.all(cfg.eval_windows)]))
    trainer = Trainer(cfg.loop, lambda: LatentDynamics(cfg.model), {"stage": "dynamics", "data": cache_summary(train_cache),
                                                                 **config_dict(cfg)})
    fsq = tokenizer.fsq.to(trainer.device)
    for step in trainer.steps():
        rng = np.random.default_rng((cfg.loop.seed, step, trainer.rank))
        ids = torch.from_numpy(sampler.sample(rng, cfg.batch)).to(trainer.device)
        codes = codes_of(ids, fsq)
        with trainer.autocast():
            _, logits = trainer.wrapped(codes)
        loss = dynamics_loss(logits, ids[:, 1:], trainer.model.token_fsq)
        gnorm = trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 6), grad_norm=round(gnorm, 3))
        if trainer.is_main and (step + 1) % cfg.eval_every == 0:
            trainer.log(eval=True, **next_frame_recovery(trainer.model, val_windows.to(trainer.device), tokenizer, cfg.size))
    trainer.close()
    return trainer.state_path
