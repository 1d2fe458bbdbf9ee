"""Stage 5: the outcome head (iVideoGPT's reward head), so the engine can report a winrate.

The trained transformer is frozen; only ``Transformer.outcome`` (one linear layer on the
hidden state of x_t's <im_end>) learns P(the side to move wins) from the games' results
(a draw counts 1/2). Results are game-level labels, not moves; like the IDM this stage
reads them from the SGF, and the video learners never do. Calibration on held-out games:
Brier score and a reliability table (and plot, docs/outcome_reliability.png).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.corpus import iter_records
from models.checkpoint import config_dict, load_training_state
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.train.windows import WindowSampler, cache_summary, get_cache
from models.transformer import ModelArgs, Transformer
from models.vocab import ACT_START, CodeVocab, Layout, frame_block


@dataclass(frozen=True)
class OutcomeTrainConfig:
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/outcome", steps=600, lr=3e-3, warmup=20))
    tokenizer_state: str = "runs/tokenizer/state.pt"
    transformer_state: str = "runs/transformer/state.pt"
    cache_dir: str = "cache/tokens"
    data_dir: str = "data"
    size: int = 9
    batch: int = 256
    eval_split: str = "val"
    eval_windows: int = 2000


def black_score(result: str) -> float:
    """An SGF result (RE) as Black's score: 1 a win, 0 a loss, 1/2 a draw (or no result)."""
    r = result.upper()
    return 1.0 if r.startswith("B+") else 0.0 if r.startswith("W+") else 0.5


def results_in_cache_order(data_dir: str, split: str, size: int, games: int) -> np.ndarray:
    """Black's score of each game (1 win, 0 loss, 0.5 draw) in token-cache order (append-only corpora)."""
    from engine.sgf import SgfError, record_to_game

    out = []
    for _, rec in iter_records(data_dir, split=split, size=size):
        if rec.black_setup or rec.white_setup:
            continue
        try:
            record_to_game(rec)  # the cache skipped games that do not replay: stay aligned
        except SgfError:
            continue
        out.append(black_score(rec.result))
        if len(out) == games:
            break
    if len(out) != games:
        raise RuntimeError(f"{split}: {len(out)} results for {games} cached games (corpus changed?)")
    return np.array(out, dtype=np.float32)


def load_transformer(state_path: str) -> tuple[Transformer, CodeVocab, Layout]:
    state = load_training_state(Path(state_path))
    if state is None:
        raise FileNotFoundError(state_path)
    rec = json.loads(state["config"])
    model = Transformer(ModelArgs(**rec["model_args"]))
    model.load_state_dict(state["model"])
    return model, CodeVocab.load(Path(state_path).parent / "vocab.npz"), Layout(rec["context"], rec["horizon"])


def prefixes(raw: torch.Tensor, vocab: CodeVocab, layout: Layout) -> torch.Tensor:
    """(B, context+1, 16) raw ids -> (B, P) prefix ending at x_t's <im_end> (+ <act_start>)."""
    ids = vocab.frame_ids(raw)
    blocks = [frame_block(ids[:, i]) for i in range(layout.context + 1)]
    return torch.cat(blocks + [ids.new_full((ids.shape[0], 1), ACT_START)], 1)


def sample(sampler: WindowSampler, results: np.ndarray, rng, batch: int, layout: Layout):
    i = rng.integers(0, len(sampler), batch)
    g, t = sampler.games[i], sampler.starts[i]
    s = rng.integers(0, 8, batch)
    raw = np.stack([sampler.get(int(a), int(b), int(c))[:layout.context + 1] for a, b, c in zip(g, t, s)])
    black_score = results[g]
    mover_score = np.where(t % 2 == 0, black_score, 1 - black_score)  # mover's view: odd t is White
    return torch.from_numpy(raw), torch.from_numpy(mover_score.astype(np.float32))


def plot_reliability(report: dict, path: Path | str, title: str = "Outcome head: reliability (held-out windows)") -> None:
    """The reliability diagram of ``calibration``'s report: mean predicted win probability per bin
    against the observed win rate (marker area ~ windows in the bin), and the diagonal."""
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    rows = report["reliability"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    ax.scatter([r["mean_p"] for r in rows], [r["mean_y"] for r in rows],
               s=[max(8.0, 400.0 * r["n"] / report["n"]) for r in rows], zorder=3, label="bins (area ~ n)")
    ax.plot([r["mean_p"] for r in rows], [r["mean_y"] for r in rows], lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted P(side to move wins)", ylabel="observed win rate",
           title=f"{title}\nBrier {report['brier']:.4f} (base rate {report['brier_constant']:.4f}), n = {report['n']}")
    ax.title.set_fontsize(9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> dict:
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (p >= lo) & ((p < hi) | (hi == 1))
        if m.any():
            table.append({"bin": [round(lo, 2), round(hi, 2)], "n": int(m.sum()),
                          "mean_p": float(p[m].mean()), "mean_y": float(y[m].mean())})
    base = float(np.mean((y.mean() - y) ** 2))
    return {"brier": float(np.mean((p - y) ** 2)), "brier_constant": base, "reliability": table, "n": int(len(p))}


def train(cfg: OutcomeTrainConfig) -> Path:
    configure_torch(cfg.loop)
    model, vocab, layout = load_transformer(cfg.transformer_state)
    model.requires_grad_(False)
    model.outcome.requires_grad_(True)
    train_cache = get_cache(cfg.cache_dir, "train", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                            max(1, cfg.loop.threads))
    ev_cache = get_cache(cfg.cache_dir, cfg.eval_split, cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                         max(1, cfg.loop.threads))
    tr_s = WindowSampler(train_cache, 1, layout.context)
    ev_s = WindowSampler(ev_cache, 1, layout.context) if ev_cache.games else tr_s
    tr_res = results_in_cache_order(cfg.data_dir, "train", cfg.size, train_cache.games)
    ev_res = results_in_cache_order(cfg.data_dir, cfg.eval_split, cfg.size, ev_cache.games) if ev_cache.games else tr_res
    trainer = Trainer(cfg.loop, model, {"stage": "outcome", "data": cache_summary(train_cache),
                                        "model_args": config_dict(model.args),
                                        "context": layout.context, "horizon": layout.horizon, **config_dict(cfg)},
                      params=list(model.outcome.parameters()))
    ev_raw, ev_y = sample(ev_s, ev_res, np.random.default_rng(7), cfg.eval_windows, layout)
    for step in trainer.steps():
        raw, y = sample(tr_s, tr_res, np.random.default_rng((cfg.loop.seed, step, trainer.rank)), cfg.batch, layout)
        with torch.no_grad():
            h = model.hidden(prefixes(raw.to(trainer.device), vocab, layout))[:, -2]  # x_t's <im_end>
        loss = F.binary_cross_entropy_with_logits(model.outcome_logit(h), y.to(trainer.device))
        trainer.backward_step(loss)
        trainer.log(loss=round(loss.item(), 5))
    with torch.no_grad():
        h = model.hidden(prefixes(ev_raw.to(trainer.device), vocab, layout))[:, -2]
        p = torch.sigmoid(model.outcome_logit(h)).cpu().numpy()
    report = calibration(p, ev_y.numpy())
    trainer.log(eval=True, brier=report["brier"], brier_constant=report["brier_constant"], n=report["n"])
    if trainer.is_main:
        (Path(cfg.loop.run_dir) / "calibration.json").write_text(json.dumps(report, indent=2) + "\n")
        plot_reliability(report, Path(cfg.loop.run_dir) / "reliability.png")
    trainer.close()
    return trainer.state_path
