"""Shared fixtures: the repository on sys.path, a tiny trained model bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """Every model stage trained for a few steps on random games, exported as a bundle."""
    import torch

    from tiny_pipeline import train_tiny

    # One thread: with the cores busy (training, self-play), torch's default thread pool
    # oversubscribes them and these few steps take ~10x longer.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return train_tiny(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture
def all_cores():
    """torch on every core for one compute-bound test, then back to what it was (the tiny bundle's
    fixture leaves the process on one thread; CI runs nothing beside the suite)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    yield
    torch.set_num_threads(threads)
