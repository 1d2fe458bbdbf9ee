"""The analyzer the server's batcher owns: the network for its board size, the fallback (engine/fallback.py) for the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from engine.analysis import Analyzer, BySizeAnalyzer, UniformAnalyzer
from engine.fallback import fallback_analyzer
from engine.player import RandomPlayer
from engine.search import search_config, with_search
from server.settings import RANDOM, Settings


def load_analyzer(settings: Settings) -> tuple[Analyzer, Optional[dict]]:
    """(analyzer, the bundle's manifest or None). Imports torch only when a bundle is asked for."""
    if settings.weights == RANDOM:
        return UniformAnalyzer(RandomPlayer(settings.seed)), None
    folder = Path(settings.weights)
    if not (folder / "manifest.json").exists():
        raise FileNotFoundError(f"no model bundle at {folder} (manifest.json missing)")
    import torch

    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # chosen once, at start
    bundle = load_bundle(folder, device=device)
    # Greedy: a request's temperature re-samples from the returned distribution instead.
    neural = NeuralPlayer(bundle, temperature=0.0, top_k=settings.branches, seed=settings.seed or 0,
                          symmetries=settings.symmetries, precision=settings.precision)
    tuned = bundle.manifest.get("player", {})
    if settings.search == "mc":
        from models.steered_mc import tuned_steered

        model = tuned_steered(neural, tuned, settings.steered_playouts, settings.mc_prior, settings.seed or 0,
                              settings.mc_playout_policy, prefer=settings.mc_prefer_network)
    else:
        model = with_search(neural, search_config(tuned, settings.visits))
    fallback = fallback_analyzer(settings.fallback, settings.seed, settings.mc_playouts, search=settings.mc_search,
                                 max_seconds=settings.mc_max_seconds)
    return BySizeAnalyzer({bundle.board_size: model}, fallback), bundle.manifest
