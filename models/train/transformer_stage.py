"""Stage 3: the autoregressive transformer, on token windows (frames only).

Each example: the frame tokens of x_t (and ``context`` earlier frames), the LDM codes
z_1..z_H that the frozen LDM gives the window x_t..x_{t+H}, and the tokens of x_{t+1}.
Loss: cross-entropy on the codes and the next-frame tokens, each position competing
only within its own part of the vocabulary.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from models.checkpoint import config_dict, dataclass_from_dict, frozen_model_from_state
from models.deepen import deepen_state
from models.dynamics import DynamicsConfig
from models.ldm import build_dynamics, ldm_codes
from models.token_cache import TokenCache
from models.train.code_memo import CodeMemo, memo_path
from models.train.loop import LoopConfig, Trainer, configure_torch
from models.train.windows import WindowSampler, cache_path, cache_summary, get_cache, load_tokenizer
from models.transformer import ModelArgs, Transformer
from models.vocab import IGNORE, CodeVocab, Layout, build_sequences


@dataclass(frozen=True)
class TransformerTrainConfig:
    size_name: str = "compact"
    context: int = 0  # earlier frames given as context
    digit_embeddings: bool = True  # factorised code embeddings (models/transformer.py ModelArgs.digit_vocab)
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(run_dir="runs/transformer", steps=3000, lr=1e-3))
    tokenizer_state: str = "runs/tokenizer/state.pt"
    dynamics_state: str = "runs/dynamics/state.pt"
    cache_dir: str = "cache/tokens"
    data_dir: str = "data"
    size: int = 9
    batch: int = 64
    vocab_windows: int = 20000  # windows whose LDM codes define the LDM part of the vocabulary
    eval_every: int = 250
    eval_windows: int = 1024
    # Fine-tuning on tokens of a retrained tokenizer: build this data's vocabulary and carry every
    # embedding and output row whose code both vocabularies know (CodeVocab.rows_from) instead of
    # reusing the init run's vocabulary, where renamed codes would all collapse to <unk>.
    remap_vocab: bool = False
    # Growing a trained model: loop.init_from has fewer blocks than size_name; its blocks are spread
    # through the deeper stack and the new ones start as identities (models/deepen.py), so step 0
    # computes exactly what the init model did.
    deepen: bool = False
    # Data-efficiency ablations (docs/model.md "What the data tricks bring"): 1 = no symmetry
    # augmentation; corpora = comma-separated corpus names to train on (empty: all; validation
    # always uses every corpus, so runs compare); vocab_from = a vocab.npz to use instead of
    # building one, so arms trained on different data share one vocabulary.
    symmetries: int = 8
    corpora: str = ""
    vocab_from: str = ""
    # corpus=share pairs, e.g. "katago9=0.5": that fraction of every batch's windows comes from the
    # corpus (the others share the rest by their transitions), so a fast-growing cheap corpus does
    # not crowd out the KataGo video (v9: GNU Go is 72 % of snapI's transitions).
    corpus_shares: str = ""
    # Remember the frozen LDM's codes of every window drawn (models/train/code_memo.py), saved beside
    # the token cache: a window drawn again, in this run or a later one, is not labelled again.
    ldm_memo: bool = True


def parse_shares(text: str) -> dict[str, float]:
    """"katago9=0.5,gnugo9=0.1" -> {"katago9": 0.5, "gnugo9": 0.1}."""
    shares = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            shares[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"corpus_shares: expected name=fraction, got {part!r}") from None
        if not sep or not name.strip():
            raise ValueError(f"corpus_shares: expected name=fraction, got {part!r}")
    return shares


def load_dynamics(state_path: str, device="cpu") -> torch.nn.Module:
    """The frozen LDM (latent or pixel) from its training state (weights_only load)."""
    return frozen_model_from_state(
        state_path, lambda rec: build_dynamics(dataclass_from_dict(DynamicsConfig, rec["model"])), "dynamics", device)


def build_vocab(sampler: WindowSampler, ldm: torch.nn.Module, tokenizer, n: int, horizon: int) -> CodeVocab:
    frame_codes = np.unique(sampler.cache.tokens)
    rng = np.random.default_rng(0)
    wins = torch.from_numpy(sampler.sample(rng, n))[:, -(horizon + 1):]
    z = ldm_codes(ldm, tokenizer, wins).numpy()
    return CodeVocab(frame_codes.astype(np.int64), np.unique(z).astype(np.int64))


def remap_weights(weights: dict, old: CodeVocab, new: CodeVocab, digit_table: torch.Tensor | None) -> dict:
    """A transformer state dict trained on ``old`` -> one for ``new``: the rows of the input
    embedding and of the output layer follow the codes (CodeVocab.rows_from); the digit table is
    the new vocabulary's; everything else (blocks, digit embeddings, outcome head) is kept."""
    rows = new.rows_from(old)  # (new.size,) ids into old
    out = dict(weights)
    for key in ("tok_embeddings.weight", "output.weight"):
        out[key] = weights[key][rows].clone()  # (new.size, dim)
    if digit_table is not None:
        out["digit_table"] = digit_table.clone()
    return out


class Batcher:
    """Raw windows -> (tokens, targets) in vocabulary ids, with the LDM run on the fly (or its codes
    read from ``memo`` for windows it has labelled before: pass their keys)."""

    def __init__(self, vocab: CodeVocab, ldm: torch.nn.Module, tokenizer, layout: Layout,
                 memo: Optional[CodeMemo] = None, cache: Optional[TokenCache] = None) -> None:
        self.vocab, self.ldm, self.tokenizer, self.layout = vocab, ldm, tokenizer, layout
        self.memo, self.cache = memo, cache

    def __call__(self, raw: torch.Tensor, keys: Optional[np.ndarray] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """raw (B, c+H+1, 16) token ids; keys (B, 3) their (g, t, s) in ``cache`` (WindowSampler.sample_keys)."""
        c, h = self.layout.context, self.layout.horizon
        windows = raw[:, c:c + h + 1]  # frames t .. t+H: what the LDM reads
        if self.memo is not None and keys is not None:
            z_raw = self.memo.codes(self.cache, keys, windows, self.ldm, self.tokenizer)
        else:
            z_raw = ldm_codes(self.ldm, self.tokenizer, windows)
        z = self.vocab.ldm_ids(z_raw)
        frames = self.vocab.frame_ids(raw[:, :c + 2])
        return build_sequences(frames, z, self.layout)


def memo_stats(memo: Optional[CodeMemo]) -> dict:
    """How much labelling the memo saved so far: the share of drawn windows it already knew, and the
    share of (frame, symmetry) entries it holds. Empty without a memo."""
    if memo is None:
        return {}
    return {"ldm_memo_hit": round(memo.hits / max(1, memo.hits + memo.misses), 4), "ldm_memo_filled": round(memo.filled, 4)}


def target_slices(layout: Layout) -> tuple[slice, slice]:
    """Positions whose logits are trained: those predicting z_1..z_H, and those predicting x_{t+1}."""
    return (slice(layout.z_pos(1) - 1, layout.z_pos(layout.horizon)),
            slice(layout.next_frame - 1, layout.next_frame + 15))


def masked_loss(model: torch.nn.Module, tokens: torch.Tensor, targets: torch.Tensor, vocab: CodeVocab,
                layout: Layout) -> dict:
    """Cross-entropy per kind; the output layer runs only where a target is (21 of ~43 positions).
    ``model`` may be the DDP wrapper: the forward goes through it so gradients are synchronised."""
    frame_mask, ldm_mask = vocab.kind_masks(tokens.device)
    zs, fs = target_slices(layout)
    select = torch.cat([torch.arange(zs.start, zs.stop), torch.arange(fs.start, fs.stop)]).to(tokens.device)
    logits = model(tokens, select=select).float()  # (B, H + 16, V)
    lz = logits[:, :layout.horizon] + ldm_mask  # (B, H, V)
    lf = logits[:, layout.horizon:] + frame_mask  # (B, 16, V)
    tz, tf = targets[:, zs], targets[:, fs]
    loss_z = F.cross_entropy(lz.reshape(-1, lz.shape[-1]), tz.reshape(-1), ignore_index=IGNORE)
    loss_f = F.cross_entropy(lf.reshape(-1, lf.shape[-1]), tf.reshape(-1), ignore_index=IGNORE)
    acc_z1 = (lz[:, 0].argmax(-1) == tz[:, 0]).float().mean()
    acc_f = (lf.argmax(-1) == tf).all(-1).float().mean()  # whole next frame right
    return {"loss": loss_z + loss_f, "loss_z": loss_z, "loss_frame": loss_f, "z1_acc": acc_z1, "frame_acc": acc_f}


def train(cfg: TransformerTrainConfig) -> Path:
    configure_torch(cfg.loop)
    tokenizer = load_tokenizer(cfg.tokenizer_state)
    ldm = load_dynamics(cfg.dynamics_state)
    horizon = ldm.cfg.horizon
    layout = Layout(cfg.context, horizon)
    train_cache = get_cache(cfg.cache_dir, "train", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                            max(1, cfg.loop.threads))
    val_cache = get_cache(cfg.cache_dir, "val", cfg.tokenizer_state, cfg.data_dir, cfg.size, cfg.loop.progress,
                          max(1, cfg.loop.threads))
    corpora = {c.strip() for c in cfg.corpora.split(",") if c.strip()} or None
    sampler = WindowSampler(train_cache, horizon + 1, cfg.context, symmetries=cfg.symmetries, corpora=corpora,
                            shares=parse_shares(cfg.corpus_shares) or None)
    if len(sampler) == 0:
        raise ValueError(f"no training windows (corpora={cfg.corpora!r}; the cache has {train_cache.sources})")
    val = WindowSampler(val_cache, horizon + 1, cfg.context)
    if len(val) == 0:  # a tiny corpus may have no validation game yet: evaluate on training windows
        val = sampler
    vocab_path = Path(cfg.loop.run_dir) / "vocab.npz"
    init_vocab = Path(cfg.loop.init_from).parent / "vocab.npz" if cfg.loop.init_from else None
    if init_vocab is not None:
        for need in (Path(cfg.loop.init_from), init_vocab):
            if not need.exists():
                raise FileNotFoundError(f"loop.init_from: no {need.name} at {need.parent}")
    if init_vocab is not None and not vocab_path.exists() and not cfg.remap_vocab:
        # fine-tuning: the embedding rows mean the init run's codes; codes new to this data map to <unk>
        vocab_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(init_vocab, vocab_path)
    if cfg.vocab_from and not vocab_path.exists():
        if init_vocab is not None:
            raise ValueError("vocab_from is for fresh runs; a fine-tuning run takes loop.init_from's vocabulary")
        vocab_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cfg.vocab_from, vocab_path)
    if vocab_path.exists():  # resuming (or fine-tuning): the vocabulary is part of the run
        vocab = CodeVocab.load(vocab_path)
    else:
        vocab = build_vocab(sampler, ldm, tokenizer, cfg.vocab_windows, horizon)
        vocab_path.parent.mkdir(parents=True, exist_ok=True)
        vocab.save(vocab_path)
    table, digit_vocab = vocab.digit_table(tuple(tokenizer.cfg.levels), tuple(ldm.cfg.levels))
    args = ModelArgs.from_name(cfg.size_name, vocab_size=vocab.size, max_seq_len=layout.length,
                               digit_vocab=digit_vocab if cfg.digit_embeddings else 0, digit_slots=table.shape[1])
    digit_table = table if cfg.digit_embeddings else None
    transforms = []
    if init_vocab is not None and cfg.remap_vocab:
        transforms.append(lambda weights: remap_weights(weights, CodeVocab.load(init_vocab), vocab, digit_table))
    if cfg.deepen and init_vocab is None:
        raise ValueError("deepen=true grows the model of loop.init_from: set loop.init_from")
    if init_vocab is not None and cfg.deepen:
        def grow(weights: dict) -> dict:
            with torch.random.fork_rng():  # the new blocks' init: seeded, and the trainer's RNG untouched
                torch.manual_seed(cfg.loop.seed + 1)
                fresh = Transformer(args, digit_table).state_dict()
            return deepen_state(weights, fresh)
        transforms.append(grow)

    def init_transform(weights: dict) -> dict:
        for transform in transforms:
            weights = transform(weights)
        return weights
    data = {**cache_summary(train_cache), "training_transitions": len(sampler)}  # after the corpora filter
    record = {"stage": "transformer", "data": data, "model_args": config_dict(args),
              "horizon": horizon, **config_dict(cfg)}
    trainer = Trainer(cfg.loop, lambda: Transformer(args, digit_table), record,
                      init_transform=init_transform if transforms else None)
    ldm.to(trainer.device)
    memo = None
    if cfg.ldm_memo:
        key = cache_path(cfg.cache_dir, "train", cfg.tokenizer_state, cfg.data_dir, cfg.size).name
        memo = CodeMemo(len(train_cache.tokens), horizon,
                        memo_path(cfg.cache_dir, key, cfg.dynamics_state, cfg.tokenizer_state))
    batcher = Batcher(vocab, ldm, tokenizer.to(trainer.device), layout, memo, train_cache)
    val_raw = torch.from_numpy(np.stack([val.get(*k) for k in val.all(cfg.eval_windows)])).to(trainer.device)
    val_tokens, val_targets = batcher(val_raw)
    def evaluate() -> None:
        trainer.model.eval()
        with torch.no_grad(), trainer.autocast():
            ev = masked_loss(trainer.model, val_tokens, val_targets, vocab, layout)
        trainer.model.train()
        trainer.log(eval=True, **{f"val_{k}": round(float(v), 5) for k, v in ev.items()}, **memo_stats(memo))

    if trainer.is_main and cfg.loop.init_from and trainer.step == 0:
        evaluate()  # the starting model on this run's validation windows: what fine-tuning must beat
    for step in trainer.steps():
        rng = np.random.default_rng((cfg.loop.seed, step, trainer.rank))
        keys = sampler.sample_keys(rng, cfg.batch)  # (B, 3): the same windows sampler.sample would draw
        tokens, targets = batcher(torch.from_numpy(sampler.windows(keys)).to(trainer.device), keys)
        with trainer.autocast():
            parts = masked_loss(trainer.wrapped, tokens, targets, vocab, layout)
        gnorm = trainer.backward_step(parts["loss"])
        trainer.log(**{k: round(float(v.detach()), 5) for k, v in parts.items()}, grad_norm=round(gnorm, 3))
        if trainer.is_main and (step + 1) % cfg.eval_every == 0:
            evaluate()
            if memo is not None:
                memo.save()
    if trainer.is_main and memo is not None:
        memo.save()
    trainer.close()
    return trainer.state_path
