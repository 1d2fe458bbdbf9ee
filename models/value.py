"""Value model: one frame (mover's view) -> P(the side to move wins the game).

The outcome head on the transformer (``Transformer.outcome``) reads a next-frame model's
hidden state, which barely represents who is winning (docs/model.md: Brier 0.2016 against
0.2136 for the base rate). This is a model of its own on frames, trained on the games'
results only (like the outcome head: no moves, no rules), so the engine can report a
winrate that means something and a winrate per candidate move (the position after it).

Reading the frame: the renderer gives every intersection an s x s tile (s = R // N px,
render/frame.py), so the first layer is a learned patchify convolution with kernel = stride
= s over the frame cropped to those tiles: one feature vector per point, as a ViT's patch
embedding, aligned with the board's lines (the tokenizer's stride-4 patchify does the same
job without the alignment). Residual 3x3 convolutions then look across points, and mean +
max pooling over the board feed a small MLP.

Ownership (``ownership=True``, KataGo's auxiliary target): a 1x1 convolution on the per-point
features predicts, for every intersection, what the video's last frame shows there (empty, the
mover's stone, the opponent's stone). The last frame is part of the video, so this is still
learning from frames only; it gives the body 81 signals a position about which groups live
instead of one bit per game, which is what a model judging sibling positions needs. The head is
a training aid: play reads only the win logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from render.frame import RenderConfig, geometry, render_many, to_float


@dataclass(frozen=True)
class ValueConfig:
    board_size: int = 9
    resolution: int = 64  # frame side in px (the tokenizer's)
    channels: int = 64
    blocks: int = 6
    hidden: int = 128
    ownership: bool = False  # the auxiliary head on the last frame (see the module's docstring)


# ownership classes, mover's view: 0 empty at the end, 1 the mover's stone, 2 the opponent's
# (the stones' own codes: EMPTY=0, BLACK=1, WHITE=2 with the mover drawn black)
OWNERSHIP_CLASSES = 3

VALUE_SIZES = {"tiny": ValueConfig(channels=8, blocks=1, hidden=16), "base": ValueConfig()}


class ValueNet(nn.Module):
    def __init__(self, cfg: ValueConfig) -> None:
        super().__init__()
        self.cfg = cfg
        g = geometry(cfg.board_size, RenderConfig(resolution=cfg.resolution))
        self.spacing, self.first = g.spacing, g.offset - (g.spacing - 1) // 2  # tile 0's first pixel
        c = cfg.channels
        self.patch = nn.Conv2d(3, c, self.spacing, stride=self.spacing)
        self.convs = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(cfg.blocks))
        # GroupNorm, not BatchNorm: a first try with BatchNorm scored 0.180 in eval mode against 0.166 with
        # batch statistics on the same positions, and swung between 0.18 and 0.26 from one evaluation to
        # the next (running averages chasing weights that move): per-sample statistics have no such gap
        self.norms = nn.ModuleList(nn.GroupNorm(min(8, c), c) for _ in range(cfg.blocks))
        self.head = nn.Sequential(nn.Linear(2 * c, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))
        self.own = nn.Conv2d(c, OWNERSHIP_CLASSES, 1) if cfg.ownership else None

    def points(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, 3, R, R) float in [0, 1] -> (B, C, N, N): one feature vector per intersection."""
        n, s, o = self.cfg.board_size, self.spacing, self.first
        x = frames[:, :, o:o + n * s, o:o + n * s]  # the N*N tiles: (B, 3, N*s, N*s)
        return self.patch(x * 2 - 1)

    def body(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (B, 3, R, R) float in [0, 1] -> (B, C, N, N) per-point features."""
        h = F.relu(self.points(frames))  # (B, C, N, N)
        for conv, norm in zip(self.convs, self.norms):
            h = F.relu(h + norm(conv(h)))
        return h

    def win_logit(self, h: torch.Tensor) -> torch.Tensor:
        """(B, C, N, N) features -> (B,) logits of P(side to move wins)."""
        pooled = torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1)  # (B, 2C)
        return self.head(pooled).squeeze(1)

    def forward(self, frames: torch.Tensor, ownership: bool = False):
        """frames (B, 3, R, R) float in [0, 1] -> (B,) logits of P(side to move wins); with
        ``ownership``, also (B, 3, N, N) ownership logits (classes: ``OWNERSHIP_CLASSES``). One
        forward for both, so DDP's wrapper sees the ownership head's use."""
        h = self.body(frames)
        if not ownership:
            return self.win_logit(h)
        if self.own is None:
            raise ValueError("this value model has no ownership head (ValueConfig.ownership=False)")
        return self.win_logit(h), self.own(h)

    @torch.no_grad()
    def win_probability(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, 3, R, R) -> (B,) P(side to move wins), in eval mode."""
        was = self.training
        self.eval()
        try:
            return torch.sigmoid(self(frames).float())
        finally:
            self.train(was)


def frames_of(stones, rcfg: RenderConfig) -> torch.Tensor:
    """(B, N, N) uint8 stones (mover's view) -> (B, 3, R, R) float frames: what the value model reads."""
    return torch.from_numpy(to_float(render_many(stones, rcfg))).permute(0, 3, 1, 2)


def mean_win_probability(net: ValueNet, boards, views: int):
    """(M, N, N) mover's-view stones -> (M,) numpy P(mover wins), averaged over the first ``views``
    board symmetries (the player's test-time augmentation)."""
    import numpy as np

    from models.video_data import symmetry

    stacked = np.concatenate([symmetry(boards, t) for t in range(views)])  # (views*M, N, N), view-major
    return view_mean(net, stacked, views)


def view_mean(net: ValueNet, stacked, views: int):
    """(views*M, N, N) mover's-view stones, view-major (already in their symmetries) -> (M,) numpy
    P(mover wins) averaged over the views."""
    frames = frames_of(stacked, RenderConfig(resolution=net.cfg.resolution)).to(next(net.parameters()).device)
    return net.win_probability(frames).reshape(views, -1).mean(0).cpu().numpy()
