"""Latent Dynamics Model in pixel space: the paper's LDM, at 64 px, small enough for the CPU.

Why a second LDM: the latent-space LDM (models/dynamics.py) reconstructs the tokenizer's
FSQ digits, a code in which "a stone appeared at C3" is a tangle of digit changes; its
codes generalised barely past copying x_t. In pixels a new stone is a blob at one place,
so a reconstruction loss tells the codes *where* something changed, which is what the
transformer should learn to predict (VideoWorld §3: the codes carry the move).

For frames x_t .. x_{t+H} (B, H+1, 3, R, R), R = 64 (the tokenizer decodes the cached
tokens back to frames, so the LDM still learns from frames only):
  1. causal encoder: every frame k is seen with its temporal difference x_k - x_{k-1}
     (x_{-1} = x_0), a fixed causal temporal kernel, through a stride-4 then stride-2
     conv: (B, H+1, dim, 8, 8) -> 64 spatial tokens per frame, plus position and time;
  2. H learnable queries; query h cross-attends to the tokens of frames t..t+h only
     (a Q-Former, depth 2, 4 heads), then an MLP and FSQ give one code z_h per step;
  3. decoder: x_{t+h} = x_t + D(features of x_t, maps of z_1..z_h), where every code is
     lifted to an 8x8 spatial map and the maps are summed over steps 1..h, so frame
     t+h can only learn what happened from z_1..z_h; D upsamples 8 -> 16 -> 64 px.
Loss: pixel MSE, with pixels that change between x_t and x_{t+h} weighted up (a stone is
~1 % of the frame; without the weight the copy solution dominates early training).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.dynamics import CodedDynamics, DynamicsConfig, QFormerLayer, _causal_mask
from models.fsq import FSQ
from models.tokenizer import TokenDecoder, TokenizerConfig

GRID = 8  # spatial tokens per side after the encoder (64 px / 8)


class FrameEncoder(nn.Module):
    """(N, 6, R, R) frame + temporal difference -> (N, dim, 8, 8)."""

    def __init__(self, cfg: DynamicsConfig) -> None:
        super().__init__()
        c, r = cfg.channels, cfg.resolution
        stride = r // (2 * GRID)  # 64 px: 4, then one stride-2 conv to 8x8
        self.net = nn.Sequential(
            nn.Conv2d(6, c, stride, stride=stride), nn.GELU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * c, cfg.dim, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FrameDecoder(nn.Module):
    """(N, dim + code_channels, 8, 8) -> (N, 3, R, R) change to add to x_t."""

    def __init__(self, cfg: DynamicsConfig) -> None:
        super().__init__()
        c, r = cfg.channels, cfg.resolution
        up = r // (2 * GRID)
        self.net = nn.Sequential(
            nn.Conv2d(cfg.dim + cfg.code_channels, 2 * c, 3, padding=1), nn.GELU(),
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * c, c, 2, stride=2), nn.GELU(),
            nn.Conv2d(c, c, 3, padding=1), nn.GELU(),
            nn.ConvTranspose2d(c, 3, up, stride=up))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PixelDynamics(CodedDynamics):
    """The LDM on pixels (shipped since v1): frames are (B, H+1, 3, R, R); ``forward`` gives the
    predicted frames 1..H, (B, H, 3, R, R)."""

    kind = "pixel"

    def __init__(self, cfg: DynamicsConfig) -> None:
        super().__init__()
        if cfg.resolution != 8 * GRID:
            raise ValueError(f"the pixel LDM is built for 64-px frames, got {cfg.resolution}")
        self.cfg = cfg
        d, h = cfg.dim, cfg.horizon
        self.encoder = FrameEncoder(cfg)
        self.space_pos = nn.Parameter(torch.randn(GRID * GRID, d) * 0.02)
        self.time_pos = nn.Parameter(torch.randn(h + 1, d) * 0.02)
        self.queries = nn.Parameter(torch.randn(h, d) * 0.02)
        self.qformer = nn.ModuleList(QFormerLayer(d, cfg.heads) for _ in range(cfg.qformer_layers))
        self.to_code = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, len(cfg.levels)))
        # besides attention, code h reads how the whole 8x8 feature map changed from frame t+h-1 to
        # t+h (flattened, so *where* it changed is linear in the input): attention alone starts as
        # a blur, and a code that does not depend on the frames drifts into tanh saturation (seen)
        self.change_code = nn.Sequential(nn.Linear(GRID * GRID * d, d), nn.GELU(), nn.Linear(d, len(cfg.levels)))
        self.range_penalty = torch.zeros(())  # set by pre_codes: keeps codes out of FSQ's flat tanh tails
        self.fsq = FSQ(cfg.levels)
        # code z_j of step j -> an 8x8 map; the decoder of step h sums the maps of steps 1..h
        self.code_map = nn.Sequential(nn.Linear(len(cfg.levels) + h, d), nn.GELU(),
                                      nn.Linear(d, cfg.code_channels * GRID * GRID))
        self.decoder = FrameDecoder(cfg)
        self.reader = None  # frames from token ids: the given tokenizer, or this frozen decoder
        if cfg.reader_channels:
            self.reader = TokenDecoder(TokenizerConfig(cfg.resolution, cfg.reader_channels, cfg.reader_levels,
                                                       cfg.reader_res_blocks)).requires_grad_(False)

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, R, R) frames -> (B, T, dim, 8, 8); frame k sees frames k-1 and k only."""
        b, t = frames.shape[:2]
        prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
        # a stone is ~1 % of the pixels: the gain keeps the change visible next to the frame itself
        x = torch.cat([frames, self.cfg.diff_gain * (frames - prev)], dim=2).flatten(0, 1)  # (B*T, 6, R, R)
        return self.encoder(x).unflatten(0, (b, t))

    def codes(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, H+1, dim, 8, 8) -> (B, H, levels) quantized codes; query h sees frames t..t+h."""
        return self.fsq(self.pre_codes(feats))

    def pre_codes(self, feats: torch.Tensor) -> torch.Tensor:
        """The codes before quantization, (B, H, levels)."""
        b, t = feats.shape[:2]
        h, g2 = self.cfg.horizon, GRID * GRID
        tokens = feats.flatten(3).transpose(2, 3) + self.space_pos + self.time_pos[:t, None]  # (B, T, 64, dim)
        tokens = tokens.reshape(b, t * g2, -1)
        frame_of = torch.arange(t, device=feats.device).repeat_interleave(g2)  # (T*64,) frame index of a token
        cross_block = frame_of[None, :] > torch.arange(h, device=feats.device)[:, None] + 1  # (H, T*64)
        q = self.queries.unsqueeze(0).expand(b, -1, -1)
        for layer in self.qformer:
            q = layer(q, tokens, _causal_mask(h, feats.device), cross_block)
        change = (feats[:, 1:h + 1] - feats[:, :h]).flatten(2)  # (B, H, dim*64): frame t+h minus t+h-1
        pre = self.to_code(q) + self.change_code(change)
        self.range_penalty = F.relu(pre.float().abs() - 2.0).pow(2).mean()
        return pre

    def decode(self, x0: torch.Tensor, f0: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """x_t (B, 3, R, R), its features (B, dim, 8, 8), codes (B, H, levels) ->
        predicted frames x_{t+1..t+H} (B, H, 3, R, R)."""
        b, h = codes.shape[:2]
        step = torch.eye(h, device=codes.device, dtype=codes.dtype).expand(b, h, h)
        maps = self.code_map(torch.cat([codes, step], dim=-1))  # (B, H, C*64)
        maps = maps.cumsum(dim=1).reshape(b * h, self.cfg.code_channels, GRID, GRID)  # step h: z_1..z_h
        base = f0.unsqueeze(1).expand(b, h, *f0.shape[1:]).reshape(b * h, *f0.shape[1:])
        delta = self.decoder(torch.cat([base, maps], dim=1)).reshape(b, h, *x0.shape[1:])
        return x0.unsqueeze(1) + delta


def pixel_dynamics_loss(pred: torch.Tensor, frames: torch.Tensor, change_weight: float) -> torch.Tensor:
    """pred (B, H, 3, R, R) vs frames x_{t+1..t+H} of (B, H+1, 3, R, R): weighted pixel MSE."""
    target = frames[:, 1:]
    changed = (target - frames[:, :1]).abs().amax(dim=2, keepdim=True) > 0.1  # (B, H, 1, R, R)
    weight = 1.0 + change_weight * changed.to(pred.dtype)
    return (weight * (pred.float() - target.float()) ** 2).mean()
