"""What the app holds while it runs: the batcher (which owns the model) and the stored games.

Created in the lifespan and reached by handlers through the ``Server`` dependency. All
handlers run on the event loop; only the batcher's worker threads touch the model.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated, Optional

import numpy as np
from fastapi import Depends, Request

from engine.analysis import Analysis, choose_move
from engine.batcher import Batcher
from engine.coords import Move, from_flat
from engine.game import Game
from engine.mc_player import PLAYOUT_POLICIES
from server.settings import Settings


class GameNotFound(LookupError):
    """No stored game has this id (never created, or forgotten to make room)."""


class GameConflict(RuntimeError):
    """The stored game's state forbids the request: it is over (two passes, a resignation), or has no move to undo."""


class RequestTimeout(TimeoutError):
    """The model did not answer within the request timeout."""


@dataclass
class GameEntry:
    game: Game
    rules: str
    # One request at a time per game: two concurrent moves must not interleave.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The last analysis, keyed by (history length, board hash, colour): the web board asks
    # for the top moves and then for the imagined frame of the same position.
    cached: Optional[tuple[tuple[int, int, int], Analysis, int]] = None  # (position key, answer, its move winrates)


class GameStore:
    """Games by id, least recently used first; the oldest is forgotten beyond ``max_games``."""

    def __init__(self, max_games: int) -> None:
        self.max_games = max_games
        self._games: OrderedDict[str, GameEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._games)

    def add(self, game: Game, rules: str) -> tuple[str, GameEntry]:
        game_id = uuid.uuid4().hex
        self._games[game_id] = entry = GameEntry(game, rules)
        while len(self._games) > self.max_games:
            self._games.popitem(last=False)
        return game_id, entry

    def get(self, game_id: str) -> GameEntry:
        entry = self._games.get(game_id)
        if entry is None:
            raise GameNotFound(f"no game {game_id!r}")
        self._games.move_to_end(game_id)
        return entry

    def delete(self, game_id: str) -> None:
        if self._games.pop(game_id, None) is None:
            raise GameNotFound(f"no game {game_id!r}")


class ServerState:
    def __init__(self, settings: Settings, batcher: Batcher, manifest: Optional[dict]) -> None:
        self.settings = settings
        self.batcher = batcher
        self.manifest = manifest
        self.games = GameStore(settings.max_games)
        self.started = time.time()
        self._rng = np.random.default_rng(settings.seed)  # temperature sampling; event-loop thread only

    def player_for(self, size: int) -> str:
        return self.batcher.name_for(size)

    def _model(self):
        """The analyzer that plays the bundle's board size (the network, or a search around it); None
        without a model."""
        return self.batcher.analyzer.for_size(self.manifest["board_size"]) if self.manifest else None

    def player_setting(self, name: str) -> Optional[int]:
        """A setting of the neural player as it resolved it (``top_k``: imagined branches per position,
        ``symmetries``: board symmetries averaged), None without a model."""
        player = self._model()
        if player is None:
            return None
        player = getattr(player, "analyzer", player)  # a tree search (--visits) wraps the network
        player = getattr(player, "network", player)  # and so does the Monte Carlo search it steers (--search mc)
        return getattr(player, name, None)

    def search(self) -> Optional[dict]:
        """The 9x9 network's search as it resolved: {"kind": "puct", "visits"} or {"kind": "mc",
        "playouts", "prior", "playout_policy", "prefer_network"}; None without a model."""
        player = self._model()
        if player is None:
            return None
        if self.settings.search == "mc":
            cfg = player.cfg
            policy = next(k for k, v in PLAYOUT_POLICIES.items() if v == (cfg.tactical, cfg.patterns))
            return {"kind": "mc", "playouts": cfg.playouts, "prior": cfg.tree.prior_weight, "playout_policy": policy,
                    "prefer_network": cfg.prefer_prior}
        return {"kind": "puct", "visits": self.settings.visits}

    async def analyze(self, game: Game, color: int, move_winrates: int = 0) -> Analysis:
        """The batcher's answer, or RequestTimeout (-> 504); a late answer is dropped, not queued on.
        ``move_winrates``: also the winrate after each of that many top moves (analysis routes)."""
        future = self.batcher.submit(game, color, move_winrates=move_winrates)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.request_timeout_s)
        except TimeoutError:
            future.cancel()  # still queued: the worker skips it
            raise RequestTimeout(f"no answer from the model within {self.settings.request_timeout_s:g} s") from None

    async def analyze_entry(self, entry: GameEntry, color: int, move_winrates: int = 0) -> Analysis:
        """``analyze`` with the game's one-position cache (an answer with at least as many move winrates serves)."""
        pos = entry.game.position
        key = (len(entry.game.positions), pos.hash, color)
        if entry.cached is not None and entry.cached[0] == key and entry.cached[2] >= move_winrates:
            return entry.cached[1]
        analysis = await self.analyze(entry.game, color, move_winrates)
        entry.cached = (key, analysis, move_winrates)
        return analysis

    def pick(self, analysis: Analysis, temperature: Optional[float], size: int) -> Move:
        """The analyzer's own move, or one re-chosen at the request's temperature."""
        if temperature is None:
            return analysis.move
        return from_flat(choose_move(analysis.playable, temperature, self._rng), size)


def get_state(request: Request) -> ServerState:
    return request.app.state.server


Server = Annotated[ServerState, Depends(get_state)]
