"""What the LDM code memo saves a transformer training step: labelling a batch of windows on the fly
against reading the same windows' codes from a filled memo, in one process, then a whole training
step (forward, backward, AdamW) of a transformer size on those tokens for scale.

    .venv/bin/python benchmarks/bench_ldm_memo.py --tokenizer-state T --dynamics-state D --data-dir S \
        [--cache-dir cache/tokens] [--size base] [--threads 2] [--batches 5]

The token cache of S's training split must exist (any transformer run on S built it). Prints a
table, writes benchmarks/results/ldm_memo.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-state", required=True)
    ap.add_argument("--dynamics-state", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--cache-dir", default="cache/tokens")
    ap.add_argument("--size", default="base", help="transformer size for the step's scale (models/transformer.py)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ldm_memo.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from models.train.code_memo import CodeMemo
    from models.train.precision import bf16_pays
    from models.train.transformer_stage import Batcher, load_dynamics, masked_loss
    from models.train.windows import WindowSampler, cache_path, load_tokenizer
    from models.token_cache import TokenCache
    from models.transformer import ModelArgs, Transformer
    from models.vocab import CodeVocab, Layout

    path = cache_path(args.cache_dir, "train", args.tokenizer_state, args.data_dir)
    if not path.exists():
        sys.exit(f"no token cache at {path}: train once on {args.data_dir} first")
    cache = TokenCache.load(path)
    tok, ldm = load_tokenizer(args.tokenizer_state), load_dynamics(args.dynamics_state)
    layout = Layout(context=0, horizon=ldm.cfg.horizon)
    sampler = WindowSampler(cache, layout.horizon + 1)
    keys = [sampler.sample_keys(np.random.default_rng(i), args.batch) for i in range(args.batches)]
    raws = [torch.from_numpy(sampler.windows(k)) for k in keys]
    # the vocabulary a fresh run would build: every frame code of the cache, every LDM code
    vocab = CodeVocab(np.unique(cache.tokens).astype(np.int64), np.arange(int(np.prod(ldm.cfg.levels))))
    plain = Batcher(vocab, ldm, tok, layout)
    memo = CodeMemo(len(cache.tokens), layout.horizon)
    memo_batcher = Batcher(vocab, ldm, tok, layout, memo, cache)

    def timed(fn) -> float:
        t0 = time.perf_counter()
        for i in range(args.batches):
            fn(i)
        return (time.perf_counter() - t0) / args.batches

    on_the_fly = timed(lambda i: plain(raws[i]))
    cold = timed(lambda i: memo_batcher(raws[i], keys[i]))  # fills the memo
    warm = timed(lambda i: memo_batcher(raws[i], keys[i]))
    bf16 = bf16_pays()
    model = Transformer(ModelArgs.from_name(args.size, vocab_size=vocab.size, max_seq_len=layout.length))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = [memo_batcher(raws[i], keys[i]) for i in range(args.batches)]

    def step(i: int) -> None:
        tokens, targets = batches[i]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = masked_loss(model, tokens, targets, vocab, layout)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(0)  # warm-up
    train_step = timed(step)
    rows = {"label on the fly (s/batch)": on_the_fly, "memo, cold (s/batch)": cold, "memo, warm (s/batch)": warm,
            f"{args.size} forward+backward (s/step)": train_step}
    result = {"batch": args.batch, "batches": args.batches, "threads": args.threads, "bf16": bf16,
              "size": args.size, "data_dir": args.data_dir, "seconds": rows,
              "step_with_ldm_on_the_fly": on_the_fly + train_step, "step_with_warm_memo": warm + train_step,
              "speedup_warm": (on_the_fly + train_step) / (warm + train_step)}
    print(f"| what | seconds (batch {args.batch}, {args.threads} threads) |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.4f} |")
    print(f"| step, LDM on the fly / warm memo | {result['step_with_ldm_on_the_fly']:.3f} / "
          f"{result['step_with_warm_memo']:.3f} ({result['speedup_warm']:.2f}x) |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
