"""Latent Dynamics Model (LDM): one discrete code per future step, learned from frames only.

VideoWorld's LDM, run on the tokenizer's quantized latents instead of pixels to fit the
CPU (a frame is its 16 FSQ codes of 6 values = 96 numbers): the frozen tokenizer
decoder still turns every reconstruction back into a frame.

For frames x_t .. x_{t+H}:
  1. a causal encoder gives features f_t .. f_{t+H} (frame MLP + causal transformer);
  2. H learnable queries; query h cross-attends to f_t .. f_{t+h} only (a small
     Q-Former: depth 2, 4 heads), then an MLP and FSQ give one code z_h per step;
  3. a causal decoder over [f_t, z_1, .., z_H] predicts the latents of x_{t+h} from
     f_t and z_1..z_h, so everything new about x_{t+h} must pass through the codes
     (the quantization stops copy-paste shortcuts).

The decoder classifies each FSQ digit of each of the 16 tokens of x_{t+h} (8 or 5
classes), with a learned bias towards the digit x_t has there. Two earlier versions
regressed the latents with L2 (the paper's pixel L2, moved to latent space): predicting
absolute latents did worse than copying x_t (validation MSE 0.025 vs 0.013), predicting
the change plateaued at the copy baseline (0.034 vs 0.036 over H frames, 10 % of next
frames exact); the digits are discrete, so cross-entropy gives the codes a usable signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.fsq import FSQ

TOKEN_LEVELS = (8, 8, 8, 5, 5, 5)  # the frame tokenizer's FSQ levels, whose digits the decoder predicts


@dataclass(frozen=True)
class DynamicsConfig:
    horizon: int = 5  # H: codes per window (the paper's best; H > 5 did not converge there)
    frame_tokens: int = 16  # tokenizer tokens per frame
    token_dim: int = 6  # FSQ dims of a tokenizer token
    dim: int = 256
    heads: int = 4
    encoder_layers: int = 2
    qformer_layers: int = 2  # the paper's depth 2, 4 heads
    decoder_layers: int = 2
    levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # 64,000 codes (paper ablation: best)
    kind: str = "latent"  # "latent": on the tokenizer's codes (this file); "pixel": models/dynamics_pixel.py
    resolution: int = 64  # pixel LDM: frame side
    channels: int = 48  # pixel LDM: conv width
    code_channels: int = 16  # pixel LDM: channels of a code's 8x8 map
    diff_gain: float = 10.0  # pixel LDM: scale of the temporal-difference input channels
    # pixel LDM: its own frozen copy of the tokenizer decoder it was trained with (empty: it reads
    # frames through the tokenizer it is given). Set by `export --base` when the bundle's decoder is
    # fine-tuned, so the LDM's codes, the targets of every later training, stay what they were.
    reader_channels: tuple[int, ...] = ()
    reader_levels: tuple[int, ...] = ()
    reader_res_blocks: int = 1

    @property
    def frame_dim(self) -> int:
        return self.frame_tokens * self.token_dim


DYNAMICS_SIZES = {
    "tiny": DynamicsConfig(dim=32, heads=2, encoder_layers=1, qformer_layers=1, decoder_layers=1),
    "base": DynamicsConfig(),
    # pixel space; 320 codes: the codes should name a move (82 on 9x9) plus what it captures
    "pixel": DynamicsConfig(kind="pixel", dim=128, levels=(8, 8, 5)),
    "pixel-tiny": DynamicsConfig(kind="pixel", dim=32, heads=2, qformer_layers=1, channels=8, code_channels=4,
                                 levels=(8, 8, 5)),
}


def _causal_mask(n: int, device) -> torch.Tensor:
    """(n, n) bool, True where attention is *blocked* (the future)."""
    return torch.triu(torch.ones(n, n, dtype=torch.bool, device=device), diagonal=1)


class QFormerLayer(nn.Module):
    """Queries: self-attention, masked cross-attention to frame features, MLP (pre-norm)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.n1, self.n2, self.n3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, q: torch.Tensor, feats: torch.Tensor, self_mask, cross_mask) -> torch.Tensor:
        h = self.n1(q)
        q = q + self.self_attn(h, h, h, attn_mask=self_mask, need_weights=False)[0]
        q = q + self.cross_attn(self.n2(q), feats, feats, attn_mask=cross_mask, need_weights=False)[0]
        return q + self.mlp(self.n3(q))


class CodedDynamics(nn.Module):
    """What both LDMs share: frames -> per-frame features -> H FSQ codes -> the future frames
    reconstructed from x_t and the codes. Subclasses give ``features``, ``codes``, ``decode`` and
    ``fsq``; frames are (B, H+1, ...) in the subclass's own frame layout."""

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, H+1, ...) -> (codes (B, H, levels), the subclass's reconstruction of frames 1..H)."""
        feats = self.features(frames)
        z = self.codes(feats)
        return z, self.decode(frames[:, 0], feats[:, 0], z)

    @torch.no_grad()
    def code_indices(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, H+1, ...) -> (B, H) long LDM code ids (what the transformer learns to predict)."""
        return self.fsq.codes_to_indices(self.codes(self.features(frames)))


class LatentDynamics(CodedDynamics):
    """The v0 LDM on the tokenizer's FSQ digits: frames are (B, H+1, 16, 6); ``forward`` gives
    the digit logits of frames 1..H, (B, H, 16, 6, 8)."""

    kind = "latent"

    def __init__(self, cfg: DynamicsConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, h = cfg.dim, cfg.horizon
        self.frame_in = nn.Sequential(nn.Linear(cfg.frame_dim, d), nn.GELU(), nn.Linear(d, d))
        self.time_pos = nn.Parameter(torch.zeros(h + 1, d))
        layer = lambda: nn.TransformerEncoderLayer(d, cfg.heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer(), cfg.encoder_layers, enable_nested_tensor=False)
        self.queries = nn.Parameter(torch.randn(h, d) * 0.02)
        self.qformer = nn.ModuleList(QFormerLayer(d, cfg.heads) for _ in range(cfg.qformer_layers))
        self.to_code = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, len(cfg.levels)))
        self.fsq = FSQ(cfg.levels)
        self.code_in = nn.Linear(len(cfg.levels), d)
        self.decoder = nn.TransformerEncoder(layer(), cfg.decoder_layers, enable_nested_tensor=False)
        self.tok_levels = max(TOKEN_LEVELS)
        self.frame_out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(),
                                       nn.Linear(d, cfg.frame_dim * self.tok_levels))
        self.copy_bias = nn.Parameter(torch.tensor(2.0))  # prior: a digit stays what it was in x_t
        self.token_fsq = FSQ(TOKEN_LEVELS)
        valid = torch.arange(self.tok_levels)[None, :] < torch.tensor(TOKEN_LEVELS)[:, None]  # (6, 8)
        self.register_buffer("digit_mask", torch.where(valid, 0.0, float("-inf")), persistent=False)

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, H+1, 16, 6) frame latents -> (B, H+1, dim) causal features f_t..f_{t+H}."""
        b, t = frames.shape[:2]
        x = self.frame_in(frames.reshape(b, t, -1)) + self.time_pos[:t]
        return self.encoder(x, mask=_causal_mask(t, x.device), is_causal=True)

    def codes(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, H+1, dim) -> (B, H, 6) quantized codes; query h sees f_t..f_{t+h}."""
        b, h = feats.shape[0], self.cfg.horizon
        q = self.queries.unsqueeze(0).expand(b, -1, -1)
        # query h (0-based: code of step h+1) may attend to frames 0..h+1 of the window
        cross_block = torch.ones(h, h + 1, dtype=torch.bool, device=feats.device).triu(diagonal=2)
        self_block = _causal_mask(h, feats.device)
        for layer in self.qformer:
            q = layer(q, feats, self_block, cross_block)
        return self.fsq(self.to_code(q))

    def decode(self, x0: torch.Tensor, f0: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """x_t latents (B, 16, 6), f_t (B, dim), codes (B, H, 6) -> digit logits of x_{t+1..t+H}:
        (B, H, 16, 6, 8) (classes beyond a digit's level are -inf)."""
        b, h = codes.shape[:2]
        seq = torch.cat([f0.unsqueeze(1), self.code_in(codes)], dim=1) + self.time_pos[: h + 1]
        out = self.decoder(seq, mask=_causal_mask(h + 1, seq.device), is_causal=True)[:, 1:]
        # position h+1 has seen f_t and z_1..z_{h+1}: it predicts frame t+h+1
        logits = self.frame_out(out).reshape(b, h, self.cfg.frame_tokens, self.cfg.token_dim, self.tok_levels)
        x0_digits = self.token_fsq.indices_to_digits(self.token_fsq.codes_to_indices(x0))  # (B, 16, 6)
        prior = F.one_hot(x0_digits, self.tok_levels).to(logits.dtype) * self.copy_bias
        return logits.float() + prior.unsqueeze(1) + self.digit_mask

    def predicted_tokens(self, logits: torch.Tensor) -> torch.Tensor:
        """Digit logits (..., 16, 6, 8) -> (..., 16) token ids (argmax digit by digit)."""
        digits = logits.argmax(-1)
        return (digits * self.token_fsq.basis).sum(-1)


def dynamics_loss(logits: torch.Tensor, target_ids: torch.Tensor, token_fsq: FSQ) -> torch.Tensor:
    """Cross-entropy of every FSQ digit of the future frames' tokens: logits (B, H, 16, 6, 8),
    target_ids (B, H, 16) token ids."""
    digits = token_fsq.indices_to_digits(target_ids)  # (B, H, 16, 6)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), digits.reshape(-1))
