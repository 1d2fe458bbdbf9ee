"""Server settings: one frozen, validated dataclass; only the entry point (server/cli.py) fills it from argv."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator
from pydantic.dataclasses import dataclass

from engine.symmetry import VIEW_COUNTS
from models.precisions import PRECISIONS

RANDOM = "random"


@dataclass(frozen=True)
class Settings:
    # A model bundle folder (its board size is played by the network, the others by ``fallback``),
    # or "random" for the random player on every size.
    weights: str = RANDOM
    # Batching (engine/batcher.py): a batch closes at max_batch requests, or when max_wait_ms
    # pass without a new one; with max_hold_ms, it stays open up to that long while other
    # workers compute at least half of max_batch requests and it holds under half of
    # max_batch (None: no hold). 5 ms is small
    # next to one forward pass on CPU: a lone request waits only that.
    max_batch: int = Field(16, ge=1, le=1024)
    max_wait_ms: float = Field(5.0, ge=0, le=1000)
    max_hold_ms: Optional[float] = Field(100.0, ge=0, le=1000)
    # Worker threads, each gathering and computing its own batch on the one model. 2 x 16
    # with a 100 ms hold: on this 2-core CPU, 32 games are served ~1.5x faster than by one
    # worker with batches of 32 (docs/benchmarks.md); a lone request still runs alone.
    workers: int = Field(2, ge=1, le=64)
    # Seconds a request may wait for the model (queue + forward pass) before a 504.
    request_timeout_s: float = Field(30.0, gt=0, le=3600)
    # Requests in flight on /v1 at once; more get a 503 instead of queueing without bound.
    max_concurrency: int = Field(64, ge=1, le=100_000)
    # Request bodies above this get a 413 before they are parsed (an SGF of a long game is ~10 kB).
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000)
    # Games kept in memory; creating one more forgets the least recently used.
    max_games: int = Field(1000, ge=1, le=1_000_000)
    # Branches the neural player imagines per position (models/player.py ``top_k``);
    # None: the bundle's tuned value (manifest ``player.branches``).
    branches: Optional[int] = Field(None, ge=1, le=64)
    # Board symmetries averaged per position (models/player.py ``symmetries``: 1, 2, 4 or 8);
    # None: the bundle's value (manifest ``player.symmetries``, else 1). Fewer views are the setting
    # for throughput over strength: a lone request is then fewer rows, so batching concurrent games
    # gains more (32 over 1 game: 3.9-5.8x at 8 views, 8.8-10.7x at 2, 10.0-12.5x at 1, for 6-7
    # points less test BAA; docs/benchmarks.md "Fewer board views a position").
    symmetries: Optional[Literal[VIEW_COUNTS]] = None
    # The transformer's matrix products (models/player.py ``precision``): "fp32" as trained, or "bf16"
    # (weights cast once, activations float32: 32 games served ~1.3x faster on session 52's avx512_bf16 CPU,
    # the same move in 97 % of the test positions and the same accuracy: docs/benchmarks.md). Measured per
    # machine before use (a CPU without bf16 instructions may be slower); the service opts in.
    precision: Literal[PRECISIONS] = "fp32"
    # Tree-search visits per position (engine/search.py); 1: the network alone. Not the bundle's
    # GTP default: a search multiplies the work per request, so the service opts in.
    visits: int = Field(1, ge=1, le=10_000)
    # The 9x9 network's search: "puct" (``visits``; 1 is the network alone) or "mc", the Monte Carlo tree
    # search the network steers at its root (models/steered_mc.py: GTP's default, ~1.5 s a move here,
    # inside a batch worker), with ``steered_playouts`` simulations and ``mc_prior`` the network's weight
    # (None: the bundle's manifest ``player.mc_playouts`` / ``mc_prior``), ``mc_playout_policy`` how its
    # playouts move (engine/mc_player.py PLAYOUT_POLICIES; None: ``player.mc_playout_policy``, else uniform),
    # ``mc_prefer_network`` the share of the most visited move's simulations from which the network's favourite is
    # played instead (engine/mc_player.prefer_prior; None: ``player.mc_prefer_network``, else 0: off).
    # The service opts in.
    search: Literal["puct", "mc"] = "puct"
    steered_playouts: Optional[int] = Field(None, ge=1, le=1_000_000)
    mc_prior: Optional[float] = Field(None, ge=0, le=1000)
    mc_playout_policy: Optional[Literal["uniform", "tactical", "patterns", "mogo"]] = None
    mc_prefer_network: Optional[float] = Field(None, ge=0, le=1)
    # Who plays the board sizes the bundle's network was not trained on (engine/fallback.py): Monte
    # Carlo over the rules (mc_playouts simulations a move of the compiled tree with MoGo's playouts, at
    # most mc_max_seconds: ~3 s on 13x13, the 5 s cap on 19x19 here, inside a batch worker) or the
    # random player (instant).
    fallback: Literal["montecarlo", "random"] = "montecarlo"
    mc_playouts: int = Field(10000, ge=1, le=1_000_000)
    mc_search: Literal["tree", "flat"] = "tree"  # the Monte Carlo fallback's search (engine/mc_player.py)
    # the fallback's time cap a move (10,000 MoGo simulations would take ~14 s on 19x19 here); 0: none
    mc_max_seconds: float = Field(5.0, ge=0, le=3600)
    seed: Optional[int] = None  # of the random player and of temperature sampling
    threads: Optional[int] = Field(None, ge=1, le=256)  # torch CPU threads; None: torch's default

    @model_validator(mode="after")
    def _one_search(self) -> "Settings":
        if self.search == "mc" and self.visits != 1:
            raise ValueError("visits counts the PUCT search's evaluations: with search 'mc' leave it at 1")
        if self.search != "mc" and self.mc_playout_policy is not None:
            raise ValueError("mc_playout_policy sets the steered Monte Carlo search's playouts: use it with search 'mc'")
        return self
