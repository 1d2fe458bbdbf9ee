"""Stage 1: the frame tokenizer, trained on frames only (pixel reconstruction).

Frames come from two sources, half of each batch: positions of the training games
(any view, any symmetry) and boards with random stone density (an unbounded supply
that covers every local pattern). Figure of merit: the renderer's reader applied to
decode(encode(frame)) gives back exactly the original board.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import config_dict
from models.tokenizer import FrameTokenizer, TokenizerConfig, reconstruction_loss
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.video_data import game_videos, random_boards, swap_colours, symmetry
from render.frame import RenderConfig, render_many, to_float
from render.reader import patch_mask, read_boards


@dataclass(frozen=True)
class TokenizerTrainConfig:
    model: TokenizerConfig = field(default_factory=TokenizerConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/tokenizer", steps=3000, lr=2e-3))
    data_dir: str = "data"
    size: int = 9
    batch: int = 32
    corpus_share: float = 0.5  # of each batch: positions from games; the rest random boards
    max_games: int = 2000  # games loaded for corpus positions
    eval_every: int = 250
    eval_boards: int = 500
    # False: only the decoder learns (start from loop.init_from). The token ids stay exactly as
    # they were (token caches, transformer, IDM stay valid); a pixel LDM, which reads frames through
    # this decoder, gives some different codes (3 % for v4c's: docs/model.md "Tokenizer target").
    train_encoder: bool = True
    # > 0: add this weight x the squared error on the pixels the board reader looks at
    # (render/reader.py patch_mask), the pixels that decide whether a frame reads back right.
    patch_weight: float = 0.0


def load_positions(data_dir: str, size: int, split: str, max_games: int) -> np.ndarray:
    """(P, N, N) every distinct board state of up to ``max_games`` games of a split."""
    videos = [v for _, v in game_videos(data_dir, split=split, size=size, limit=max_games)]
    if not videos:
        return np.zeros((0, size, size), dtype=np.uint8)
    return np.unique(np.concatenate(videos), axis=0)


def frames_tensor(stones: np.ndarray, rcfg: RenderConfig, device: torch.device) -> torch.Tensor:
    """(B, N, N) stones -> (B, 3, R, R) float in [-1, 1]."""
    return torch.from_numpy(to_float(render_many(stones, rcfg))).permute(0, 3, 1, 2).contiguous().to(device)


def make_batch(step: int, cfg: TokenizerTrainConfig, positions: np.ndarray, rank: int = 0) -> np.ndarray:
    """(B, N, N) boards for one step: a pure function of (seed, step, rank)."""
    rng = np.random.default_rng((cfg.loop.seed, step, rank))
    n_corpus = int(cfg.batch * cfg.corpus_share) if len(positions) else 0
    parts = [random_boards(rng, cfg.batch - n_corpus, cfg.size)]
    if n_corpus:
        pick = positions[rng.integers(0, len(positions), n_corpus)]
        pick = np.stack([symmetry(b, int(k)) for b, k in zip(pick, rng.integers(0, 8, n_corpus))])
        flip = rng.random(n_corpus) < 0.5
        pick[flip] = swap_colours(pick[flip])
        parts.append(pick)
    return np.concatenate(parts)


@torch.no_grad()
def board_recovery(model: FrameTokenizer, boards: np.ndarray, rcfg: RenderConfig, device: torch.device,
                   batch: int = 250) -> dict:
    """Share of boards and intersections read back exactly from decode(encode(frame))."""
    model.eval()
    hits_pts = hits_boards = 0
    for i in range(0, len(boards), batch):
        b = boards[i:i + batch]
        recon = model.decode(model.encode(frames_tensor(b, rcfg, device)))
        read = read_boards(recon.permute(0, 2, 3, 1).float().cpu().numpy(), b.shape[-1], rcfg)
        hits_pts += int((read == b).sum())
        hits_boards += int((read == b).all(axis=(1, 2)).sum())
    model.train()
    n = len(boards)
    return {"boards_exact": hits_boards / n, "points_exact": hits_pts / (n * boards.shape[-1] ** 2), "n": n}


def _build(cfg: TokenizerTrainConfig) -> FrameTokenizer:
    model = FrameTokenizer(cfg.model)
    if not cfg.train_encoder:
        model.encoder.requires_grad_(False)  # the Trainer's optimizer takes trainable parameters only
    return model


def train(cfg: TokenizerTrainConfig) -> Path:
    configure_torch(cfg.loop)
    rcfg = RenderConfig(resolution=cfg.model.resolution)
    if not cfg.train_encoder and not cfg.loop.init_from:
        raise ValueError("train_encoder=false trains the decoder of an existing tokenizer: set loop.init_from")
    trainer = Trainer(cfg.loop, lambda: _build(cfg), {"stage": "tokenizer", **config_dict(cfg)})
    positions = load_positions(cfg.data_dir, cfg.size, "train", cfg.max_games)
    val = load_positions(cfg.data_dir, cfg.size, "val", 200)
    rng = np.random.default_rng(12345)
    if len(val) < cfg.eval_boards:
        val = np.concatenate([val, random_boards(rng, cfg.eval_boards - len(val), cfg.size)])
    val = val[rng.permutation(len(val))[:cfg.eval_boards]]
    patches = torch.from_numpy(patch_mask(cfg.size, rcfg)).float().to(trainer.device)  # (R, R) 0/1
    for step in trainer.steps():
        x = frames_tensor(make_batch(step, cfg, positions, trainer.rank), rcfg, trainer.device)
        with trainer.autocast():
            recon = trainer.wrapped(x)
        loss = reconstruction_loss(recon.float(), x)
        if cfg.patch_weight:
            patch_mse = ((recon.float() - x) ** 2 * patches).sum() / (patches.sum() * x.shape[0] * 3)
            loss = loss + cfg.patch_weight * patch_mse
        gnorm = trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 5), grad_norm=round(gnorm, 3))
        if trainer.is_main and (step + 1) % cfg.eval_every == 0:
            trainer.log(eval=True, **board_recovery(trainer.model, val, rcfg, trainer.device))
    trainer.close()
    return trainer.state_path
