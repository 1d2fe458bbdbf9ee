"""Stage 6: the value model (models/value.py), so the engine reports a winrate that means something.

Data: every position of every training game, filmed by the camera (models/video_data.py) in
the mover's view and a random board symmetry, rendered to a frame; the label is the game's
result for the side to move (1 win, 0 loss, 1/2 draw). Results are game-level labels read
from the SGF, as the outcome stage reads them; no move and no rule reaches the model. With
``model.ownership`` the model also learns, point by point, the video's last frame (in the same
view and symmetry as its input; weight ``ownership_weight``): still frames only.
Calibration on held-out games: Brier score overall and by game phase, a reliability table
and plot (``calibration.json``, ``reliability.png`` in the run folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from models.checkpoint import config_dict
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.train.outcome_stage import black_score, calibration, plot_reliability
from models.value import ValueConfig, ValueNet, frames_of
from models.video_data import swap_colours, symmetry
from render.frame import RenderConfig

PHASES = ((0, 20), (20, 40), (40, 60), (60, 10_000))  # frame index ranges for the Brier by phase


@dataclass(frozen=True)
class ValueTrainConfig:
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/value", steps=6000, lr=2e-3, warmup=100,
                                                                weight_decay=1e-4, min_lr_ratio=0.0))
    model: ValueConfig = field(default_factory=ValueConfig)
    data_dir: str = "data"
    corpora: tuple[str, ...] = ()  # () = every corpus of the board size
    size: int = 9
    batch: int = 256
    eval_split: str = "val"
    eval_every: int = 500
    eval_positions: int = 4096  # fixed sample for the curve; the final report uses every held-out position
    max_games: int = 0  # 0 = all (tests use a few)
    ownership_weight: float = 1.0  # of the per-point cross-entropy (mean over points) beside the win BCE


def video_and_score(rec) -> Optional[tuple[np.ndarray, float]]:
    """One SGF record -> the camera's video ((T+1, N, N) stones) and Black's score, or None when the
    game has setup stones (the mover's-view parity needs Black first) or does not replay."""
    from engine.sgf import SgfError, record_to_game
    from models.video_data import game_stones

    if rec.black_setup or rec.white_setup:
        return None
    try:
        return game_stones(record_to_game(rec)), black_score(rec.result)
    except SgfError:
        return None


def game_results(data_dir: str, split: str, size: int, corpora=(), max_games: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """The camera's videos ((T+1, N, N) stones each) and Black's score of each game (1 / 0 / 0.5)."""
    from engine.corpus import iter_records

    videos, scores = [], []
    for _, rec in iter_records(data_dir, list(corpora) or None, split=split, size=size):
        got = video_and_score(rec)
        if got is None:
            continue
        videos.append(got[0])
        scores.append(got[1])
        if max_games and len(videos) >= max_games:
            break
    return videos, np.array(scores, dtype=np.float32)


def mover_view(stones: np.ndarray, t: int) -> np.ndarray:
    """Frame t's stones with the side to move looking black (White moves at odd t)."""
    return swap_colours(stones) if t % 2 else stones


def sample(videos: list[np.ndarray], scores: np.ndarray, rng: np.random.Generator, batch: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, N, N) mover's-view stones in a random symmetry, (B,) the mover's score, and (B, N, N) the
    game's last frame in the same view and symmetry (the ownership target: its codes are the classes)."""
    g = rng.integers(0, len(videos), batch)
    boards, y, last = [], [], []
    for gi, k in zip(g, rng.integers(0, 8, batch)):
        t = int(rng.integers(0, len(videos[gi])))
        boards.append(symmetry(mover_view(videos[gi][t], t), int(k)))
        last.append(symmetry(mover_view(videos[gi][-1], t), int(k)))  # the mover's colour is the mover's at t
        y.append(scores[gi] if t % 2 == 0 else 1 - scores[gi])
    return np.stack(boards), np.array(y, dtype=np.float32), np.stack(last)


def every_position(videos: list[np.ndarray], scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All positions of the given games, mover's view: boards (M, N, N), scores (M,), frame index (M,)."""
    boards, y, ts = [], [], []
    for v, s in zip(videos, scores):
        for t in range(len(v)):
            boards.append(mover_view(v[t], t))
            y.append(s if t % 2 == 0 else 1 - s)
            ts.append(t)
    return np.stack(boards), np.array(y, dtype=np.float32), np.array(ts)


def last_frames(videos: list[np.ndarray]) -> np.ndarray:
    """(M, N, N): for every position of ``every_position``, its game's last frame in that mover's view."""
    return np.stack([mover_view(v[-1], t) for v in videos for t in range(len(v))])


@torch.no_grad()
def ownership_accuracy(model: ValueNet, boards: np.ndarray, last: np.ndarray, rcfg: RenderConfig, device,
                       chunk: int = 1024) -> float:
    """Share of intersections whose class in the last frame the ownership head predicts (argmax)."""
    was = model.training
    model.eval()
    right = 0
    try:
        for i in range(0, len(boards), chunk):
            _, own = model(frames_of(boards[i:i + chunk], rcfg).to(device), ownership=True)  # (b, 3, N, N)
            right += int((own.argmax(1).cpu() == torch.from_numpy(last[i:i + chunk]).long()).sum())
    finally:
        model.train(was)
    return right / max(1, last.size)


def with_new_parts(fresh) -> "callable":
    """loop.init_from's transform for a model larger than the state it starts from: the ownership
    head, and residual blocks past the state's last one, start from ``fresh`` (the new model's
    initial weights), each new block's GroupNorm scale at zero so that the block starts as the
    identity (h + 0, through a ReLU of a non-negative h) and the deeper model computes exactly what
    the state did; every other tensor must be there (strict load). ``fresh``: the weights, or a
    function giving them (called at load time, after the trainer has seeded torch: reproducible)."""
    def transform(state: dict) -> dict:
        new = fresh() if callable(fresh) else fresh
        missing = {k: v for k, v in new.items() if k not in state}
        odd = [k for k in missing if not (k.startswith(("own.", "convs.", "norms.")))]
        if odd:
            raise ValueError(f"loop.init_from lacks {sorted(odd)}: only the ownership head and added blocks may be new")
        added = {k: (torch.zeros_like(v) if k.startswith("norms.") and k.endswith(".weight") else v)
                 for k, v in missing.items()}
        return {**state, **added}
    return transform


@torch.no_grad()
def predict(model: ValueNet, boards: np.ndarray, rcfg: RenderConfig, device, chunk: int = 1024) -> np.ndarray:
    """(M, N, N) mover's-view stones -> (M,) P(mover wins)."""
    out = [model.win_probability(frames_of(boards[i:i + chunk], rcfg).to(device)).cpu().numpy()
           for i in range(0, len(boards), chunk)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def report(p: np.ndarray, y: np.ndarray, t: Optional[np.ndarray] = None) -> dict:
    """Calibration (Brier, base rate, reliability) plus the Brier by game phase (frame index ranges)."""
    rep = calibration(p, y)
    if t is not None:
        rep["brier_by_phase"] = {f"{a}-{b if b < 10_000 else 'end'}": {
            "n": int(m.sum()), "brier": float(np.mean((p[m] - y[m]) ** 2)),
            "brier_constant": float(np.mean((y[m].mean() - y[m]) ** 2))}
            for a, b in PHASES if (m := (t >= a) & (t < b)).any()}
    return rep


def train(cfg: ValueTrainConfig) -> Path:
    configure_torch(cfg.loop)
    rcfg = RenderConfig(resolution=cfg.model.resolution)
    tr_v, tr_y = game_results(cfg.data_dir, "train", cfg.size, cfg.corpora, cfg.max_games)
    ev_v, ev_y = game_results(cfg.data_dir, cfg.eval_split, cfg.size, cfg.corpora, cfg.max_games)
    if not tr_v:
        raise RuntimeError(f"no {cfg.size}x{cfg.size} training games in {cfg.data_dir}")
    if not ev_v:
        ev_v, ev_y = tr_v, tr_y  # tiny corpora: report on the training games (said in the record)
    data = {"train_games": len(tr_v), "train_positions": int(sum(len(v) for v in tr_v)),
            "eval_split": cfg.eval_split if ev_v is not tr_v else "train", "eval_games": len(ev_v)}
    own = cfg.model.ownership
    trainer = Trainer(cfg.loop, lambda: ValueNet(cfg.model),
                      {"stage": "value", "data": data, "model": config_dict(cfg.model), **config_dict(cfg)},
                      init_transform=with_new_parts(lambda: ValueNet(cfg.model).state_dict()))
    model = trainer.model
    boards, ys, ts = every_position(ev_v, ev_y)
    last = last_frames(ev_v) if own else None
    curve = np.random.default_rng(7).permutation(len(boards))[:cfg.eval_positions]
    for step in trainer.steps():
        x, y, end = sample(tr_v, tr_y, np.random.default_rng((cfg.loop.seed, step, trainer.rank)), cfg.batch)
        frames = frames_of(x, rcfg).to(trainer.device)
        target = torch.from_numpy(y).to(trainer.device)
        with trainer.autocast():
            if own:
                logits, own_logits = trainer.wrapped(frames, ownership=True)
            else:
                logits = trainer.wrapped(frames)
        loss = win_loss = F.binary_cross_entropy_with_logits(logits.float(), target)
        parts = {}
        if own:
            own_loss = F.cross_entropy(own_logits.float(), torch.from_numpy(end).long().to(trainer.device))
            loss = win_loss + cfg.ownership_weight * own_loss
            parts = {"win_loss": round(win_loss.item(), 5), "own_loss": round(own_loss.item(), 5)}
        trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 5), **parts)
        if trainer.is_main and cfg.eval_every and (step + 1) % cfg.eval_every == 0 and step + 1 < cfg.loop.steps:
            p = predict(model, boards[curve], rcfg, trainer.device)
            extra = {"own_acc": round(ownership_accuracy(model, boards[curve], last[curve], rcfg, trainer.device), 5)
                     } if own else {}
            trainer.log(eval=True, brier=round(float(np.mean((p - ys[curve]) ** 2)), 5), n=len(curve), **extra)
    if trainer.is_main:
        rep = report(predict(model, boards, rcfg, trainer.device), ys, ts)
        rep["eval_split"] = data["eval_split"]
        if own:
            rep["ownership_accuracy"] = ownership_accuracy(model, boards, last, rcfg, trainer.device)
        trainer.log(eval=True, brier=rep["brier"], brier_constant=rep["brier_constant"], n=rep["n"], final=True,
                    **({"own_acc": rep["ownership_accuracy"]} if own else {}))
        (Path(cfg.loop.run_dir) / "calibration.json").write_text(json.dumps(rep, indent=2) + "\n")
        plot_reliability(rep, Path(cfg.loop.run_dir) / "reliability.png",
                         title="Value model: reliability (every held-out position)")
    trainer.close()
    return trainer.state_path
