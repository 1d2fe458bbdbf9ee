"""Stage 4: the inverse dynamics model, the one place move labels are used.

Labelled data: a fixed ``label_share`` of the training games (chosen by a hash of the
game, disjoint from nothing else: the other stages simply never read moves). For each
transition t -> t+1 of those games, in all 8 symmetries and the mover's view: the
tokens of x_t and x_{t+1}, the LDM codes of the window, and the move (transformed with
the frames). Reported: the share of training games labelled, IDM accuracy on held-out
ground-truth frame pairs, and the frame-difference baseline on the same pairs.

``imagined_from`` (a bundle): at play the IDM reads *imagined* frames, which are not always
clean boards; trained on ground-truth pairs only, it meets them for the first time in play.
With this set, the bundle's player imagines the next frame and codes (k branches, frames only)
for every position of the same labelled games, and ``imagined_share`` of each batch is such
pairs, labelled with the move that was really played and weighted by the branch's p(z_1).
The labels are the same labelled share of games as before; nothing else sees them.

``model.emptied``: every pair also carries the (N*N,) map of points x_{t-1} -> x_t emptied (zero after a move
that captured nothing); with ``train_only="new_inputs"`` only that map's first-layer columns learn, so the
IDM reads every other position exactly as the plain IDM it starts from. ``imagined_filter`` narrows the
imagined pairs to the positions after a capture ("capture") or, of those, to the imagined recaptures
("recapture"): docs/model.md, session 44; "unclear" keeps the positions whose imagined frame pictures no
move cleanly (``models.idm.clean_move``), where at play the IDM reads the codes alone (session 48).
``model.occupied``: every pair also carries the (N*N,) map of points holding a stone in x_t, read from x_t's
frame decoded (the player gives the board the frame pictures); with ``train_only="new_inputs"`` and an
emptied-map IDM in ``loop.init_from``, only the occupied map's columns learn (session 49).

``model.context=1``: every pair also carries x_{t-1} in x_t's view (the first frame repeated at
t = 0), so the IDM can see a ko capture and learn from the imagined pairs that the recapture the
transformer imagines is never the move played. ``imagined_symmetries`` > 1 imagines each labelled
position in that many board symmetries (the first of them hash-chosen per game) instead of one;
``label_symmetries`` < 8 takes the ground-truth pairs in that many (chosen the same way) instead of all 8.
"""

from __future__ import annotations

import dataclasses
import os

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.coords import PASS, to_flat
from engine.corpus import iter_records, record_key
from engine.sgf import SgfError, record_to_game
from models.checkpoint import config_dict, load_training_state
from models.idm import (IdmConfig, InverseDynamics, clean_move, emptied_points, frame_diff_move, narrower_config,
                        new_input_columns, occupied_points, widen_to)
from models.token_cache import decode_boards, encode_boards
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.ldm import ldm_codes
from models.train.transformer_stage import load_dynamics
from models.train.windows import load_tokenizer
from models.video_data import game_stones, mover_view, symmetry
from render.frame import RenderConfig


@dataclass(frozen=True)
class IdmTrainConfig:
    model: IdmConfig = field(default_factory=IdmConfig)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/idm", steps=1500, lr=1e-3))
    tokenizer_state: str = "runs/tokenizer/state.pt"
    dynamics_state: str = "runs/dynamics/state.pt"
    data_dir: str = "data"
    size: int = 9
    label_share: float = 0.10  # of the training games whose moves the IDM may see
    batch: int = 256
    eval_every: int = 250
    max_eval_games: int = 60
    imagined_from: str = ""  # a bundle whose player imagines the next frames (see the module doc)
    imagined_share: float = 0.5  # of each batch, when imagined_from is set
    imagined_batch: int = 64  # positions imagined at once
    imagined_symmetries: int = 1  # board symmetries each labelled position is imagined in (1..8)
    # which labelled positions are imagined: "" every one; "capture" only those whose previous transition
    # removed stones (x_{t-1} -> x_t, visible in the frames): where a context IDM's x_{t-1} shows a capture;
    # "recapture" of those only the ones whose imagined frame puts the mover's new stone on a point that
    # transition emptied (read from the decoded frame, as the frame-difference baseline reads a move);
    # "unclear" every labelled position whose imagined frame does not picture one move cleanly
    # (models.idm.clean_move: nothing new, several new stones, a stone changing colour...), where the IDM
    # can only guess from the codes and, unlabelled, learned nothing about how far to trust them
    imagined_filter: str = ""
    # the loss of an imagined pair: "ce" the move played; "unlikely" (needs "recapture") where the frame shows
    # another move than the one played, only -log(1 - p(the move shown)): the label says the picture does not
    # mean that move, not which move it means (session 44: no better for the ground-truth reading than "ce")
    imagined_loss: str = "ce"
    # "new_inputs": only the first layer's columns of the inputs a plain IDM lacks (model.context's x_{t-1}
    # and x_t - x_{t-1}, model.emptied's map) learn, without weight decay; every other weight stays as the
    # plain IDM of loop.init_from had it. With the emptied map alone, positions after no capture are then
    # read exactly as before
    train_only: str = ""
    # board symmetries of each game's ground-truth pairs (1..8; the first hash-chosen per game): fewer
    # build faster (the pixel LDM's codes cost ~1 s a game and symmetry on this CPU)
    label_symmetries: int = 8


IMAGINED_FILTERS = ("", "capture", "recapture", "unclear")
IMAGINED_LOSSES = ("ce", "unlikely")
BRANCH_ARRAYS = ("nxt", "z", "w", "read")  # imagined arrays with k rows a position (the others have one)


def is_labelled(key: str, share: float) -> bool:
    """A fixed, hash-chosen subset of games (independent of the split hash bits)."""
    return int(key[8:16], 16) % 10000 < share * 10000


def game_symmetries(key: str, n: int) -> list[int]:
    """``n`` of the 8 board symmetries for the game ``key``: all 8 in order for n = 8, else n in a row
    from a hash-chosen first one (the same for a game every time)."""
    first = 0 if n == 8 else int(key[16:18], 16) % 8
    return [(first + j) % 8 for j in range(n)]


def move_under_symmetry(flat: int, k: int, size: int) -> int:
    if flat == size * size:
        return flat
    board = np.zeros((size, size), np.uint8)
    board[divmod(flat, size)] = 1
    return int(np.argmax(symmetry(board, k)))


def labelled_transitions(cfg: IdmTrainConfig, split: str, tokenizer, ldm, labelled_only: bool,
                         max_games: int | None = None) -> dict:
    """Arrays over every (game, t, symmetry): x (M,16), nxt (M,16), prev (M,16) (x_{t-1} in x_t's view,
    x_0 at t = 0), z (M,H) raw ids; move (M,) flat; emptied (M, N*N) the points x_{t-1} -> x_t emptied."""
    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    h = ldm.cfg.horizon
    if not 1 <= cfg.label_symmetries <= 8:
        raise ValueError(f"label_symmetries must be 1..8, got {cfg.label_symmetries}")
    xs, ns, ps, zs, mv, es = [], [], [], [], [], []
    games = total = 0
    for _, rec in iter_records(cfg.data_dir, split=split, size=cfg.size):
        if rec.black_setup or rec.white_setup:
            continue
        total += 1
        key = record_key(rec.size, rec.moves)
        if labelled_only and not is_labelled(key, cfg.label_share):
            continue
        try:
            game = record_to_game(rec)
        except SgfError:
            continue
        stones = game_stones(game)
        n_t = len(game.moves)
        for k in game_symmetries(key, cfg.label_symmetries):
            sym = symmetry(stones, k)
            # windows t..t+H in the mover's view at t (last frame repeated past the end); every
            # frame is encoded once per view (not once per window it falls in: H+1 times fewer)
            idx = np.minimum(np.arange(n_t)[:, None] + np.arange(h + 1)[None], len(stones) - 1)  # (T, H+1)
            views = np.stack([mover_view(sym, 0), mover_view(sym, 1)])  # (2, T+1, N, N)
            enc = encode_boards(tokenizer, views.reshape(-1, cfg.size, cfg.size), rcfg).reshape(2, len(stones), -1)
            ids = enc[np.arange(n_t)[:, None] % 2, idx]  # (T, H+1, 16)
            ids_t = torch.from_numpy(ids.astype(np.int64))
            zs.append(ldm_codes(ldm, tokenizer, ids_t).numpy())
            xs.append(ids[:, 0])
            ns.append(ids[:, 1])
            ps.append(enc[np.arange(n_t) % 2, np.maximum(np.arange(n_t) - 1, 0)])  # (T, 16)
            es.append(emptied_points(sym[np.maximum(np.arange(n_t) - 1, 0)], sym[:n_t]))  # (T, N*N), 0 at t = 0
            mv.append([move_under_symmetry(to_flat(m, cfg.size), k, cfg.size) for _, m in game.moves])
        games += 1
        if max_games is not None and games >= max_games:
            break
    cat = lambda a: np.concatenate(a) if a else np.zeros((0,), np.int64)
    return {"x": cat(xs), "nxt": cat(ns), "prev": cat(ps), "z": cat(zs), "move": cat([np.array(m) for m in mv]),
            "emptied": cat(es), "games": games, "games_total": total}


def imagined_transitions(cfg: IdmTrainConfig, bundle_dir: str, progress: bool = False) -> dict:
    """Arrays over every (labelled training game, t, symmetry) in ``imagined_symmetries`` symmetries per
    game (the first hash-chosen): x (M,16), prev (M,16) (x_{t-1} in x_t's view) and, per branch,
    nxt (M*k,16), z (M*k,H) raw ids, w (M*k,) the branch weight; move (M,) the move really played
    (flat, in that symmetry)."""
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    player = NeuralPlayer(load_bundle(bundle_dir))
    c = max(player.bundle.layout.context, 1)  # one frame before x_t at least: the IDM's x_prev
    n_sym = cfg.imagined_symmetries
    if not 1 <= n_sym <= 8:
        raise ValueError(f"imagined_symmetries must be 1..8, got {n_sym}")
    if cfg.imagined_filter not in IMAGINED_FILTERS:
        raise ValueError(f"imagined_filter must be one of {IMAGINED_FILTERS}, got {cfg.imagined_filter!r}")
    views, moves = [], []
    games = 0
    for _, rec in iter_records(cfg.data_dir, split="train", size=cfg.size):
        key = record_key(rec.size, rec.moves)
        if rec.black_setup or rec.white_setup or not is_labelled(key, cfg.label_share):
            continue
        try:
            game = record_to_game(rec)
        except SgfError:
            continue
        stones = game_stones(game)  # (T+1, N, N)
        kept = range(len(game.moves))
        if cfg.imagined_filter in ("capture", "recapture"):  # a point holding a stone at t-1, empty at t
            kept = [t for t in kept if t > 0 and ((stones[t - 1] != 0) & (stones[t] == 0)).any()]
        for sym_k in game_symmetries(key, n_sym):
            sym = symmetry(stones, sym_k)
            for t in kept:
                m = game.moves[t][1]
                idx = [max(0, t - i) for i in range(c, -1, -1)]
                views.append(mover_view(sym[idx], t % 2))  # (c+1, N, N), the mover looks black
                moves.append(move_under_symmetry(to_flat(m, cfg.size), sym_k, cfg.size))
        games += 1
    out: dict = {"x": [], "prev": [], "nxt": [], "z": [], "w": []}
    k = 0  # branches per position: the player's, capped by the LDM's number of first codes
    starts = range(0, len(views), cfg.imagined_batch)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="imagining", unit="batch")
    for i in starts:
        im = player.imagine_views(np.stack(views[i:i + cfg.imagined_batch]))
        k = im.k
        for name, value in (("x", im.x_t), ("prev", im.x_prev), ("nxt", im.x_next), ("z", im.z),
                            ("w", im.weights.reshape(-1))):
            out[name].append(value.cpu().numpy())
    raw = {**{name: np.concatenate(v) for name, v in out.items()}, "move": np.array(moves, np.int64)}
    boards = np.stack(views)  # (M, c+1, N, N)
    raw["emptied"] = emptied_points(boards[:, -2], boards[:, -1])  # (M, N*N)
    if cfg.imagined_filter == "recapture":
        read, onto = _onto_emptied(boards, raw["nxt"].reshape(len(boards), k, -1), player)  # (M, k) each
        raw["read"] = read.reshape(-1)  # per branch, like nxt: the move the imagined frame shows
        keep = onto.any(1)  # (M,): positions; their k branch rows are kept with them
        raw = {name: a[np.repeat(keep, k) if name in BRANCH_ARRAYS else keep] for name, a in raw.items()}
    elif cfg.imagined_filter == "unclear":
        shown = _clean_moves(boards, raw["nxt"].reshape(len(boards), k, -1), player)  # (M, k)
        keep = (shown < 0).any(1)
        raw = {name: a[np.repeat(keep, k) if name in BRANCH_ARRAYS else keep] for name, a in raw.items()}
    return {**raw, "k": k, "games": games}


def _imagined_boards(nxt: np.ndarray, player, n: int) -> np.ndarray:
    """(M, k, 16) imagined frame ids -> (M, k, N, N) boards, decoded and read back by the renderer's reader."""
    m, k = nxt.shape[:2]
    ids = torch.from_numpy(nxt.reshape(m * k, -1).astype(np.int64))
    return decode_boards(player.bundle.tokenizer, ids, n, player.rcfg).reshape(m, k, n, n)


def _clean_moves(views: np.ndarray, nxt: np.ndarray, player) -> np.ndarray:
    """(M, F, N, N) boards (mover's view, x_t last), (M, k, 16) imagined frame ids -> (M, k): the flat move
    each imagined frame pictures cleanly (models.idm.clean_move), -1 where it pictures none."""
    boards = _imagined_boards(nxt, player, views.shape[-1])
    return np.array([[clean_move(views[i, -1], b) for b in row] for i, row in enumerate(boards)], np.int64)


@torch.no_grad()
def _onto_emptied(views: np.ndarray, nxt: np.ndarray, player) -> tuple[np.ndarray, np.ndarray]:
    """(M, F, N, N) boards (mover's view, x_{t-1} then x_t last), (M, k, 16) imagined frame ids ->
    (M, k) flat move the imagined frame shows (its new mover stone, decoded and read back as
    ``frame_diff_move`` reads it; N*N when none), (M, k) bool: that stone stands on a point that held a
    stone in x_{t-1} and is empty in x_t."""
    m, k, n = len(views), nxt.shape[1], views.shape[-1]
    emptied = emptied_points(views[:, -2], views[:, -1]).astype(bool)  # (M, N*N)
    boards = _imagined_boards(nxt, player, n)  # (M, k, N, N)
    read = np.array([[frame_diff_move(views[i, -1], b) for b in row] for i, row in enumerate(boards)], np.int64)
    onto = np.zeros((m, k), bool)
    shown = read < n * n
    onto[shown] = emptied[np.nonzero(shown)[0], read[shown]]
    return read, onto


@torch.no_grad()
def frame_diff_accuracy(data: dict, tokenizer, size: int) -> float:
    """The baseline reader on ground-truth pairs: decode both frames, read the boards, take the new stone."""
    rcfg = RenderConfig(resolution=tokenizer.cfg.resolution)
    b0 = decode_boards(tokenizer, torch.from_numpy(data["x"].astype(np.int64)), size, rcfg)
    b1 = decode_boards(tokenizer, torch.from_numpy(data["nxt"].astype(np.int64)), size, rcfg)
    diff = np.array([frame_diff_move(a, b) for a, b in zip(b0, b1)])
    return float((diff == data["move"]).mean())


@torch.no_grad()
def evaluate_idm(model: InverseDynamics, data: dict, fsq, tokenizer, size: int, code_fsq=None,
                 frame_diff_acc: float | None = None) -> dict:
    """IDM accuracy on ground-truth (x_t, x_{t+1}, z) and the frame-difference baseline
    (``frame_diff_acc``: computed once by the caller, it does not change during training)."""
    model.eval()
    x = torch.from_numpy(data["x"].astype(np.int64))
    nxt = torch.from_numpy(data["nxt"].astype(np.int64))
    z = torch.from_numpy(data["z"].astype(np.int64))
    prev = fsq.indices_to_codes(torch.from_numpy(data["prev"].astype(np.int64))) if model.cfg.context else None
    emp = _emptied(data, "the validation pairs") if model.cfg.emptied else None
    occ = None
    if model.cfg.occupied:  # the caller's maps when it kept them (train(): decoded once, not at every evaluation)
        occ = data["occupied"] if "occupied" in data else _occupied(data["x"], tokenizer, size)
    code_fsq = code_fsq or fsq  # the LDM's quantizer (its levels may differ from the tokenizer's)
    pred = model(fsq.indices_to_codes(x), fsq.indices_to_codes(nxt), code_fsq.indices_to_codes(z),
                 prev, emp, occ).argmax(-1).numpy()
    model.train()
    if frame_diff_acc is None:
        frame_diff_acc = frame_diff_accuracy(data, tokenizer, size)
    return {"idm_acc": float((pred == data["move"]).mean()), "frame_diff_acc": frame_diff_acc, "n": int(len(pred))}


def train(cfg: IdmTrainConfig) -> Path:
    if cfg.imagined_loss not in IMAGINED_LOSSES:
        raise ValueError(f"imagined_loss must be one of {IMAGINED_LOSSES}, got {cfg.imagined_loss!r}")
    configure_torch(cfg.loop)
    tokenizer = load_tokenizer(cfg.tokenizer_state)
    ldm = load_dynamics(cfg.dynamics_state)
    run = Path(cfg.loop.run_dir)
    data = _kept(run / "pairs_train.npz", lambda: labelled_transitions(cfg, "train", tokenizer, ldm, labelled_only=True))
    val = _kept(run / "pairs_val.npz", lambda: labelled_transitions(cfg, "val", tokenizer, ldm, labelled_only=False,
                                                                     max_games=cfg.max_eval_games))
    if len(val["move"]) == 0:  # no validation game yet (tiny corpus): report on training pairs
        val = data
    share = data["games"] / max(1, data["games_total"])
    model_cfg = dataclasses.replace(cfg.model, code_dim=len(ldm.cfg.levels))
    plain = dataclasses.replace(model_cfg, context=0, emptied=False, occupied=False)
    if cfg.train_only and cfg.loop.init_from:  # new: the inputs the IDM it starts from lacks
        init = load_training_state(Path(cfg.loop.init_from))
        if init is not None:
            plain = narrower_config(model_cfg, init["model"]["net.0.weight"].shape[1])
    if cfg.train_only not in ("", "new_inputs") or (cfg.train_only and model_cfg == plain):
        raise ValueError(f"train_only must be '' or 'new_inputs' (with model.context=1, model.emptied or "
                         f"model.occupied the IDM of loop.init_from lacks), got {cfg.train_only!r}")
    make = (lambda: _new_inputs_only(InverseDynamics(model_cfg), plain)) if cfg.train_only else \
        (lambda: InverseDynamics(model_cfg))
    trainer = Trainer(cfg.loop, make, {"stage": "idm", "labelled_games": data["games"],
                                        "train_games": data["games_total"], "labelled_share": share,
                                        **config_dict(dataclasses.replace(cfg, model=model_cfg))},
                      # a plain IDM in loop.init_from starts a wider one (context, emptied map) as its exact function
                      init_transform=lambda weights: widen_to(weights, model_cfg))
    if cfg.train_only:  # the frozen columns of the first layer must not shrink either
        for group in trainer.optimizer.param_groups:
            group["weight_decay"] = 0.0
    fsq = tokenizer.fsq
    frames = ("x", "nxt", "prev") if model_cfg.context else ("x", "nxt")  # x_{t-1} only for an IDM that reads it
    codes = {k: fsq.indices_to_codes(torch.from_numpy(data[k].astype(np.int64))) for k in frames}
    codes["z"] = ldm.fsq.indices_to_codes(torch.from_numpy(data["z"].astype(np.int64)))
    if model_cfg.emptied:
        codes["emptied"] = _emptied(data, str(run / "pairs_train.npz"))
    if model_cfg.occupied:
        codes["occupied"] = _occupied(data["x"], tokenizer, cfg.size)
    moves = torch.from_numpy(data["move"].astype(np.int64))
    imagined = _imagined(cfg, fsq, ldm, frames, tokenizer) if cfg.imagined_from else None
    n_im = int(round(cfg.batch * cfg.imagined_share)) if imagined else 0
    baseline = frame_diff_accuracy(val, tokenizer, cfg.size) if trainer.is_main else None
    if model_cfg.occupied and trainer.is_main:
        val = {**val, "occupied": _occupied(val["x"], tokenizer, cfg.size)}  # (M, N*N): the same frames at every evaluation
    for step in trainer.steps():
        rng = np.random.default_rng((cfg.loop.seed, step, trainer.rank))
        i = torch.from_numpy(rng.integers(0, len(moves), cfg.batch - n_im))
        prev = codes["prev"][i] if model_cfg.context else None
        emp = codes["emptied"][i] if model_cfg.emptied else None
        occ = codes["occupied"][i] if model_cfg.occupied else None
        logits = trainer.wrapped(codes["x"][i], codes["nxt"][i], codes["z"][i], prev, emp, occ)
        loss = F.cross_entropy(logits, moves[i])
        if n_im:
            j = torch.from_numpy(rng.integers(0, len(imagined["w"]), n_im))  # a branch of a position
            pos = j // imagined["k"]
            im_prev = imagined["prev"][pos] if model_cfg.context else None
            im_emp = imagined["emptied"][pos] if model_cfg.emptied else None
            im_occ = imagined["occupied"][pos] if model_cfg.occupied else None
            im_logits = trainer.wrapped(imagined["x"][pos], imagined["nxt"][j], imagined["z"][j], im_prev, im_emp,
                                        im_occ)
            w = imagined["w"][j] * imagined["k"]  # mean weight 1: a position's k branches count as one pair
            shown = imagined["read"][j] if "read" in imagined else imagined["move"][pos]
            im_loss = (_imagined_loss(cfg.imagined_loss, im_logits, imagined["move"][pos], shown) * w).mean()
            loss = (loss * (cfg.batch - n_im) + im_loss * n_im) / cfg.batch
        trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 5))
        if trainer.is_main and ((step + 1) % cfg.eval_every == 0 or step + 1 == cfg.loop.steps):
            trainer.log(eval=True, labelled_share=round(share, 4), **evaluate_idm(trainer.model, val, fsq, tokenizer, cfg.size,
                                                                                 ldm.fsq, baseline))
    trainer.close()
    return trainer.state_path


def _new_inputs_only(model: InverseDynamics, plain: IdmConfig) -> InverseDynamics:
    """``train_only="new_inputs"``: every weight frozen but the first layer's columns of the inputs ``plain``
    lacks (models/idm.new_input_columns)."""
    for name, p in model.named_parameters():
        p.requires_grad_(name == "net.0.weight")
    first = model.net[0].weight  # (hidden, in_dim)
    mask = new_input_columns(model.cfg, plain).to(first.dtype)[None].expand_as(first).clone()
    first.register_hook(lambda g: g * mask)
    return model


def _imagined_loss(kind: str, logits: torch.Tensor, played: torch.Tensor, shown: torch.Tensor) -> torch.Tensor:
    """(B, M) logits, (B,) the move played and the move the imagined frame shows -> (B,) loss: cross-entropy
    on the move played ("ce"), or for "unlikely" that where the frame shows the move played and
    -log(1 - p(shown)) where it shows another."""
    ce = F.cross_entropy(logits, played, reduction="none")
    if kind == "ce":
        return ce
    p_shown = torch.softmax(logits.float(), -1).gather(1, shown[:, None])[:, 0]
    unlikely = -torch.log1p(-p_shown.clamp(max=1 - 1e-6))
    return torch.where(shown == played, ce, unlikely)


def _emptied(arrays: dict, where: str) -> torch.Tensor:
    """(M, N*N) float emptied maps of kept pairs; pairs kept before the maps existed have none."""
    if "emptied" not in arrays:
        raise ValueError(f"{where} has no emptied maps (built before model.emptied existed): delete it to rebuild")
    return torch.from_numpy(arrays["emptied"].astype(np.float32))


def _occupied(x: np.ndarray, tokenizer, size: int) -> torch.Tensor:
    """(M, 16) frame ids of x_t -> (M, N*N) float: the points holding a stone in the frame, decoded and read
    back (each distinct frame once: the imagined pairs repeat the labelled positions' frames)."""
    uniq, inverse = np.unique(x.astype(np.int64), axis=0, return_inverse=True)
    boards = decode_boards(tokenizer, torch.from_numpy(uniq), size, RenderConfig(resolution=tokenizer.cfg.resolution))
    return torch.from_numpy(occupied_points(boards)[inverse.reshape(-1)].astype(np.float32))


def _kept(path: Path, build) -> dict:
    """``build()``'s arrays, built once and kept at ``path`` (the pairs of a run folder: the pixel LDM's codes
    take ~1 s a game and symmetry here, so a resumed run, or a second run given the folder's copy, reuses them)."""
    if not path.exists():
        raw = build()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # written whole, then renamed: a kill or a second rank never sees half
        with open(tmp, "wb") as f:
            np.savez(f, **raw)
        os.replace(tmp, path)
    return {k: (v.item() if v.ndim == 0 else v) for k, v in np.load(path).items()}


def _imagined(cfg: IdmTrainConfig, fsq, ldm, frames: tuple[str, ...], tokenizer) -> dict:
    """The imagined pairs as FSQ codes (of the frame arrays ``frames`` and the LDM codes), generated once and
    kept in the run folder (a resumed run reuses them)."""
    raw = _kept(Path(cfg.loop.run_dir) / "imagined.npz",
                lambda: imagined_transitions(cfg, cfg.imagined_from, progress=cfg.loop.progress))
    if cfg.imagined_loss == "unlikely" and "read" not in raw:
        raise ValueError("imagined_loss 'unlikely' needs the moves the imagined frames show: imagined_filter=recapture")
    as_long = lambda a: torch.from_numpy(a.astype(np.int64))
    out = {**{k: fsq.indices_to_codes(as_long(raw[k])) for k in frames},
           "z": ldm.fsq.indices_to_codes(as_long(raw["z"])), "w": torch.from_numpy(raw["w"].astype(np.float32)),
           "move": as_long(raw["move"]), "k": int(raw["k"])}
    if "read" in raw:
        out["read"] = as_long(raw["read"])
    if cfg.model.emptied:
        out["emptied"] = _emptied(raw, str(Path(cfg.loop.run_dir) / "imagined.npz"))
    if cfg.model.occupied:
        out["occupied"] = _occupied(raw["x"], tokenizer, cfg.size)
    return out


__all__ = ["IdmTrainConfig", "train", "is_labelled", "PASS"]
