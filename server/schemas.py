"""Request and response bodies of the REST API, with their bounds (violations answer 422).

The stateless queries follow KataGo's analysis JSON where it fits: ``moves`` as
``[["B", "D4"], ["W", "Q16"], ...]``, ``initial_stones`` in the same form, ``komi``,
``rules``; the board is square, so one ``board_size`` instead of x/y sizes.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from engine.coords import MAX_SIZE, MIN_SIZE

MAX_MOVES_PER_POINT = 4  # a game record may hold at most 4*N*N moves (superko ends every game well before)
MAX_SGF_CHARS = 1_000_000


def _upper(v: object) -> object:
    return v.upper() if isinstance(v, str) else v


Color = Annotated[Literal["B", "W"], BeforeValidator(_upper)]
# GTP columns skip I; any case; the row's range depends on the board, so "D12" on 9x9 passes here and gets a 422
# from the engine. ECMA-262 syntax (no inline flags): OpenAPI clients may check the pattern too. It is checked
# by ``_vertex`` rather than Field(pattern=...) so that the 422 says "invalid vertex 'I3'", not the regex.
VERTEX_PATTERN = r"^([A-HJ-Za-hj-z][0-9]{1,5}|[Pp][Aa][Ss][Ss]|[Rr][Ee][Ss][Ii][Gg][Nn])$"


def _vertex(v: str) -> str:
    if not re.fullmatch(VERTEX_PATTERN, v):
        raise ValueError(f"invalid vertex {v!r}: a column letter (A-Z without I) and a row number, or pass/resign")
    return v


Vertex = Annotated[str, Field(min_length=2, max_length=6, json_schema_extra={"pattern": VERTEX_PATTERN},
                              description='GTP vertex ("D4"), "pass" (and "resign" where a move is played)'),
                   AfterValidator(_vertex)]
MovePair = tuple[Color, Vertex]
# The same pair in answers, as a plain 2-item array: a tuple's JSON schema is OpenAPI 3.1's prefixItems, which
# response validators and client generators written for 3.0 misread (schemathesis 4.32 calls it invalid).
PlayedMove = Annotated[list[str], Field(min_length=2, max_length=2, description='["B" or "W", GTP vertex or "pass"]')]
Rules = Literal["tromp-taylor", "chinese"]  # area scoring with positional superko, what the engine applies


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class PositionIn(_Strict):
    """A position given by its history (or an SGF), as a stateless query or a game's start."""

    board_size: Optional[int] = Field(None, ge=MIN_SIZE, le=MAX_SIZE, description="default 9, or the SGF's size")
    komi: Optional[float] = Field(None, ge=-1000, le=1000, allow_inf_nan=False,
                                  description="default 7, or the SGF's KM")
    rules: Rules = "tromp-taylor"
    moves: list[MovePair] = Field(default_factory=list, max_length=MAX_MOVES_PER_POINT * MAX_SIZE ** 2)
    sgf: Optional[str] = Field(None, min_length=1, max_length=MAX_SGF_CHARS, description="instead of moves: a game record")
    initial_stones: list[MovePair] = Field(default_factory=list, max_length=MAX_SIZE ** 2)
    to_play: Optional[Color] = Field(None, description="default: the side whose turn it is after the moves")

    @model_validator(mode="after")
    def _consistent(self) -> "PositionIn":
        n = self.board_size or 9
        if len(self.moves) > MAX_MOVES_PER_POINT * n * n:
            raise ValueError(f"at most {MAX_MOVES_PER_POINT}*N*N = {MAX_MOVES_PER_POINT * n * n} moves on {n}x{n}")
        if len(self.initial_stones) > n * n:
            raise ValueError(f"at most N*N = {n * n} initial stones on {n}x{n}")
        if self.sgf is not None and (self.moves or self.initial_stones):
            raise ValueError("give either sgf or moves/initial_stones, not both")
        return self


class QueryIn(PositionIn):
    """``POST /v1/genmove`` and ``/v1/analyze``."""

    temperature: Optional[float] = Field(None, ge=0, le=10, allow_inf_nan=False,
                                         description="None: the player's own choice; 0: the most likely legal move")
    top_k: int = Field(10, ge=1, le=MAX_SIZE ** 2 + 1, description="how many top moves to list")
    include_policy: bool = Field(False, description="also return the whole N*N+1 distribution (pass last)")
    include_ownership: bool = Field(False, description="also return the ownership map (analyze only; see AnalysisOut)")


class MoveProb(BaseModel):
    move: str
    prob: float = Field(description="probability among legal moves (what the engine plays from)")
    raw_prob: float = Field(description="the model's probability before the rules' mask")
    winrate: Optional[float] = Field(None, description="P(color wins) after this move: the value model on the board "
                                     "the move leaves (analyze routes; null without a value model)")


class GenmoveOut(BaseModel):
    player: str = Field(description='who answered: "videoworld" (the model), or "montecarlo" or "random" (the fallback on other board sizes)')
    board_size: int
    color: Color
    move: str
    raw_move: str = Field(description="the model's favourite before the rules' mask")
    raw_legal: bool
    winrate: Optional[float] = Field(description="P(color wins) from the value model (or the outcome head); null for the random player")


class AnalysisOut(GenmoveOut):
    top_moves: list[MoveProb]
    z_codes: list[int] = Field(description="predicted latent (LDM) codes z_1..z_H of the best branch")
    imagined_board: list[str] = Field(description='the imagined next board, top row first, ". X O"')
    policy: Optional[list[float]] = None
    ownership: Optional[list[float]] = Field(
        None, description="with include_ownership: N*N values in [-1, 1], top row first, from color's side "
        "(+1 its at the end); the rules engine's playout count (as GTP kata-analyze ownership), not the model")


class GameState(BaseModel):
    id: str
    board_size: int
    komi: float
    rules: Rules
    player: str = Field(description="who answers genmove on this board size")
    to_play: Color
    move_number: int
    moves: list[PlayedMove]
    board: list[str] = Field(description='top row first, ". X O"')
    captures: dict[Color, int] = Field(description="stones captured by each colour")
    last_move: Optional[str]
    over: bool = Field(description="after two passes in a row or a resignation")
    result: str = Field(description='"B+3.5", "W+R", "0": the Tromp-Taylor count of the board as it stands')
    score: Optional[str] = Field(None, description='once the game is over: the count players would agree on, '
                                 'dead stones off (as GTP final_score; "W+R" after a resignation); null before')
    dead: list[str] = Field(default_factory=list, description="once the game is over: the stones judged dead")


class GameMoveIn(_Strict):
    move: Vertex
    color: Optional[Color] = Field(None, description="default: the side to move")


class GameGenmoveIn(_Strict):
    color: Optional[Color] = None
    temperature: Optional[float] = Field(None, ge=0, le=10, allow_inf_nan=False)
    top_k: int = Field(10, ge=1, le=MAX_SIZE ** 2 + 1)


class GameAnalyzeIn(_Strict):
    color: Optional[Color] = None
    top_k: int = Field(10, ge=1, le=MAX_SIZE ** 2 + 1)
    include_policy: bool = False
    include_ownership: bool = False


class GameGenmoveOut(AnalysisOut):
    game: GameState


class Problem(BaseModel):
    """Every error body: FastAPI's ``detail``, plus the engine's reason for an illegal move."""

    detail: str
    reason: Optional[str] = None
