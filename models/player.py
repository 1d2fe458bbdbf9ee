"""NeuralPlayer: the VideoWorld pipeline as a ``Player`` (engine/player.py protocol).

frames of the game (mover's view), in S board symmetries -> tokenizer -> transformer
imagines z_1..z_H and x_{t+1} for each of the top-k first codes -> IDM -> move
distribution (a mixture over the k branches, weighted by p(z_1); the S views mapped back
to the board and averaged) -> raw move = its argmax, unmasked (for the legal-rate
metric) -> the engine's legal mask -> the move played. The winrate comes from the bundle's
value model (models/value.py) when it has one, else from the transformer's outcome head.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch

# the result type lives in engine/, which the torch-free batcher needs
from engine.analysis import Analysis, choose_move, top_moves
from engine.board import Position
from engine.coords import BLACK, WHITE, Move, from_flat, opponent
from engine.game import Game
from engine.symmetry import VIEW_COUNTS
from models.bundle import Bundle
from models.precisions import PRECISIONS
from models.generate import imagine_branches
from models.idm import emptied_points, occupied_points
from models.token_cache import decode_boards, encode_boards
from models.value import mean_win_probability, view_mean
from models.video_data import swap_colours
from models.vocab import ACT_START, frame_block
from render.frame import RenderConfig


VIEW_POOLS = ("mean", "geomean")


def pool_views(per_view: np.ndarray, how: str) -> np.ndarray:
    """(S, B, M) move distributions of S board views (mapped back to the real board) -> (B, M)."""
    if how == "mean":
        return per_view.mean(0)
    logp = np.log(np.maximum(per_view.astype(np.float64), 1e-30)).mean(0)  # floor: a view's exact 0
    p = np.exp(logp - logp.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


def _renormalised(probs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """probs restricted to mask, summing to 1 (uniform over the mask if the network gave it no mass)."""
    out = np.where(mask, probs, 0.0)
    if out.sum() <= 0:
        out = mask.astype(np.float64)
    return out / out.sum()


DEFAULT_BRANCHES = 4  # bundles without a tuned ``player.branches``


@dataclass
class ImaginedPairs:
    """What the IDM reads for B positions with k branches each (raw FSQ indices, not vocabulary ids)."""

    x_t: torch.Tensor  # (B, 16) the position's frame tokens
    x_next: torch.Tensor  # (B*k, 16) the imagined next frame of each branch
    z: torch.Tensor  # (B*k, H) the imagined LDM codes of each branch
    weights: torch.Tensor  # (B, k) p(z_1) renormalised over the branches
    k: int
    first: object  # models.generate's prefill result (outcome logits, z_1 log-probs)
    branches: object  # models.generate.Imagined of the B*k branches
    x_prev: Optional[torch.Tensor] = None  # (B, 16) the frame before x_t, when the views had one


def play_mask(game: Game, color: int, rules_mask: np.ndarray, probs: np.ndarray, cleanup: bool) -> np.ndarray:
    """The moves the engine lets the network choose from (the rules' mask, narrowed).

    Like the released VideoWorld code (which never passes), the engine does not let the
    network pass early: an imagined "nothing changes" frame reads as a pass, and passing
    while points remain loses the game. Pass is allowed when it is the network's first
    choice and either the opponent has just passed, the board is settled (every empty
    region touches one colour only, at most ``SETTLED_DAME`` dame points) or the game is over
    for the mover (engine/deadstones.finished_for: nothing in atari, no opponent chain dead on
    the board, no dame once its own dead chains are off; KataGo passes in most such positions
    under these rules: docs/model.md, "Passing when the game is over"); and when nothing but
    filling one's own true eyes is left. Own true eyes are never filled while anything else is
    legal. ``cleanup`` (kgs-genmove_cleanup) forbids the chosen pass. The count behind "over"
    runs only when the network chooses to pass on a board neither settled nor after a pass (tens
    of ms: not every move).
    """
    from engine.deadstones import finished_for
    from engine.player import SETTLED_DAME, is_true_eye, opponent_passed

    mask = rules_mask.copy()
    for p in np.flatnonzero(mask[:-1]):
        if is_true_eye(game.position, int(p), color):
            mask[p] = False
    if not mask[:-1].any():
        mask[-1] = True  # only eyes (or nothing) left: pass
        return mask
    wants_pass = int(np.argmax(probs)) == len(probs) - 1
    settled = game.position.unsettled_points() <= SETTLED_DAME
    mask[-1] = wants_pass and not cleanup and (opponent_passed(game) or settled or finished_for(game.position, color))
    return mask


class NeuralPlayer:
    name = "videoworld"

    def __init__(self, bundle: Bundle, temperature: float = 0.0, top_k: Optional[int] = None, seed: int = 0,
                 move_reader: str = "idm", symmetries: Optional[int] = None, use_value: bool = True,
                 precision: str = "fp32", frame_slots: bool = True, view_pool: str = "mean") -> None:
        """``move_reader``: "idm" (the paper's inverse dynamics model) or "frame_diff" (the released
        code's baseline: decode the imagined frame, read the board, take the new stone).
        ``top_k``: first codes z_1 imagined per position (branches); None: the bundle's tuned value
        (manifest ``player.branches``, chosen on validation labels), else DEFAULT_BRANCHES.
        ``symmetries``: how many of the board's 8 symmetries (engine/symmetry.TRANSFORMS[:S], S in
        1, 2, 4, 8) each position is imagined in; the move distributions are mapped back and
        averaged (test-time augmentation). None: the bundle's ``player.symmetries``, else 1.
        ``use_value``: False reports the outcome head's winrate even when the bundle has a value model
        (what the value model costs per move is measured that way: benchmarks/bench_genmove.py).
        ``precision``: "bf16" imagines with the transformer's matrix products in bf16 (weights cast once,
        activations, norms, attention and the outcome head float32: models/low_precision.py), "fp32" as
        trained. It changes a move now and then; its speed and accuracy are in docs/benchmarks.md
        (benchmarks/bench_precision.py) and it is measured on a machine before anyone relies on it.
        ``frame_slots``: when the bundle has the frame slots' code sets (models/frame_slots.py), each imagined
        frame token is chosen among its slot's codes only (faster; False: among all frame codes).
        ``view_pool``: how the S views' move distributions combine: "mean" (their average) or "geomean" (their
        normalised geometric mean: a move needs every view's support)."""
        if view_pool not in VIEW_POOLS:
            raise ValueError(f"view_pool must be one of {VIEW_POOLS}, got {view_pool!r}")
        self.view_pool = view_pool
        if move_reader not in ("idm", "frame_diff"):
            raise ValueError(f"move_reader must be 'idm' or 'frame_diff', got {move_reader!r}")
        self.move_reader = move_reader
        self.bundle = bundle
        self.temperature = temperature
        self.top_k = top_k if top_k is not None else int(bundle.manifest.get("player", {}).get("branches", DEFAULT_BRANCHES))
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        self.symmetries = symmetries if symmetries is not None else int(bundle.manifest.get("player", {}).get("symmetries", 1))
        if self.symmetries not in VIEW_COUNTS:
            raise ValueError(f"symmetries must be one of {VIEW_COUNTS}, got {self.symmetries}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.precision = precision
        bundle.transformer_for(precision)  # the bf16 copy built now, before any batcher thread asks for it
        self.frame_slots = frame_slots
        self.value = bundle.value if use_value else None
        self.rng = np.random.default_rng(seed)
        self.rcfg = RenderConfig(resolution=bundle.tokenizer.cfg.resolution)

    def variant(self, symmetries: Optional[int] = None, top_k: Optional[int] = None) -> "NeuralPlayer":
        """The same network and settings imagining each position in ``symmetries`` board views and
        ``top_k`` branches (None: as this one): a cheaper analyzer for the positions a tree search
        looks at below its root, or a broader one for its root."""
        if symmetries is not None and symmetries not in VIEW_COUNTS:
            raise ValueError(f"symmetries must be one of {VIEW_COUNTS}, got {symmetries}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        other = copy.copy(self)
        other.symmetries = self.symmetries if symmetries is None else symmetries
        other.top_k = self.top_k if top_k is None else top_k
        return other

    # ------------------------------------------------------------ Player protocol
    def genmove(self, game: Game, color: int, *, cleanup: bool = False, deadline: Optional[float] = None) -> Move:
        return self.analyze_many([(game, color)], cleanup=cleanup)[0].move  # one forward pass: no time to budget

    def raw_move(self, game: Game, color: int) -> Move:
        return self.analyze_many([(game, color)])[0].raw_move

    # ------------------------------------------------------------ batched analysis
    def _views(self, game: Game, color: int) -> np.ndarray:
        """(F, N, N) stones of the last F frames, in the view of ``color`` (mover looks black): F is one
        more than the larger of the transformer's and the IDM's context (the first position repeated
        before the game's start)."""
        n = game.size
        c = max(self.bundle.layout.context, self.bundle.idm.cfg.frames_before)
        positions = game.positions
        idx = [max(0, len(positions) - 1 - i) for i in range(c, -1, -1)]
        stones = np.stack([np.frombuffer(positions[i].stones, np.uint8).reshape(n, n) for i in idx])
        return swap_colours(stones) if color == WHITE else stones

    @torch.no_grad()
    def imagine_views(self, views: np.ndarray) -> ImaginedPairs:
        """(B, F, N, N) stones in the mover's view, F >= context+1 (the last frame is x_t) -> what the
        IDM reads, for k branches each; the transformer sees the last context+1 frames.

        Frames only: no move, no rule. Shared by play and by the IDM's training on imagined frames."""
        b = self.bundle
        n = views.shape[-1]
        B, F = views.shape[:2]
        c = b.layout.context
        if F < c + 1:
            raise ValueError(f"the transformer reads {c + 1} frames a position, got {F}")
        raw = torch.from_numpy(encode_boards(b.tokenizer, views.reshape(-1, n, n), self.rcfg).astype(np.int64))
        raw = raw.reshape(B, F, -1)
        ids = b.vocab.frame_ids(raw[:, F - c - 1:]).to(b.device)
        prefix = torch.cat([frame_block(ids[:, i]) for i in range(c + 1)] + [ids.new_full((B, 1), ACT_START)], 1)
        k = min(self.top_k, len(b.vocab.ldm_codes) + 1)  # no more branches than first codes (+ <unk>)
        first, top_lp, branches = imagine_branches(b.transformer_for(self.precision), b.vocab, prefix,
                                                   b.layout.horizon, k,
                                                   b.slot_rows(self.precision) if self.frame_slots else None)
        return ImaginedPairs(x_t=raw[:, -1].to(b.device), x_next=b.vocab.frame_raw(branches.frame),
                             z=b.vocab.ldm_raw(branches.z), weights=torch.softmax(top_lp, -1), k=k,
                             first=first, branches=branches, x_prev=raw[:, -2].to(b.device) if F > 1 else None)

    @torch.no_grad()
    def read_views(self, views: np.ndarray) -> tuple[ImaginedPairs, torch.Tensor]:
        """(M, F, N, N) stones in the mover's view (boards already turned into their views) -> what the
        transformer imagines for each and the move reader's distribution per branch, (M*k, N*N+1) in the
        views' own coordinates (pass last): the step ``analyze_many`` pools, open to scripts that look
        at the views one by one (scripts/raw_illegal_breakdown.py)."""
        b, n = self.bundle, views.shape[-1]
        # frames encoded: the transformer's and the context IDM's (the emptied map needs the boards only)
        encoded = max(b.layout.context, b.idm.cfg.context) + 1
        im = self.imagine_views(views[:, views.shape[1] - encoded:])
        k = im.k
        if self.move_reader != "idm":
            return im, self._frame_diff(im.x_t.repeat_interleave(k, 0), im.x_next, n)
        fsq = b.tokenizer.fsq
        prev = emp = occ = None
        if b.idm.cfg.context:
            prev = fsq.indices_to_codes(im.x_prev).repeat_interleave(k, 0)
        if b.idm.cfg.emptied:  # (M*k, N*N): the points the game's last move emptied, in each view
            emp = torch.from_numpy(emptied_points(views[:, -2], views[:, -1])).float()
            emp = emp.to(b.device).repeat_interleave(k, 0)
        if b.idm.cfg.occupied:  # (M*k, N*N): the points holding a stone in x_t, in each view
            occ = torch.from_numpy(occupied_points(views[:, -1])).float().to(b.device).repeat_interleave(k, 0)
        logits = b.idm(fsq.indices_to_codes(im.x_t).repeat_interleave(k, 0), fsq.indices_to_codes(im.x_next),
                       b.dynamics.fsq.indices_to_codes(im.z), prev, emp, occ)
        return im, torch.softmax(logits.float(), -1)  # (M*k, N*N+1)

    @torch.no_grad()
    def analyze_many(self, requests: Sequence[tuple[Game, int]], cleanup: bool = False,
                     move_winrates: int = 0, deadline: Optional[float] = None) -> list[Analysis]:
        """``move_winrates=k``: with a value model, also P(side to move wins) after each of the k most
        likely legal moves (``Analysis.move_winrates``; averaged over S board symmetries as the position's
        winrate is, so mirror-image moves get the same winrate)."""
        probs, winrates, im, frames = self.move_distribution(requests)
        k = im.k
        out = [self._finish(g, c, probs[i], None if winrates is None else winrates[i], im.branches, frames[i], i, k,
                            cleanup) for i, (g, c) in enumerate(requests)]
        if move_winrates > 0 and self.value is not None:
            self._add_move_winrates(requests, out, move_winrates)
        return out

    @torch.no_grad()
    def move_distribution(self, requests: Sequence[tuple[Game, int]]):
        """The network's reading of B positions before the rules' mask: (B, N*N+1) move distributions
        (pass last, the S views pooled), the B winrates (or None), the imagined pairs and the (B, 3, R, R)
        imagined frames of the unrotated views (what ``analyze_many`` finishes; models/ensemble.py pools
        several networks' distributions here)."""
        b = self.bundle
        n = requests[0][0].size
        if n != b.board_size or any(g.size != n for g, _ in requests):
            raise ValueError(f"this model plays {b.board_size}x{b.board_size} only")
        views = np.stack([self._views(g, c) for g, c in requests])  # (B, F, N, N)
        S = self.symmetries
        perms = [symmetry_permutation(t, n) for t in range(S)]  # (N*N,) each: point p -> perm[p]
        views = np.concatenate([_transform_views(views, perm) for perm in perms])  # (S*B, F, N, N), s-major
        B = len(requests)
        im, per_branch = self.read_views(views)
        k = im.k
        weights = im.weights.reshape(-1, 1)  # p(z_1) renormalised over the k branches
        probs_sym = (per_branch.to(weights.device) * weights).reshape(S, B, k, -1).sum(2).cpu().numpy()  # (S, B, N*N+1)
        # back to the real board: the distribution of view s at point p is its value at perm_s[p]
        probs = pool_views(np.stack([np.concatenate([probs_sym[s][:, perm], probs_sym[s][:, -1:]], 1)
                                     for s, perm in enumerate(perms)]), self.view_pool)  # (B, N*N+1)
        winrates = self._winrates(views[:, -1], S, B, im.first.outcome)
        # what GUIs see (imagined frame, codes) comes from the unrotated view, rows 0..B-1
        frames = b.tokenizer.decode(im.x_next.reshape(S * B, k, -1)[:B, 0].cpu())
        return probs, winrates, im, frames

    def _add_move_winrates(self, requests: Sequence[tuple[Game, int]], analyses: list[Analysis], k: int) -> None:
        """Fill ``move_winrates`` for the k most likely legal moves of each analysis: the value model on
        the board after the move, seen by the opponent (who moves next), turned around: 1 - P(opponent wins)."""
        afters, where = [], []
        for i, ((game, color), a) in enumerate(zip(requests, analyses)):
            n = game.size
            a.move_winrates = np.full(n * n + 1, np.nan)
            for flat, _ in top_moves(a, k):
                # legal: top_moves lists legal moves only
                afters.append((game.position.play(from_flat(flat, n), color), opponent(color)))
                where.append((i, flat))
        theirs = self.position_winrates(afters)
        if theirs is None:
            return
        for (i, flat), p in zip(where, theirs):
            analyses[i].move_winrates[flat] = 1.0 - float(p)  # the opponent's P(win), turned around

    @torch.no_grad()
    def position_winrates(self, requests: Sequence[tuple[Position, int]]) -> Optional[np.ndarray]:
        """(M,) the value model's P(side to move wins) for each (position, colour to move), averaged over
        the player's S board views (the search's quiescence asks this of boards after captures); None
        without a value model."""
        if self.value is None or not requests:
            return None
        return mean_win_probability(self.value, mover_boards(requests), self.symmetries)

    def _winrates(self, boards: np.ndarray, S: int, B: int, outcome: Optional[torch.Tensor]) -> Optional[list[float]]:
        """P(side to move wins) per request, averaged over the S views: from the bundle's value model
        (frames of ``boards``, (S*B, N, N) mover's view), else the transformer's outcome head, else None."""
        if self.value is not None:
            return view_mean(self.value, boards, S).tolist()
        return None if outcome is None else outcome.reshape(S, B).mean(0).tolist()

    def _frame_diff(self, x_t: torch.Tensor, x_next: torch.Tensor, n: int) -> torch.Tensor:
        """(M, 16) token ids of x_t and imagined x_{t+1} -> (M, N*N+1) one-hot of the new black stone."""
        from models.idm import frame_diff_move

        tok = self.bundle.tokenizer
        now = decode_boards(tok, x_t.cpu(), n, self.rcfg)
        nxt = decode_boards(tok, x_next.cpu(), n, self.rcfg)
        out = torch.zeros(len(now), n * n + 1)
        for i, (a, b) in enumerate(zip(now, nxt)):
            out[i, frame_diff_move(a, b)] = 1.0  # mover's view: the mover's stones look black
        return out

    def _finish(self, game: Game, color: int, probs: np.ndarray, winrate: Optional[float], branches, frame, i: int,
                k: int, cleanup: bool) -> Analysis:
        from render.frame import render, to_uint8
        from render.reader import read_board

        n = game.size
        rules_mask = game.position.legal_mask(color)
        mask = play_mask(game, color, rules_mask, probs, cleanup)
        raw_flat = int(np.argmax(probs))
        legal = _renormalised(probs, rules_mask)  # what GUIs and REST show: the network under the rules
        playable = _renormalised(probs, mask)  # what the engine lets it play
        flat = choose_move(playable, self.temperature, self.rng)
        board = read_board(to_uint8(frame.permute(1, 2, 0).numpy()), n, self.rcfg)
        if color == WHITE:
            board = swap_colours(board)  # back from the mover's view to real colours
        z = self.bundle.vocab.ldm_raw(branches.z[i * k]).tolist()
        return Analysis(probs=probs, legal_probs=legal, raw_move=from_flat(raw_flat, n), raw_legal=bool(rules_mask[raw_flat]),
                        move=from_flat(flat, n), winrate=winrate,
                        z_codes=[int(v) for v in z], imagined_board=board, imagined_frame=render(board, self.rcfg),
                        play_probs=playable)


def mover_boards(requests: Sequence[tuple[Position, int]]) -> np.ndarray:
    """(M, N, N) uint8 stones of each (position, colour to move), the mover drawn black."""
    boards = []
    for position, color in requests:
        n = position.size
        stones = np.frombuffer(position.stones, np.uint8).reshape(n, n)
        boards.append(stones if color == BLACK else swap_colours(stones))
    return np.stack(boards)


@functools.lru_cache(maxsize=None)
def symmetry_permutation(t: int, n: int) -> np.ndarray:
    """(N*N,) int: where symmetry ``t`` (engine/symmetry.TRANSFORMS) sends each point (cached: read only)."""
    from engine.symmetry import TRANSFORMS

    out = np.empty(n * n, np.int64)
    for p in range(n * n):
        r, c = TRANSFORMS[t](*divmod(p, n), n - 1)
        out[p] = r * n + c
    out.flags.writeable = False
    return out


def _transform_views(views: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """(B, F, N, N) stones -> the same boards under the symmetry ``perm`` (stone at p moves to perm[p])."""
    B, F, n, _ = views.shape
    flat = views.reshape(B, F, n * n)
    out = np.empty_like(flat)
    out[..., perm] = flat
    return out.reshape(B, F, n, n)


def shipped(weights: Optional[str] = None, temperature: float = 0.0, top_k: Optional[int] = None,
            move_reader: str = "idm", symmetries: Optional[int] = None, precision: str = "fp32",
            frame_slots: bool = True, view_pool: str = "mean") -> NeuralPlayer:
    """The shipped 9x9 model as a Player (``videoworld-go eval run --player py:models.player:shipped``,
    options as ``py:models.player:shipped:top_k=16``). ``VIDEOWORLD_WEIGHTS`` names another bundle
    folder (to grade a candidate before shipping it)."""
    import os

    from models.bundle import DEFAULT_BUNDLE, load_bundle

    return NeuralPlayer(load_bundle(weights or os.environ.get("VIDEOWORLD_WEIGHTS") or DEFAULT_BUNDLE),
                        temperature=temperature, top_k=top_k, move_reader=move_reader, symmetries=symmetries,
                        precision=precision, frame_slots=frame_slots, view_pool=view_pool)


def shipped_frame_diff(weights: Optional[str] = None, top_k: Optional[int] = None) -> NeuralPlayer:
    """The shipped model (or the bundle ``weights``) with the frame-difference move reader instead
    of the IDM (the baseline)."""
    return shipped(weights=weights, top_k=top_k, move_reader="frame_diff")


def shipped_search(weights: Optional[str] = None, visits: int = 64, batch: int = 8, c_puct: float = 1.5,
                   fpu_reduction: float = 0.2, top_k: Optional[int] = None, symmetries: Optional[int] = None,
                   leaf_symmetries: int = 0, leaf_branches: int = 0, reuse: bool = False, quiescence: int = 0,
                   tactics: float = 0.0):
    """The shipped model (or the bundle ``weights``) under a PUCT tree search of ``visits`` leaf
    evaluations per move (engine/search.py): ``py:models.player:shipped_search:visits=64``.
    ``reuse`` is off: the evaluator's positions follow each other within a game, and a label's
    figure should not depend on which label came before it (``reuse=true`` keeps the tree)."""
    from engine.search import SearchConfig, with_search

    return with_search(shipped(weights=weights, top_k=top_k, symmetries=symmetries),
                       SearchConfig(visits=visits, batch=batch, c_puct=c_puct, fpu_reduction=fpu_reduction,
                                    leaf_symmetries=leaf_symmetries, leaf_branches=leaf_branches, reuse=reuse,
                                    quiescence=quiescence, tactics=tactics))
