"""``create_app(settings)``: the FastAPI application (routes, limits, error handlers, the web board).

The model is loaded in the lifespan, not at import: importing the app costs nothing,
and a test can build several apps with different settings in one process. The batcher
is the only place for parallelism, so the app is meant for one uvicorn worker.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from engine.analysis import Analyzer
from engine.batcher import Batcher
from server import errors
from server.limits import BodySizeLimit, ConcurrencyLimit, InFlight
from server.model import load_analyzer
from server.routes import games, meta, queries
from server.settings import Settings
from server.state import ServerState

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Optional[Settings] = None, analyzer: Optional[Analyzer] = None,
               manifest: Optional[dict] = None) -> FastAPI:
    """The app. ``analyzer`` (with its ``manifest``) replaces the one ``settings.weights`` names:
    for embedding a model already in memory, and for tests."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if analyzer is None:
            model, info = await run_in_threadpool(load_analyzer, settings)
        else:
            model, info = analyzer, manifest
        batcher = Batcher(model, max_batch=settings.max_batch, max_wait=settings.max_wait_ms / 1000,
                          workers=settings.workers,
                          max_hold=None if settings.max_hold_ms is None else settings.max_hold_ms / 1000)
        app.state.server = ServerState(settings, batcher, info)
        try:
            yield
        finally:
            batcher.close()

    app = FastAPI(title="videoworld-go", description="A Go engine that learned to play by watching videos of games.",
                  version="v1", lifespan=lifespan)
    app.state.in_flight = InFlight()
    errors.install(app)
    for router in (queries.router, games.router, meta.router):
        app.include_router(router, responses=errors.documented())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Added last = outermost: a too-large body is refused before it takes a concurrency slot.
    app.add_middleware(errors.CatchAll)
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrency, counter=app.state.in_flight)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
