"""The switches behind the data-efficiency measurements: no augmentation, one corpus only, a
shared vocabulary, and decoder-only tokenizer training (tokens unchanged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.token_cache import TokenCache
from models.train.windows import WindowSampler

REPO = Path(__file__).resolve().parent.parent


def _cache() -> TokenCache:
    """3 games of 6, 5, 7 frames; game 1 from corpus "b", the others from "a". Each token says
    where it came from: 1000 * frame + 10 * symmetry + view."""
    lens = [6, 5, 7]
    frames = sum(lens)
    f = np.arange(frames)[:, None, None, None]
    s = np.arange(8)[None, :, None, None]
    v = np.arange(2)[None, None, :, None]
    tokens = np.broadcast_to(1000 * f + 10 * s + v, (frames, 8, 2, 16)).astype(np.int32)
    return TokenCache(tokens, np.concatenate([[0], np.cumsum(lens)]), np.array([0, 1, 0], np.int16), ["a", "b"])


def test_one_symmetry_samples_the_frames_as_filmed_and_eight_sample_all():
    cache = _cache()
    rng = np.random.default_rng(0)
    plain = WindowSampler(cache, 3, symmetries=1).sample(rng, 200)
    assert set(np.unique(plain // 10 % 100)) == {0}  # symmetry 0 = identity, nothing else
    aug = WindowSampler(cache, 3).sample(np.random.default_rng(0), 200)
    assert set(np.unique(aug // 10 % 100)) == set(range(8))
    with pytest.raises(ValueError, match="1 or 8"):
        WindowSampler(cache, 3, symmetries=4)


def test_corpus_filter_samples_only_the_named_corpus():
    cache = _cache()
    only_b = WindowSampler(cache, 3, corpora={"b"})
    assert len(only_b) == 4  # game 1: 5 frames, 4 transitions
    frames = np.unique(only_b.sample(np.random.default_rng(1), 100) // 1000)
    assert set(frames) <= set(range(6, 11)) and len(frames) > 1  # game 1 holds frames 6..10
    only_a = WindowSampler(cache, 3, corpora={"a"})
    assert len(only_a) == 5 + 6
    assert not set(np.unique(only_a.sample(np.random.default_rng(1), 200) // 1000)) & set(range(6, 11))
    with pytest.raises(ValueError, match="not in the token cache"):
        WindowSampler(cache, 3, corpora={"katago19"})


def test_corpus_shares_set_each_corpus_fraction_of_the_windows():
    cache = _cache()  # corpus "a": 11 transitions (games 0, 2), "b": 4 (game 1, frames 6..10)
    n = 4000
    plain = WindowSampler(cache, 3).sample(np.random.default_rng(2), n)
    from_b = lambda wins: np.isin(wins[:, 0, 0] // 1000, range(6, 11)).mean()
    assert abs(from_b(plain) - 4 / 15) < 0.03  # uniform over transitions: b weighs what it holds
    half = WindowSampler(cache, 3, shares={"b": 0.5})
    assert abs(from_b(half.sample(np.random.default_rng(2), n)) - 0.5) < 0.03
    # within a corpus the transitions stay equally likely: game 2 (6 of a's 11) gets 6/11 of a's half
    starts = half.sample(np.random.default_rng(3), n)[:, 0, 0] // 1000
    assert abs(np.isin(starts, range(11, 18)).mean() - 0.5 * 6 / 11) < 0.03
    for bad in ({"c": 0.5}, {"b": 1.5}, {"b": 0.0}, {"a": 0.6, "b": 0.6}):
        with pytest.raises(ValueError, match="share"):
            WindowSampler(cache, 3, shares=bad)
    with pytest.raises(ValueError, match="no training transitions"):
        WindowSampler(cache, 3, corpora={"a"}, shares={"b": 0.5})


def test_corpus_shares_are_parsed_with_a_reason_for_bad_text():
    from models.train.transformer_stage import parse_shares

    assert parse_shares("katago9=0.5, gnugo9=0.1") == {"katago9": 0.5, "gnugo9": 0.1}
    assert parse_shares("") == {}
    for bad in ("katago9", "katago9=half", "=0.5"):
        with pytest.raises(ValueError, match="name=fraction"):
            parse_shares(bad)


def _tiny_tokenizer_cmd(run: Path, data: Path, steps: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "train", "--stage", "tokenizer", "--set", "model=tiny",
            "--set", "batch=4", "--set", "loop.threads=1", "--set", "eval_every=1000000",
            "--set", "loop.progress=false", "--set", "loop.checkpoint_every_s=0", "--set", f"loop.run_dir={run}",
            "--set", f"data_dir={data}", "--set", f"loop.steps={steps}", *extra]


def test_decoder_only_tokenizer_training_keeps_the_tokens(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(_tiny_tokenizer_cmd(tmp_path / "base", data, 3), cwd=REPO, check=True, capture_output=True,
                   timeout=300)
    base = tmp_path / "base" / "state.pt"
    # without a model to start from, decoder-only training is refused with a reason, not a traceback
    bad = subprocess.run(_tiny_tokenizer_cmd(tmp_path / "bad", data, 3, "--set", "train_encoder=false"),
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "loop.init_from" in bad.stderr and "Traceback" not in bad.stderr
    subprocess.run(_tiny_tokenizer_cmd(tmp_path / "dec", data, 5, "--set", "train_encoder=false",
                                       "--set", f"loop.init_from={base}", "--set", "loop.lr=0.01",
                                       "--set", "patch_weight=5"),
                   cwd=REPO, check=True, capture_output=True, timeout=300)
    a = torch.load(base, weights_only=True)["model"]
    b = torch.load(tmp_path / "dec" / "state.pt", weights_only=True)["model"]
    enc = [k for k in a if k.startswith("encoder.")]
    dec = [k for k in a if k.startswith("decoder.") and a[k].is_floating_point()]
    assert enc and dec
    assert all(torch.equal(a[k], b[k]) for k in enc)  # the encoder, hence every token, is unchanged
    assert any(not torch.equal(a[k], b[k]) for k in dec)  # the decoder learned
    losses = [json.loads(x)["loss"] for x in (tmp_path / "dec" / "metrics.jsonl").read_text().splitlines()
              if "loss" in json.loads(x)]
    assert losses and all(np.isfinite(losses))  # with the reader-patch term added
