"""Health, version (the model's manifest), and the web board's page."""

from __future__ import annotations

import time
from importlib import metadata

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from engine.fallback import default_policy
from server.state import Server

router = APIRouter(tags=["meta"])


def package_version() -> str:
    try:
        return metadata.version("videoworld-go")
    except metadata.PackageNotFoundError:  # run from a checkout without `pip install`
        return "0+unknown"


@router.get("/healthz")
async def healthz(request: Request, server: Server) -> dict:
    """Liveness plus load: requests in flight, stored games, and the batcher's batch-size statistics."""
    return {"status": "ok", "uptime_s": round(time.time() - server.started, 1),
            "in_flight": request.app.state.in_flight.count, "games": len(server.games),
            "batcher": server.batcher.stats().as_dict()}


@router.get("/version")
async def version(server: Server) -> dict:
    """Package version, who plays which board size, and the model bundle's manifest (null for the random player)."""
    s = server.settings
    return {"name": "videoworld-go", "version": package_version(), "player": server.batcher.name,
            "player_9x9": server.player_for(9), "weights": s.weights,
            "batching": {"max_batch": s.max_batch, "max_wait_ms": s.max_wait_ms,
                         "max_hold_ms": s.max_hold_ms, "workers": server.batcher.workers},
            # imagined branches per position, as the neural player resolved them (--branches, else the
            # bundle's tuned value, else its default); None without a model
            "branches": server.player_setting("top_k"),
            "symmetries": server.player_setting("symmetries"),  # board symmetries averaged per position
            "precision": server.player_setting("precision"),  # the transformer's matrix products: fp32 or bf16
            "visits": s.visits if server.manifest else None,  # tree-search visits per position (1: none)
            "search": server.search(),  # the network's search: puct (visits) or the Monte Carlo tree it steers
            # who plays the sizes the network was not trained on, and how (engine/fallback.py)
            "fallback": {"player": s.fallback, "mc_playouts": s.mc_playouts, "mc_search": s.mc_search,
                         "mc_playout_policy": default_policy(s.mc_search), "mc_max_seconds": s.mc_max_seconds}
            if s.fallback == "montecarlo" else {"player": s.fallback},
            "manifest": server.manifest}


@router.get("/", include_in_schema=False)
async def index() -> RedirectResponse:
    return RedirectResponse("/static/index.html")
