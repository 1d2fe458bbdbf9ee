"""Several networks' move distributions averaged: an ensemble prior for the Monte Carlo tree.

Two video models trained apart (another transformer, another IDM) err in different places; the mean of
their move distributions (each already pooled over its board views) is what the engine plays or hands the
tree as its root prior. The first member finishes the analysis: its winrate, imagined frame and codes are
what GUIs see, its bundle is the player's. The learners are untouched: this is play-time pooling.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from engine.game import Game
from models.player import NeuralPlayer


class EnsemblePlayer(NeuralPlayer):
    """``members[0]`` with the other members' distributions mixed into its own, by ``weights``."""

    def __init__(self, members: Sequence[NeuralPlayer], weights: Optional[Sequence[float]] = None) -> None:
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 networks, got {len(members)}")
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"need one non-negative weight per member (not all 0), got {weights}")
        sizes = {m.bundle.board_size for m in members}
        if len(sizes) != 1:
            raise ValueError(f"the members play different board sizes: {sorted(sizes)}")
        self.__dict__.update(members[0].__dict__)  # the first member's bundle, settings and generator
        self.members = list(members)
        self.mix = np.asarray(weights, np.float64) / sum(weights)  # (E,) summing to 1

    def variant(self, symmetries: Optional[int] = None, top_k: Optional[int] = None) -> "EnsemblePlayer":
        """Every member in ``symmetries`` board views and ``top_k`` branches (``NeuralPlayer.variant``)."""
        return EnsemblePlayer([m.variant(symmetries, top_k) for m in self.members], self.mix)

    def move_distribution(self, requests: Sequence[tuple[Game, int]]):
        """The first member's reading with its (B, N*N+1) distributions replaced by the members' weighted mean."""
        probs, winrates, im, frames = self.members[0].move_distribution(requests)
        probs = self.mix[0] * probs
        for w, m in zip(self.mix[1:], self.members[1:]):
            probs = probs + w * m.move_distribution(requests)[0]
        return probs, winrates, im, frames


def ensemble(weights: Optional[str] = None, mix: str = "", symmetries: Optional[int] = None,
             top_k: Optional[int] = None) -> NeuralPlayer:
    """The player for ``videoworld-go eval`` (``py:models.ensemble:ensemble:weights=A+B,mix=0.7+0.3``):
    ``weights`` bundle folders joined by "+", ``mix`` their weights (default equal); one folder: that network;
    none: the shipped one (``models.player.shipped``); ``symmetries`` and ``top_k`` every member's views and
    branches (default: each bundle's)."""
    from models.player import shipped

    folders = [w for w in str(weights or "").split("+") if w]
    if len(folders) <= 1:
        return shipped(weights=folders[0] if folders else None, symmetries=symmetries, top_k=top_k)
    mixes = [float(m) for m in str(mix).split("+")] if mix else None
    return EnsemblePlayer([shipped(weights=f, symmetries=symmetries, top_k=top_k) for f in folders], mixes)
