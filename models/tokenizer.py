"""Frame tokenizer: a conv VQ-VAE with an FSQ bottleneck, frame (R x R) -> 4x4 = 16 tokens.

As in VideoWorld (MAGVIT-v2-style conv encoder/decoder + FSQ [8,8,8,5,5,5]); adapted to
the CPU: the frame is 64 px (render default for 9x9) instead of 256, and the first
layer is a 4x4 stride-4 patchify conv (a flat-style frame is piecewise constant, so
full-resolution convs mostly see flat colour), then log2(R/16) stride-2 stages reach
the same 4x4 token grid: 64 px -> 16 -> 8 -> 4. This is ~7x fewer MACs than stride-2
convs all the way down (measured in benchmarks/bench_models.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.fsq import FSQ


@dataclass(frozen=True)
class TokenizerConfig:
    resolution: int = 64  # input frame side in px; must be 16 * 2**k
    channels: tuple[int, ...] = (32, 64, 128)  # stem width, then one entry per stride-2 stage (len = log2(res/16) + 1)
    levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # FSQ levels: 64,000 codes per token
    res_blocks: int = 1  # residual blocks per stage

    @property
    def grid(self) -> int:
        return 4

    @property
    def tokens(self) -> int:
        return self.grid * self.grid

    def __post_init__(self) -> None:
        stages = int(round(math.log2(self.resolution / 16)))
        if self.resolution < 16 or 16 * 2**stages != self.resolution or stages + 1 != len(self.channels):
            raise ValueError(f"resolution {self.resolution} needs {stages + 1} channel entries, got {len(self.channels)}")


TOKENIZER_SIZES = {
    "tiny": TokenizerConfig(resolution=64, channels=(8, 16, 32), res_blocks=0),
    "base": TokenizerConfig(),
}


def _norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_norm(c), nn.SiLU(), nn.Conv2d(c, c, 3, padding=1), _norm(c), nn.SiLU(),
                                  nn.Conv2d(c, c, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        c0 = cfg.channels[0]
        layers: list[nn.Module] = [nn.Conv2d(3, c0, 4, stride=4)]  # (B, C0, R/4, R/4) patchify
        layers += [ResBlock(c0) for _ in range(cfg.res_blocks)]
        c_in = c0
        for c in cfg.channels[1:]:
            layers += [_norm(c_in), nn.SiLU(), nn.Conv2d(c_in, c, 4, stride=2, padding=1)]
            layers += [ResBlock(c) for _ in range(cfg.res_blocks)]
            c_in = c
        layers += [_norm(c_in), nn.SiLU()]
        layers.append(nn.Conv2d(c_in, len(cfg.levels), 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, R, R) -> (B, D, 4, 4)
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        chans = list(reversed(cfg.channels))
        layers: list[nn.Module] = [nn.Conv2d(len(cfg.levels), chans[0], 3, padding=1)]
        layers += [ResBlock(chans[0]) for _ in range(cfg.res_blocks)]
        c_in = chans[0]
        for c in chans[1:]:
            layers += [_norm(c_in), nn.SiLU(), nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c, 3, padding=1)]
            layers += [ResBlock(c) for _ in range(cfg.res_blocks)]
            c_in = c
        # un-patchify: (B, C0, R/4, R/4) -> (B, 3, R, R)
        layers += [_norm(c_in), nn.SiLU(), nn.ConvTranspose2d(c_in, 3, 4, stride=4)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D, 4, 4) -> (B, 3, R, R) in [-1, 1]
        return torch.tanh(self.net(z))


def id_tensors(state: dict) -> dict:
    """The tensors of a tokenizer state dict that decide its token ids: encoder and FSQ, not the decoder."""
    return {k: v for k, v in state.items() if not k.startswith("decoder.")}


class TokenDecoder(nn.Module):
    """decode only: (B, 16) token ids -> frames. The tokenizer's second half, on its own so a
    model that reads frames through a decoder (the pixel LDM) can keep the one it was trained
    with when the tokenizer's decoder is fine-tuned (the ids, from the encoder, stay the same)."""

    def __init__(self, cfg: TokenizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.decoder = Decoder(cfg)
        self.fsq = FSQ(cfg.levels)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, 16, D) codes -> (B, 3, R, R) frames in [-1, 1]."""
        b, t, d = codes.shape
        g = self.cfg.grid
        return self.decoder(codes.transpose(1, 2).reshape(b, d, g, g))

    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, 16) long -> (B, 3, R, R) frames in [-1, 1]."""
        return self.decode_codes(self.fsq.indices_to_codes(ids))


class FrameTokenizer(TokenDecoder):
    """encode: frames -> (B, 16) token ids; decode: ids -> frames; forward: reconstruction."""

    def __init__(self, cfg: TokenizerConfig) -> None:
        nn.Module.__init__(self)
        # the encoder is registered first, as before TokenDecoder existed: the parameter order
        # decides the seeded init and the optimizer state of a resumed training
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.fsq = FSQ(cfg.levels)

    def quantize(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, 3, R, R) in [-1, 1] -> (B, 16, D) quantized codes in [-1, 1] (row-major token grid)."""
        z = self.encoder(frames)  # (B, D, 4, 4)
        return self.fsq(z.flatten(2).transpose(1, 2))  # (B, 16, D)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, 3, R, R) -> (B, 16) long token ids."""
        return self.fsq.codes_to_indices(self.quantize(frames))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.decode_codes(self.quantize(frames))


def reconstruction_loss(recon: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """L2 (the paper) + L1 (the released code), both on [-1, 1] pixels."""
    return F.mse_loss(recon, frames) + F.l1_loss(recon, frames)
