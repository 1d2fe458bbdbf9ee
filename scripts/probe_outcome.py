"""Does the frozen transformer's hidden state know who wins? Linear probes, fitted on training
windows and scored (Brier) on validation windows, for several readouts of the prefix
``<im_start> x_t <im_end> <act_start>``: the shipped head's <im_end> state, <act_start>, the mean
of x_t's 16 token states, and all 16 concatenated; against the base rate.

    .venv/bin/python scripts/probe_outcome.py --transformer-state runs/v4c/outcome/state.pt \\
        --tokenizer-state runs/v4/tokenizer/state.pt --data-dir runs/snapE

The state's folder must hold the run's vocab.npz (an outcome run does not: copy the transformer
run's beside it). Prints a table and writes JSON (--out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.train.outcome_stage import load_transformer, prefixes, results_in_cache_order, sample
from models.train.windows import WindowSampler, get_cache


def hidden_states(model, vocab, layout, args, split: str, n: int, seed: int):
    """(n, P, dim) hidden states of n random windows of ``split``, and the mover's scores (n,)."""
    cache = get_cache(args.cache_dir, split, args.tokenizer_state, args.data_dir, 9, False, args.threads)
    sampler = WindowSampler(cache, 1, layout.context)
    results = results_in_cache_order(args.data_dir, split, 9, cache.games)
    raw, y = sample(sampler, results, np.random.default_rng(seed), n, layout)
    with torch.no_grad():
        h = torch.cat([model.hidden(prefixes(raw[i:i + 500], vocab, layout)) for i in range(0, n, 500)])
    return h, y


def probe_brier(xtr, ytr, xva, yva, weight_decay: float = 1e-3) -> float:
    """L2-regularised logistic regression (LBFGS) on standardised features -> validation Brier."""
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-5
    a, c = (xtr - mu) / sd, (xva - mu) / sd
    w = torch.zeros(a.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=600, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a @ w + b, ytr) + weight_decay * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return float(((torch.sigmoid(c @ w + b).detach() - yva) ** 2).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--transformer-state", required=True)
    ap.add_argument("--tokenizer-state", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--cache-dir", default="cache/tokens")
    ap.add_argument("--train-windows", type=int, default=30000)
    ap.add_argument("--val-windows", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, vocab, layout = load_transformer(args.transformer_state)
    model.eval()
    htr, ytr = hidden_states(model, vocab, layout, args, "train", args.train_windows, 1)
    hva, yva = hidden_states(model, vocab, layout, args, "val", args.val_windows, 2)
    p = htr.shape[1]
    frame = slice(p - 2 - 16, p - 2)  # x_t's 16 tokens (the last frame block)
    rows = {"base rate (train mean)": float(((ytr.mean() - yva) ** 2).mean())}
    if model.outcome is not None:
        with torch.no_grad():
            rows["the model's own head (<im_end>)"] = float(
                ((torch.sigmoid(model.outcome_logit(hva[:, p - 2])).reshape(-1) - yva) ** 2).mean())
    rows["probe <im_end>"] = probe_brier(htr[:, p - 2], ytr, hva[:, p - 2], yva)
    rows["probe <act_start>"] = probe_brier(htr[:, p - 1], ytr, hva[:, p - 1], yva)
    rows["probe mean of x_t's 16 tokens"] = probe_brier(htr[:, frame].mean(1), ytr, hva[:, frame].mean(1), yva)
    rows["probe x_t's 16 tokens concatenated"] = probe_brier(htr[:, frame].flatten(1), ytr, hva[:, frame].flatten(1), yva)
    print("| readout | validation Brier |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.4f} |")
    if args.out:
        args.out.write_text(json.dumps({"brier": rows, "train_windows": args.train_windows,
                                        "val_windows": args.val_windows, "transformer_state": args.transformer_state,
                                        "data_dir": args.data_dir}, indent=1) + "\n")


if __name__ == "__main__":
    main()
