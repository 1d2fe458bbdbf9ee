"""Games as a resource: create, read, play, let the engine play, undo, SGF, pictures.

Each request on a game holds that game's lock, so two concurrent moves on one game are
applied one after the other, never interleaved; different games proceed in parallel.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from engine.sgf import dump_game
from server import images
from server.positions import analysis_out, build_game, color_of, finished_count, game_state, query_color, vertex
from server.routes.queries import Resolution, checked_move, ownership_list
from server.schemas import (AnalysisOut, GameAnalyzeIn, GameGenmoveIn, GameGenmoveOut, GameMoveIn, GameState,
                            PositionIn, Problem)
from server.state import GameConflict, GameEntry, Server, ServerState

router = APIRouter(prefix="/v1/games", tags=["games"],
                   responses={404: {"model": Problem}, 409: {"model": Problem}, 422: {"model": Problem},
                              504: {"model": Problem}})

ColorQuery = Query(None, pattern="^[BWbw]$", description="default: the side to move")


async def _state(server: ServerState, game_id: str, entry: GameEntry) -> GameState:
    """The game as the client sees it; a finished game also counted."""
    count = await _count(entry) if entry.game.is_over() else None
    return game_state(game_id, entry.game, entry.rules, server.player_for(entry.game.size), count)


async def _count(entry: GameEntry) -> tuple[str, list[str]]:
    # playouts (remembered per board by engine/deadstones.py): off the event loop
    return await run_in_threadpool(finished_count, entry.game)


def _require_not_over(entry: GameEntry) -> None:
    if entry.game.is_over():
        raise GameConflict("game is over (two passes or a resignation); undo to continue")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GameState)
async def create_game(spec: PositionIn, server: Server, response: Response) -> GameState:
    """A new game: empty, or from initial stones and moves, or from an SGF."""
    game = await run_in_threadpool(build_game, spec)
    if spec.to_play is not None and not game.moves:
        game.setup([], [], color_of(spec.to_play))  # who moves first (setup keeps the stones)
    game_id, entry = server.games.add(game, spec.rules)
    response.headers["location"] = f"/v1/games/{game_id}"
    return await _state(server, game_id, entry)


@router.get("/{game_id}", response_model=GameState)
async def get_game(game_id: str, server: Server) -> GameState:
    return await _state(server, game_id, server.games.get(game_id))


@router.delete("/{game_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_game(game_id: str, server: Server) -> Response:
    server.games.delete(game_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{game_id}/moves", response_model=GameState)
async def play(game_id: str, body: GameMoveIn, server: Server) -> GameState:
    """Play a move ("D4", "pass", "resign"); an illegal one is a 409 with the engine's reason."""
    entry = server.games.get(game_id)
    async with entry.lock:
        _require_not_over(entry)
        game = entry.game
        color = query_color(body.color, game)
        game.play(vertex(body.move, game.size, allow_resign=True), color)  # IllegalMove -> 409
        return await _state(server, game_id, entry)


@router.post("/{game_id}/genmove", response_model=GameGenmoveOut)
async def genmove(game_id: str, server: Server, body: GameGenmoveIn = GameGenmoveIn()) -> GameGenmoveOut:
    """The engine plays for the side to move (or ``color``) and says what it thought."""
    entry = server.games.get(game_id)
    async with entry.lock:
        _require_not_over(entry)
        game = entry.game
        color = query_color(body.color, game)
        a = await server.analyze_entry(entry, color)
        move = checked_move(server, a, body.temperature, game, color)
        out = analysis_out(a, move, color, game.size, server.player_for(game.size), body.top_k, False)
        game.play(move, color)
        return GameGenmoveOut(**out.model_dump(), game=await _state(server, game_id, entry))


@router.post("/{game_id}/analyze", response_model=AnalysisOut)
async def analyze(game_id: str, server: Server, body: GameAnalyzeIn = GameAnalyzeIn()) -> AnalysisOut:
    """What the model thinks of the current position, without playing (the web board's hint panel)."""
    entry = server.games.get(game_id)
    async with entry.lock:
        color = query_color(body.color, entry.game)
        a = await server.analyze_entry(entry, color, body.top_k)
        return analysis_out(a, a.move, color, entry.game.size, server.player_for(entry.game.size), body.top_k,
                            body.include_policy,
                            await ownership_list(entry.game, color) if body.include_ownership else None)


@router.post("/{game_id}/undo", response_model=GameState)
async def undo(game_id: str, server: Server) -> GameState:
    entry = server.games.get(game_id)
    async with entry.lock:
        if not entry.game.undo():
            raise GameConflict("nothing to undo")
        return await _state(server, game_id, entry)


@router.get("/{game_id}/sgf", response_class=Response, responses={200: {"content": {"application/x-go-sgf": {}}}})
async def sgf(game_id: str, server: Server) -> Response:
    entry = server.games.get(game_id)
    result = (await _count(entry))[0] if entry.game.is_over() else ""
    data = dump_game(entry.game, result=result)
    return Response(data, media_type="application/x-go-sgf",
                    headers={"content-disposition": f'attachment; filename="{game_id}.sgf"'})


@router.get("/{game_id}/position.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def position_png(game_id: str, server: Server, resolution: int = Resolution) -> Response:
    entry = server.games.get(game_id)
    return images.position_png(entry.game.position.array(), resolution)


@router.get("/{game_id}/imagined.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def imagined_png(game_id: str, server: Server, resolution: int = Resolution,
                       color: str | None = ColorQuery) -> Response:
    """The model's imagined next frame for the side to move (or ``color``)."""
    entry = server.games.get(game_id)
    images.check_resolution(resolution, entry.game.size)
    async with entry.lock:
        a = await server.analyze_entry(entry, query_color(None if color is None else color.upper(), entry.game))
    return images.imagined_png(a, resolution)
