"""`videoworld-go serve`: the REST API and the web board, on one uvicorn worker.

The host defaults to 127.0.0.1 (not exposed by accident); the environment variable
VIDEOWORLD_HOST overrides the default, which the Docker image sets to 0.0.0.0.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from engine.mc_player import PLAYOUT_POLICIES
from engine.search import SEARCH_KINDS
from engine.symmetry import VIEW_COUNTS
from models.precisions import PRECISIONS
from server.settings import RANDOM, Settings

log = logging.getLogger("server")

SHIPPED = Path(__file__).resolve().parent.parent / "weights" / "9x9"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve the REST API and the web board over HTTP")
    d = Settings()  # the batching defaults live in one place
    p.add_argument("--host", default=None, help="bind address (default: $VIDEOWORLD_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: $VIDEOWORLD_PORT or 8000)")
    p.add_argument("--player", choices=("random", "neural"), default=None,
                   help="random everywhere, or the network on its board size (default: neural if weights exist)")
    p.add_argument("--weights", default=None, help=f"model bundle folder (default: {SHIPPED})")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="largest batch the model is given")
    p.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms,
                   help="a filling batch closes after this long without a request")
    p.add_argument("--max-hold-ms", type=float, default=-1.0 if d.max_hold_ms is None else d.max_hold_ms,
                   help="...but, under half full, waits up to this long while other workers compute at least "
                        "half a batch; negative: never")
    p.add_argument("--workers", type=int, default=d.workers,
                   help="batches computed at once, each on its own thread (e.g. one per core with --threads 1)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds a request may wait for the model (504)")
    p.add_argument("--max-concurrency", type=int, default=64, help="requests in flight before 503s")
    p.add_argument("--max-body-bytes", type=int, default=1_000_000, help="larger request bodies get a 413")
    p.add_argument("--max-games", type=int, default=1000, help="games kept in memory (least recently used go)")
    p.add_argument("--branches", type=int, default=None,
                   help="first codes the neural player imagines per position, 1..64 (default: the bundle's "
                        "tuned value); fewer is weaker but serves more positions per second")
    p.add_argument("--symmetries", type=int, choices=VIEW_COUNTS, default=None,
                   help="board symmetries the neural player averages per position (default: the bundle's value); "
                        "fewer is weaker but serves more positions per second (shipped 9x9 at 32 games, 2 cores: "
                        "2 views ~2.5x the moves/s of 8, test BAA -6 points; docs/benchmarks.md)")
    p.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="the transformer's matrix products: fp32 as trained, or bf16 (faster where the CPU has bf16 "
                        "instructions; a move now and then differs: docs/benchmarks.md; default fp32)")
    p.add_argument("--visits", type=int, default=1,
                   help="tree-search visits per position (engine/search.py; default 1: the network alone, "
                        "the most positions per second)")
    p.add_argument("--search", choices=SEARCH_KINDS, default=d.search,
                   help="the network's search: puct (--visits; 1 is the network alone) or mc, the Monte Carlo tree "
                        "search it steers at the root (GTP's default, ~1.5 s a 9x9 move here; default: puct)")
    p.add_argument("--steered-playouts", type=int, default=None,
                   help="--search mc: simulations a move (default: the bundle's player.mc_playouts)")
    p.add_argument("--mc-prior", type=float, default=None,
                   help="--search mc: the network's weight in the root's prior term (default: the bundle's "
                        "player.mc_prior)")
    p.add_argument("--mc-prefer-network", type=float, default=None, metavar="SHARE",
                   help="--search mc: the network's favourite is played instead of the most visited move when it has "
                        "at least SHARE of its simulations; 0: off (default: the bundle's player.mc_prefer_network)")
    p.add_argument("--mc-playout-policy", choices=tuple(PLAYOUT_POLICIES), default=None,
                   help="--search mc: how its playouts move: uniform, tactical (atari answers first), patterns "
                        "(MoGo's 3x3 shapes around the last move first) or mogo (both; default: the bundle's "
                        "player.mc_playout_policy, else uniform)")
    p.add_argument("--fallback", choices=("montecarlo", "random"), default=d.fallback,
                   help="who plays the board sizes the network was not trained on: Monte Carlo over the rules "
                        f"or the random player (default: {d.fallback})")
    p.add_argument("--mc-playouts", type=int, default=d.mc_playouts,
                   help=f"random playouts per move of the Monte Carlo fallback (default {d.mc_playouts})")
    p.add_argument("--mc-search", choices=("tree", "flat"), default=d.mc_search,
                   help=f"the Monte Carlo fallback's search: a tree with RAVE (MoGo's playouts) or flat (uniform "
                        f"playouts; default {d.mc_search})")
    p.add_argument("--mc-max-seconds", type=float, default=d.mc_max_seconds,
                   help=f"the Monte Carlo fallback's time cap a move, seconds (default {d.mc_max_seconds:g}; 0: none)")
    p.add_argument("--seed", type=int, default=None, help="random player and temperature sampling seed")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--log-level", type=str.upper, default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def weights_from(args: argparse.Namespace) -> str:
    folder = Path(args.weights) if args.weights else SHIPPED
    kind = args.player or ("neural" if (folder / "manifest.json").exists() else "random")
    if kind == "random":
        return RANDOM
    if not (folder / "manifest.json").exists():
        raise ValueError(f"--player neural: no model bundle at {folder}")
    return str(folder)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings(weights=weights_from(args), max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                            workers=args.workers,
                            max_hold_ms=None if args.max_hold_ms < 0 else args.max_hold_ms, request_timeout_s=args.timeout, max_concurrency=args.max_concurrency,
                            max_body_bytes=args.max_body_bytes, max_games=args.max_games, seed=args.seed,
                            branches=args.branches, symmetries=args.symmetries, visits=args.visits,
                            threads=args.threads, fallback=args.fallback, mc_playouts=args.mc_playouts,
                            mc_search=args.mc_search, search=args.search,
                            steered_playouts=args.steered_playouts, mc_prior=args.mc_prior,
                            mc_playout_policy=args.mc_playout_policy, mc_max_seconds=args.mc_max_seconds,
                            mc_prefer_network=args.mc_prefer_network, precision=args.precision)
    except ValueError as e:  # pydantic's ValidationError is a ValueError
        log.error("%s", e)
        return 2
    host = args.host or os.environ.get("VIDEOWORLD_HOST", "127.0.0.1")
    port = args.port if args.port is not None else int(os.environ.get("VIDEOWORLD_PORT", "8000"))
    log.info("serving %s on http://%s:%d", settings.weights, host, port)
    uvicorn.run(create_app(settings), host=host, port=port, workers=1, log_level=args.log_level.lower())
    return 0
