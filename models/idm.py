"""Inverse dynamics: (x_t, predicted x_{t+1}, predicted codes z_1..z_H) -> move logits.

The only model that sees move labels, trained on a small labelled share of the games
(models/train/idm_stage.py). Inputs are FSQ codes (continuous values in [-1, 1]), so
the IDM never depends on the transformer's vocabulary. Output: N*N+1 logits, row-major
points in the mover's view then pass.

``context=1`` also gives it the frame before, x_{t-1} (in the same view as x_t): a ko capture is
visible only across two frames, and without them the IDM cannot learn that the recapture it sees
imagined is never what was played (docs/model.md, "An IDM that sees the previous frame").

``emptied=True`` also gives it the points the last transition emptied (a stone in x_{t-1}, none in x_t: the
frames' difference where stones vanished, an (N*N,) 0/1 map read from the game's two frames): zero in every
position that follows no capture, so an IDM widened with it (``widen_to``) reads those exactly as before,
and after a capture it can learn from labels that the recapture an imagined frame shows is not played.

``frame_diff_move`` is the released VideoWorld code's way, kept as a baseline: read both
frames back to boards and take the new stone of the mover's colour.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class IdmConfig:
    board_size: int = 9
    frame_tokens: int = 16
    token_dim: int = 6
    horizon: int = 5  # LDM codes given (0: frames only)
    code_dim: int = 6  # FSQ dims of one LDM code (len of the LDM's levels)
    hidden: int = 512
    layers: int = 3
    context: int = 0  # earlier frames read besides x_t: 0, or 1 (x_{t-1})
    emptied: bool = False  # also the (N*N,) map of points the last transition emptied
    # also the (N*N,) map of points holding a stone in x_t: what the frame pictures, given point by point, so
    # an IDM reading the codes alone (an imagined frame that pictures no move) can still see where no new
    # stone can stand, a lesson the ground-truth pairs never teach (their move always shows in the frame)
    occupied: bool = False

    def __post_init__(self) -> None:
        if self.context not in (0, 1):
            raise ValueError(f"IDM context must be 0 or 1, got {self.context}")

    @property
    def moves(self) -> int:
        return self.board_size * self.board_size + 1

    @property
    def in_dim(self) -> int:
        frame = self.frame_tokens * self.token_dim
        # x_t, x_{t+1}, their difference, codes; with context, x_{t-1} and x_t - x_{t-1}; then the emptied
        # map, then the occupied map
        return (3 + 2 * self.context) * frame + self.horizon * self.code_dim + \
            (self.emptied + self.occupied) * self.board_size ** 2

    @property
    def frames_before(self) -> int:
        """Frames before x_t the IDM's inputs come from (x_{t-1} for context or the emptied map)."""
        return max(self.context, int(self.emptied))


IDM_SIZES = {"tiny": IdmConfig(hidden=64, layers=2), "base": IdmConfig()}


class InverseDynamics(nn.Module):
    def __init__(self, cfg: IdmConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        d = cfg.in_dim
        for _ in range(cfg.layers - 1):
            layers += [nn.Linear(d, cfg.hidden), nn.LayerNorm(cfg.hidden), nn.GELU()]
            d = cfg.hidden
        layers.append(nn.Linear(d, cfg.moves))
        self.net = nn.Sequential(*layers)

    def forward(self, x_t: torch.Tensor, x_next: torch.Tensor, z: torch.Tensor,
                x_prev: torch.Tensor | None = None, emptied: torch.Tensor | None = None,
                occupied: torch.Tensor | None = None) -> torch.Tensor:
        """x_t, x_next (B, 16, 6); z (B, H, code_dim); x_prev (B, 16, 6), required with context 1; emptied
        (B, N*N) 0/1, required with ``emptied``; occupied (B, N*N) 0/1, required with ``occupied`` ->
        (B, N*N+1) move logits."""
        b = x_t.shape[0]
        parts = [x_t.reshape(b, -1), x_next.reshape(b, -1), (x_next - x_t).reshape(b, -1)]
        if self.cfg.context:
            if x_prev is None:
                raise ValueError("this IDM reads the previous frame too (context 1): pass x_prev")
            parts += [x_prev.reshape(b, -1), (x_t - x_prev).reshape(b, -1)]
        if self.cfg.horizon:
            parts.append(z[:, :self.cfg.horizon].reshape(b, -1))
        if self.cfg.emptied:
            if emptied is None:
                raise ValueError("this IDM reads the emptied points too: pass emptied")
            parts.append(emptied.reshape(b, -1).to(x_t.dtype))
        if self.cfg.occupied:
            if occupied is None:
                raise ValueError("this IDM reads the occupied points too: pass occupied")
            parts.append(occupied.reshape(b, -1).to(x_t.dtype))
        return self.net(torch.cat(parts, 1).float())


def widen_to(weights: dict, cfg: IdmConfig) -> dict:
    """A narrower IDM's state dict (no context, no emptied map and/or no occupied map) -> one for ``cfg``
    computing the same function at first: the new input columns start at zero (``widen_to_context``, then
    the emptied map's N*N columns, then the occupied map's, appended at the end). A state already as wide
    as ``cfg`` is returned unchanged."""
    w = weights["net.0.weight"]  # (hidden, in)
    if w.shape[1] == cfg.in_dim:
        return weights
    if cfg.occupied:
        return _with_zero_columns(widen_to(weights, dataclasses.replace(cfg, occupied=False)), cfg.board_size ** 2)
    if not cfg.emptied:
        return widen_to_context(weights, cfg)
    narrow = dataclasses.replace(cfg, emptied=False)
    if w.shape[1] != narrow.in_dim:
        weights = widen_to_context(weights, narrow)
    return _with_zero_columns(weights, cfg.board_size ** 2)


def _with_zero_columns(weights: dict, count: int) -> dict:
    """The state dict with ``count`` zero input columns appended to the first layer (hidden, in) -> (hidden, in+count)."""
    w = weights["net.0.weight"]
    return {**weights, "net.0.weight": torch.cat([w, w.new_zeros(w.shape[0], count)], 1)}


def new_input_columns(cfg: IdmConfig, old: IdmConfig) -> torch.Tensor:
    """(in_dim,) bool: the first layer's input columns ``cfg`` has and the narrower ``old`` had not."""
    frame = cfg.frame_tokens * cfg.token_dim
    cols = torch.zeros(cfg.in_dim, dtype=torch.bool)
    if cfg.context and not old.context:
        cols[3 * frame:5 * frame] = True
    n2 = cfg.board_size ** 2
    occ = n2 * cfg.occupied  # the occupied map's columns come last, after the emptied map's
    if cfg.emptied and not old.emptied:
        cols[cfg.in_dim - occ - n2:cfg.in_dim - occ] = True
    if cfg.occupied and not old.occupied:
        cols[-n2:] = True
    return cols


def narrower_config(cfg: IdmConfig, in_dim: int) -> IdmConfig:
    """The config of an IDM whose first layer reads ``in_dim`` inputs and that ``cfg`` widens
    (``widen_to``): ``cfg`` without the occupied map, then without the emptied map, then without context."""
    for drop in ({}, {"occupied": False}, {"occupied": False, "emptied": False},
                 {"occupied": False, "emptied": False, "context": 0}):
        old = dataclasses.replace(cfg, **drop)
        if old.in_dim == in_dim:
            return old
    raise ValueError(f"no narrower IDM than {cfg} reads {in_dim} inputs")


def emptied_points(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(..., N, N) stones of two consecutive frames -> (..., N*N) uint8: 1 where a stone vanished."""
    gone = (before != 0) & (after == 0)
    return gone.reshape(*gone.shape[:-2], -1).astype(np.uint8)


def occupied_points(board: np.ndarray) -> np.ndarray:
    """(..., N, N) stones of a frame -> (..., N*N) uint8: 1 where a stone stands."""
    return (board != 0).reshape(*board.shape[:-2], -1).astype(np.uint8)


def widen_to_context(weights: dict, cfg: IdmConfig) -> dict:
    """A context-0 IDM's state dict -> one for ``cfg`` (context 1) computing the same function at first.

    The first layer's input columns move to the new layout (x_t, x_{t+1}, difference, then x_{t-1} and
    x_t - x_{t-1}, then the codes) and the new columns start at zero, so the previous frame adds nothing
    until training moves them: a fine-tune from the shipped IDM instead of a start from scratch.
    A state already as wide as ``cfg`` is returned unchanged."""
    w = weights["net.0.weight"]  # (hidden, in)
    frame = cfg.frame_tokens * cfg.token_dim
    old_in = cfg.in_dim - 2 * frame * cfg.context
    if w.shape[1] == cfg.in_dim:
        return weights
    if not cfg.context or w.shape[1] != old_in:
        raise ValueError(f"cannot widen an IDM input of {w.shape[1]} to {cfg.in_dim}")
    wide = w.new_zeros(w.shape[0], cfg.in_dim)
    wide[:, :3 * frame] = w[:, :3 * frame]  # x_t, x_{t+1}, their difference
    wide[:, 5 * frame:] = w[:, 3 * frame:]  # the codes, after the two new blocks
    return {**weights, "net.0.weight": wide}


def clean_move(board_t: np.ndarray, board_next: np.ndarray, mover: int = 1) -> int:
    """Whether two (N, N) boards (0 empty, ``mover`` and the other colour) picture one move cleanly: the flat
    point of the one new ``mover`` stone when that is the only point filled and every other change is an
    opponent stone gone (a capture); -1 for any other picture (nothing new, several new stones, a stone
    changing colour or a mover stone vanishing). Frames only, no rule: what an imagined frame shows."""
    changed = np.flatnonzero(board_t != board_next)
    filled = changed[(board_t.reshape(-1)[changed] == 0) & (board_next.reshape(-1)[changed] == mover)]
    if len(filled) != 1:
        return -1
    rest = changed[changed != filled[0]]
    gone = (board_next.reshape(-1)[rest] == 0) & (board_t.reshape(-1)[rest] != mover)
    return int(filled[0]) if gone.all() else -1


def frame_diff_move(board_t: np.ndarray, board_next: np.ndarray, mover: int = 1) -> int:
    """Baseline: flat index of the stone of colour ``mover`` that appears; N*N (pass) if none.

    With several new stones (a misread frame) the first in row-major order is taken,
    as a grid snap of the released code would pick one blob.
    """
    n = board_t.shape[-1]
    new = np.flatnonzero((board_next == mover) & (board_t != mover))
    return int(new[0]) if len(new) else n * n
