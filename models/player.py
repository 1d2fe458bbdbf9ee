"""NeuralPlayer: the VideoWorld pipeline as a ``Player`` (engine/player.py protocol).

frames of the game (mover's view) -> tokenizer -> transformer imagines z_1..z_H and
x_{t+1} for each of the top-k first codes -> IDM -> move distribution (a mixture over
the k branches, weighted by p(z_1)) -> raw move = its argmax, unmasked (for the legal-
rate metric) -> the engine's legal mask -> the move played.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from engine.analysis import Analysis  # the result type lives in engine/, which the torch-free batcher needs
from engine.coords import WHITE, Move, from_flat
from engine.game import Game
from models.bundle import Bundle
from models.generate import imagine
from models.token_cache import encode_boards
from models.video_data import swap_colours
from models.vocab import ACT_START, frame_block
from render.frame import RenderConfig


class NeuralPlayer:
    name = "videoworld"

    def __init__(self, bundle: Bundle, temperature: float = 0.0, top_k: int = 4, seed: int = 0) -> None:
        self.bundle = bundle
        self.temperature = temperature
        self.top_k = top_k
        self.rng = np.random.default_rng(seed)
        self.rcfg = RenderConfig(resolution=bundle.tokenizer.cfg.resolution)

    # ------------------------------------------------------------ Player protocol
    def genmove(self, game: Game, color: int, *, cleanup: bool = False) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup)[0].move

    def raw_move(self, game: Game, color: int) -> Move:
        return self.analyze_many([(game, color)])[0].raw_move

    # ------------------------------------------------------------ batched analysis
    def _views(self, game: Game, color: int) -> np.ndarray:
        """(context+1, N, N) stones of the last frames, in the view of ``color`` (mover looks black)."""
        n = game.size
        c = self.bundle.layout.context
        positions = game.positions
        idx = [max(0, len(positions) - 1 - i) for i in range(c, -1, -1)]
        stones = np.stack([np.frombuffer(positions[i].stones, np.uint8).reshape(n, n) for i in idx])
        return swap_colours(stones) if color == WHITE else stones

    @torch.no_grad()
    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False) -> list[Analysis]:
        b = self.bundle
        dev = b.device
        n = requests[0][0].size
        if n != b.board_size or any(g.size != n for g, _ in requests):
            raise ValueError(f"this model plays {b.board_size}x{b.board_size} only")
        views = np.stack([self._views(g, c) for g, c in requests])  # (B, c+1, N, N)
        B, F = views.shape[:2]
        raw = torch.from_numpy(encode_boards(b.tokenizer, views.reshape(-1, n, n), self.rcfg).astype(np.int64))
        ids = b.vocab.frame_ids(raw.reshape(B, F, -1)).to(dev)
        prefix = torch.cat([frame_block(ids[:, i]) for i in range(F)] + [ids.new_full((B, 1), ACT_START)], 1)
        first = imagine(b.transformer, b.vocab, prefix, b.layout.horizon)
        k = self.top_k
        top_lp, top_z = first.z1_logprobs.topk(k, dim=-1)  # (B, k)
        branches = imagine(b.transformer, b.vocab, prefix.repeat_interleave(k, 0), b.layout.horizon,
                           force_z1=top_z.reshape(-1))
        fsq = b.tokenizer.fsq
        x_t = fsq.indices_to_codes(raw.reshape(B, F, -1)[:, -1].to(dev)).repeat_interleave(k, 0)
        x_next_raw = b.vocab.frame_raw(branches.frame)
        logits = b.idm(x_t, fsq.indices_to_codes(x_next_raw), fsq.indices_to_codes(b.vocab.ldm_raw(branches.z)))
        weights = torch.softmax(top_lp, -1).reshape(-1, 1)  # renormalised over the k branches
        probs = (torch.softmax(logits.float(), -1) * weights).reshape(B, k, -1).sum(1).cpu().numpy()
        frames = b.tokenizer.decode(x_next_raw.reshape(B, k, -1)[:, 0].cpu())
        return [self._finish(g, c, probs[i], first, branches, frames[i], i, k, cleanup)
                for i, (g, c) in enumerate(requests)]

    def _finish(self, game: Game, color: int, probs: np.ndarray, first, branches, frame, i: int, k: int,
                cleanup: bool) -> Analysis:
        from render.frame import render, to_uint8
        from render.reader import read_board

        n = game.size
        rules_mask = game.position.legal_mask(color)
        mask = rules_mask
        if cleanup:
            # cleanup: no pass while a move other than filling an own eye remains
            from engine.player import is_true_eye

            mask = mask.copy()
            for p in np.flatnonzero(mask[:-1]):
                if is_true_eye(game.position, int(p), color):
                    mask[p] = False
            if mask[:-1].any():
                mask[-1] = False
        raw_flat = int(np.argmax(probs))
        legal = np.where(mask, probs, 0.0)
        if legal.sum() <= 0:  # the network put no mass on any legal move: fall back to uniform legal
            legal = mask.astype(np.float64)
        legal = legal / legal.sum()
        if self.temperature > 0:
            # in log space: legal ** (1/T) underflows to all zeros at small T
            with np.errstate(divide="ignore"):
                logp = np.log(legal) / self.temperature
            p = np.exp(logp - logp.max())
            flat = int(self.rng.choice(len(p), p=p / p.sum()))
        else:
            flat = int(np.argmax(legal))
        board = read_board(to_uint8(frame.permute(1, 2, 0).numpy()), n, self.rcfg)
        if color == WHITE:
            board = swap_colours(board)  # back from the mover's view to real colours
        z = self.bundle.vocab.ldm_raw(branches.z[i * k]).tolist()
        return Analysis(probs=probs, legal_probs=legal, raw_move=from_flat(raw_flat, n), raw_legal=bool(rules_mask[raw_flat]),
                        move=from_flat(flat, n), winrate=None if first.outcome is None else float(first.outcome[i]),
                        z_codes=[int(v) for v in z], imagined_board=board, imagined_frame=render(board, self.rcfg))



def shipped(weights: Optional[str] = None, temperature: float = 0.0) -> NeuralPlayer:
    """The shipped 9x9 model as a Player (``videoworld-go eval run --player py:models.player:shipped``)."""
    from models.bundle import DEFAULT_BUNDLE, load_bundle

    return NeuralPlayer(load_bundle(weights or DEFAULT_BUNDLE), temperature=temperature)
