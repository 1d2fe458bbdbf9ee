"""Stateless queries, modelled on KataGo's analysis JSON: a position in, the model's view out."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from engine.analysis import Analysis
from engine.coords import RESIGN, Move, color_name, to_gtp
from engine.deadstones import ownership_for
from engine.game import Game
from server import images
from server.positions import analysis_out, build_game, query_color
from server.schemas import AnalysisOut, GenmoveOut, PositionIn, Problem, QueryIn
from server.state import Server, ServerState

router = APIRouter(prefix="/v1", tags=["queries"], responses={422: {"model": Problem}, 504: {"model": Problem}})

Resolution = Query(images.DEFAULT_RESOLUTION, ge=8, le=images.MAX_RESOLUTION, description="PNG width = height, px")


async def _position(q: PositionIn) -> Game:
    # Replaying up to 4*N*N moves with superko checks takes a while on 25x25: off the event loop.
    return await run_in_threadpool(build_game, q)


async def _analyze(q: QueryIn, server: ServerState, move_winrates: int = 0) -> tuple[Game, int, Analysis]:
    game = await _position(q)
    color = query_color(q.to_play, game)
    return game, color, await server.analyze(game, color, move_winrates)


async def ownership_list(game: Game, color: int) -> list[float]:
    """The ownership map (engine/deadstones.py: playouts, ~1 s on 9x9), counted off the event loop."""
    return [float(v) for v in await run_in_threadpool(ownership_for, game.position, color)]


def checked_move(server: ServerState, a: Analysis, temperature: Optional[float], game: Game, color: int) -> Move:
    """The move to answer; the engine, not the player, is the judge of legality."""
    move = server.pick(a, temperature, game.size)
    if move is not RESIGN and not game.position.is_legal(move, color):
        raise RuntimeError(f"player chose an illegal move {move!r}")
    return move


@router.post("/genmove", response_model=GenmoveOut)
async def genmove(q: QueryIn, server: Server) -> GenmoveOut:
    """The move the engine plays in this position (nothing is stored)."""
    game, color, a = await _analyze(q, server)
    move = checked_move(server, a, q.temperature, game, color)
    return GenmoveOut(player=server.player_for(game.size), board_size=game.size, color=color_name(color),
                      move=to_gtp(move, game.size), raw_move=to_gtp(a.raw_move, game.size), raw_legal=a.raw_legal,
                      winrate=a.winrate)


@router.post("/analyze", response_model=AnalysisOut)
async def analyze(q: QueryIn, server: Server) -> AnalysisOut:
    """The chosen and raw moves, the top moves with probabilities (and the winrate after each), the winrate
    and the predicted latent codes."""
    game, color, a = await _analyze(q, server, q.top_k)
    move = checked_move(server, a, q.temperature, game, color)
    return analysis_out(a, move, color, game.size, server.player_for(game.size), q.top_k, q.include_policy,
                        await ownership_list(game, color) if q.include_ownership else None)


@router.post("/position.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def position_png(q: PositionIn, resolution: int = Resolution) -> Response:
    """The position drawn as the model's camera sees it (flat board, no coordinates)."""
    game = await _position(q)
    return images.position_png(game.position.array(), resolution)


@router.post("/imagined.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def imagined_png(q: QueryIn, server: Server, resolution: int = Resolution) -> Response:
    """The next frame the model imagines (decoded from its predicted codes) for the side to move."""
    images.check_resolution(resolution, q.board_size or 9)
    _, _, a = await _analyze(q, server)
    return images.imagined_png(a, resolution)
