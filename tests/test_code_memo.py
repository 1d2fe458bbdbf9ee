"""The LDM code memo (models/train/code_memo.py): it gives the transformer stage exactly the tokens the
LDM run on the fly gives, labels a window only once, survives on disk, and is keyed by what decides
the codes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from models.ldm import ldm_codes
from models.train.code_memo import UNKNOWN, CodeMemo, memo_path
from models.train.transformer_stage import Batcher, TransformerTrainConfig, load_dynamics, train
from models.train.windows import WindowSampler, cache_path, get_cache, load_tokenizer
from models.vocab import CodeVocab, Layout


@pytest.fixture(scope="module")
def parts(tiny_bundle):
    root = tiny_bundle.parent
    tok_state, dyn_state = str(root / "tok" / "state.pt"), str(root / "dyn" / "state.pt")
    cache = get_cache(str(root / "cache"), "train", tok_state, str(root / "data"), 9, False)
    tok, ldm = load_tokenizer(tok_state), load_dynamics(dyn_state)
    vocab = CodeVocab.load(root / "tr" / "vocab.npz")
    layout = Layout(context=0, horizon=ldm.cfg.horizon)
    return root, cache, tok, ldm, vocab, layout


class WindowHashLDM(torch.nn.Module):
    """A stand-in LDM whose codes differ from window to window (the tiny test LDM, trained 10 steps,
    gives every window the same codes, so it could not tell a memo that mixes windows up)."""

    kind, reader = "latent", None

    def __init__(self, horizon: int) -> None:
        super().__init__()
        self.cfg = type("Cfg", (), {"horizon": horizon})()

    def code_indices(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H+1, 16, 6) FSQ codes of the window's frames -> (B, H): a number per step from frames t..t+h."""
        per_frame = (x * torch.arange(1, 97, dtype=x.dtype).reshape(16, 6)).sum((-1, -2))  # (B, H+1)
        return (per_frame.cumsum(1)[:, 1:] * 1000).round().long() % 320


def test_memo_returns_each_windows_own_codes_and_labels_each_window_once(parts):
    _, cache, tok, _, _, layout = parts
    ldm = WindowHashLDM(layout.horizon)
    sampler = WindowSampler(cache, layout.horizon + 1)
    keys = sampler.sample_keys(np.random.default_rng(0), 24)
    raw = torch.from_numpy(sampler.windows(keys))
    assert np.array_equal(raw.numpy(), sampler.sample(np.random.default_rng(0), 24))  # the same draw
    want = ldm_codes(ldm, tok, raw)
    assert len({tuple(r) for r in want.tolist()}) > 12  # windows get different codes: the test can see a mix-up
    memo = CodeMemo(len(cache.tokens), layout.horizon)
    assert torch.equal(memo.codes(cache, keys, raw, ldm, tok), want)
    assert memo.misses == len(keys) and memo.hits == 0
    assert (memo.table[:, :, 0] != UNKNOWN).sum() == len({tuple(k) for k in keys})
    assert torch.equal(memo.codes(cache, keys, raw, ldm, tok), want)
    assert memo.misses == len(keys) and memo.hits == len(keys)  # nothing labelled again
    # half known, half new windows: only the new ones reach the LDM, and every row keeps its own codes
    more = sampler.sample_keys(np.random.default_rng(1), 24)
    mixed = np.concatenate([more[:12], keys[:12]])[::-1].copy()
    raw_mixed = torch.from_numpy(sampler.windows(mixed))
    assert torch.equal(memo.codes(cache, mixed, raw_mixed, ldm, tok), ldm_codes(ldm, tok, raw_mixed))


def test_batcher_with_the_memo_gives_the_tokens_of_the_ldm_run_on_the_fly(parts):
    _, cache, tok, ldm, vocab, layout = parts
    sampler = WindowSampler(cache, layout.horizon + 1)
    keys = sampler.sample_keys(np.random.default_rng(3), 16)
    raw = torch.from_numpy(sampler.windows(keys))
    plain = Batcher(vocab, ldm, tok, layout)(raw)
    batcher = Batcher(vocab, ldm, tok, layout, CodeMemo(len(cache.tokens), layout.horizon), cache)
    for _ in range(2):  # cold, then warm
        got = batcher(raw, keys)
        assert torch.equal(got[0], plain[0]) and torch.equal(got[1], plain[1])
    assert batcher.memo.hits == len(keys)


def test_memo_survives_on_disk_and_a_foreign_table_is_not_trusted(parts, tmp_path):
    _, cache, tok, ldm, vocab, layout = parts
    sampler = WindowSampler(cache, layout.horizon + 1)
    keys = sampler.sample_keys(np.random.default_rng(2), 16)
    path = tmp_path / "memo.npy"
    memo = CodeMemo(len(cache.tokens), layout.horizon, path)
    Batcher(vocab, ldm, tok, layout, memo, cache)(torch.from_numpy(sampler.windows(keys)), keys)
    memo.save()
    again = CodeMemo(len(cache.tokens), layout.horizon, path)
    assert np.array_equal(again.table, memo.table) and again.filled > 0
    Batcher(vocab, ldm, tok, layout, again, cache)(torch.from_numpy(sampler.windows(keys)), keys)
    assert again.misses == 0 and again.hits == len(keys)
    np.save(path, np.zeros((3, 8, layout.horizon), np.int16))  # another shape: recomputed, not used
    assert (CodeMemo(len(cache.tokens), layout.horizon, path).table == UNKNOWN).all()


def test_memo_key_follows_the_ldm_and_the_tokenizer_bytes(parts, tmp_path):
    root = parts[0]
    dyn, tok = tmp_path / "dyn.pt", tmp_path / "tok.pt"
    shutil.copyfile(root / "dyn" / "state.pt", dyn)
    shutil.copyfile(root / "tok" / "state.pt", tok)
    base = memo_path(tmp_path, "train9-abc.npz", dyn, tok)
    assert base == memo_path(tmp_path, "train9-abc.npz", dyn, tok)
    assert base != memo_path(tmp_path, "train9-abd.npz", dyn, tok)  # another corpus or tokenizer ids
    with open(tok, "ab") as f:
        f.write(b"\0")  # e.g. a fine-tuned decoder: the pixel LDM reads its frames
    assert base != memo_path(tmp_path, "train9-abc.npz", dyn, tok)
    with open(dyn, "ab") as f:
        f.write(b"\0")
    assert memo_path(tmp_path, "train9-abc.npz", dyn, root / "tok" / "state.pt") != base


def test_a_second_run_on_the_same_corpus_starts_with_the_first_runs_codes(parts, tmp_path):
    from models.train.cli import apply_overrides

    root = parts[0]
    cache_dir = tmp_path / "cache"
    shutil.copytree(root / "cache", cache_dir)  # the token caches; the memo goes beside them
    for old in cache_dir.glob("ldm-codes-*"):
        old.unlink()
    common = ["loop.progress=false", f"data_dir={root / 'data'}", "loop.steps=6", "eval_every=3", "batch=8",
              "eval_windows=16", f"cache_dir={cache_dir}", f"tokenizer_state={root / 'tok' / 'state.pt'}",
              f"dynamics_state={root / 'dyn' / 'state.pt'}", f"vocab_from={root / 'tr' / 'vocab.npz'}"]
    records = []
    for run in ("a", "b"):
        train(apply_overrides(TransformerTrainConfig(size_name="tiny"), common + [f"loop.run_dir={tmp_path / run}"]))
        records.append([json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()
                        if '"eval"' in line])
    key = cache_path(str(cache_dir), "train", str(root / "tok" / "state.pt"), str(root / "data"), 9).name
    path = memo_path(cache_dir, key, root / "dyn" / "state.pt", root / "tok" / "state.pt")
    assert path.exists() and list(cache_dir.glob("ldm-codes-*")) == [path]
    # run b draws the same windows as run a (same seed), all of them labelled already
    assert records[0][-1]["ldm_memo_hit"] < 1.0 and records[1][-1]["ldm_memo_hit"] == 1.0
    assert records[0][-1]["ldm_memo_filled"] == records[1][-1]["ldm_memo_filled"] > 0


def test_fill_labels_every_window_once_and_the_rest_is_known(parts):
    from models.train.code_memo import fill

    _, cache, tok, _, _, layout = parts
    ldm = WindowHashLDM(layout.horizon)
    memo = CodeMemo(len(cache.tokens), layout.horizon)
    sampler = WindowSampler(cache, layout.horizon + 1)
    keys = sampler.sample_keys(np.random.default_rng(4), 10)
    memo.codes(cache, keys, torch.from_numpy(sampler.windows(keys)), ldm, tok)  # some known beforehand
    known = len({tuple(k) for k in keys})
    done = fill(memo, cache, ldm, tok, layout.horizon, batch=64, progress=False)
    assert done == len(sampler) * 8 - known
    # every window any run can draw is now known, with its own codes
    probe = sampler.sample_keys(np.random.default_rng(5), 40)
    hits = memo.hits
    got = memo.codes(cache, probe, torch.from_numpy(sampler.windows(probe)), ldm, tok)
    assert memo.hits - hits == 40 and torch.equal(got, ldm_codes(ldm, tok, torch.from_numpy(sampler.windows(probe))))
    assert fill(memo, cache, ldm, tok, layout.horizon, progress=False) == 0
