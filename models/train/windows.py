"""Sampling training windows from token caches: frames only, as ids.

A window is (game g, start frame t, symmetry s): the frames t .. t+L-1 in the view of
the side moving at t. Sampling is a pure function of (seed, step, rank), so a resumed
run sees the same batches it would have seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.token_cache import TokenCache, build_cache, window
from models.tokenizer import FrameTokenizer, TokenizerConfig, id_tensors


def _require_known(cache: TokenCache, names, what: str) -> None:
    unknown = set(names) - set(cache.sources)
    if unknown:
        raise ValueError(f"{what} {sorted(unknown)} are not in the token cache (it has {cache.sources})")


class WindowSampler:
    """Uniform over transitions (t with a frame t+1) of every game, times ``symmetries`` symmetries.

    ``symmetries``: 8 (augmentation, the default) or 1 (the frames as filmed: the ablation).
    ``corpora``: the corpus names whose games are sampled (None: all), e.g. {"katago9"}.
    ``shares``: corpus name -> the fraction of sampled windows drawn from it, e.g. {"katago9": 0.5};
    the corpora not named share the rest in proportion to their transitions. Without it every
    transition is equally likely, so a corpus weighs what its transitions weigh.
    """

    def __init__(self, cache: TokenCache, length: int, context: int = 0, symmetries: int = 8,
                 corpora: set[str] | None = None, shares: dict[str, float] | None = None) -> None:
        if symmetries not in (1, 8):
            raise ValueError(f"symmetries must be 1 or 8, got {symmetries}")
        self.cache = cache
        self.length = length
        self.context = context  # earlier frames before t (repeated first frame before the start)
        self.symmetries = symmetries
        lens = np.diff(cache.game_start) - 1  # transitions per game
        keep = np.ones(cache.games, dtype=bool)
        if corpora is not None:
            _require_known(cache, corpora, "corpora")
            keep = np.isin(np.asarray(cache.sources)[cache.source], sorted(corpora)) if cache.games else keep
        lens = np.where(keep, lens, 0)
        self.games = np.repeat(np.arange(cache.games), lens)
        self.starts = np.concatenate([np.arange(n) for n in lens]) if len(lens) else np.zeros(0, np.int64)
        # (transitions,) sampling probabilities; None: uniform over transitions
        self.weights = self._share_weights(cache, lens, shares) if shares else None

    @staticmethod
    def _share_weights(cache: TokenCache, lens: np.ndarray, shares: dict[str, float]) -> np.ndarray:
        """Per-transition probabilities giving each named corpus its share of the windows."""
        names = np.asarray(cache.sources)
        _require_known(cache, shares, "corpus shares")
        if any(not 0.0 < v < 1.0 for v in shares.values()) or sum(shares.values()) > 1.0 + 1e-9:
            raise ValueError(f"corpus shares must each be in (0, 1) and sum to at most 1, got {shares}")
        per_corpus = np.bincount(cache.source, weights=lens, minlength=len(names))  # transitions a corpus
        named = np.isin(names, list(shares))
        if (per_corpus[named] == 0).any():
            raise ValueError(f"a corpus given a share has no training transitions: {shares}")
        rest = max(0.0, 1.0 - sum(shares.values()))  # (shares summing to 1 up to rounding: no rest)
        if rest > 1e-9 and per_corpus[~named].sum() == 0:
            raise ValueError(f"shares sum to {1 - rest:.3f} and no other corpus has transitions to take the rest")
        corpus_p = np.where(named, [shares.get(n, 0.0) for n in names],
                            rest * per_corpus / max(per_corpus[~named].sum(), 1))
        per_transition = corpus_p / np.maximum(per_corpus, 1)  # (S,) probability of one transition
        p = np.repeat(per_transition[cache.source], lens)  # (transitions,), in self.games order
        return p / p.sum()

    def __len__(self) -> int:
        return len(self.games)

    def sample(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """(B, context + length, 16) int64 token ids."""
        return self.windows(self.sample_keys(rng, batch))

    def sample_keys(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """(B, 3) int64: the (game g, start t, symmetry s) of B windows (``sample`` draws the same ones)."""
        i = rng.choice(len(self.games), size=batch, p=self.weights)
        syms = rng.integers(0, self.symmetries, size=batch)  # 0 is the identity
        return np.stack([self.games[i], self.starts[i], syms], 1).astype(np.int64)

    def windows(self, keys: np.ndarray) -> np.ndarray:
        """(B, 3) keys from ``sample_keys`` -> (B, context + length, 16) int64 token ids."""
        return np.stack([self.get(int(g), int(t), int(s)) for g, t, s in keys])

    def get(self, g: int, t: int, s: int) -> np.ndarray:
        win = window(self.cache, g, t, s, self.length)
        if not self.context:
            return win.astype(np.int64)
        frames = self.cache.game_tokens(g)
        idx = np.maximum(np.arange(t - self.context, t), 0)
        ctx = frames[idx, s, t % 2]  # earlier frames, in the same (mover at t) view
        return np.concatenate([ctx, win]).astype(np.int64)

    def all(self, limit: int, seed: int = 0) -> list[tuple[int, int, int]]:
        """A fixed evaluation set of (g, t, s)."""
        rng = np.random.default_rng(seed)
        pick = rng.permutation(len(self.games))[:limit]
        return [(int(self.games[j]), int(self.starts[j]), int(rng.integers(0, 8))) for j in pick]


def load_tokenizer(state_path: str, device: torch.device | str = "cpu") -> FrameTokenizer:
    """The frozen tokenizer from its training state (weights_only load)."""
    from models.checkpoint import dataclass_from_dict, frozen_model_from_state

    return frozen_model_from_state(
        state_path, lambda rec: FrameTokenizer(dataclass_from_dict(TokenizerConfig, rec["model"])), "tokenizer", device)


def cache_summary(cache: TokenCache) -> dict:
    """What a stage trained on, for the manifest: games and frames per corpus."""
    counts = np.bincount(cache.source, minlength=len(cache.sources)) if cache.games else []
    return {"games": cache.games, "frames": int(len(cache.tokens)),
            "games_by_corpus": {name: int(c) for name, c in zip(cache.sources, counts)}}


def tokenizer_id_hash(state_path: str):
    """sha256 over the tokenizer config and every non-decoder tensor (encoder, FSQ) of a state."""
    import hashlib
    import json

    from models.checkpoint import load_training_state

    state = load_training_state(Path(state_path))
    if state is None:
        raise FileNotFoundError(f"no tokenizer state at {state_path}")
    h = hashlib.sha256(json.dumps(json.loads(state["config"]).get("model", {}), sort_keys=True).encode())
    tensors = id_tensors(state["model"])
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(tensors[k].detach().cpu().contiguous().numpy().tobytes())
    return h


def cache_path(cache_dir: str, split: str, tokenizer_state: str, data_dir: str, size: int = 9) -> Path:
    """The file of a split's token cache (``get_cache``): its name is the cache's key."""
    h = tokenizer_id_hash(tokenizer_state)
    manifest = Path(data_dir) / "manifest.json"
    if manifest.exists():
        h.update(manifest.read_bytes())
    return Path(cache_dir) / f"{split}{size}-{h.hexdigest()[:12]}.npz"


def get_cache(cache_dir: str, split: str, tokenizer_state: str, data_dir: str, size: int = 9,
              progress: bool = True, workers: int = 1) -> TokenCache:
    """The token cache of a split, built (once) with the given tokenizer if missing.

    Keyed by what decides the ids (the tokenizer's encoder and FSQ: weights and config) and by
    the corpus manifest, so a retrained encoder or a grown corpus never reuses stale tokens,
    while a decoder-only revision (same ids) or the same weights unpacked from a bundle reuse
    the cache instead of re-encoding every frame (~30 min for a training split here).
    """
    path = cache_path(cache_dir, split, tokenizer_state, data_dir, size)
    if path.exists():
        return TokenCache.load(path)
    cache = build_cache(load_tokenizer(tokenizer_state), data_dir, split, size, progress=progress, workers=workers)
    cache.save(path)
    return cache
