"""Finishing a game (engine/finishing.py): once only dead stones and dame are left, the network-steered tree
takes the opponent's dead stones and fills dame with the network's favourite among the safe moves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.coords import BLACK, PASS, WHITE, from_flat
from engine.finishing import FinishConfig, FinishingPoints, finishing_move, finishing_points
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer
from test_mc_player import settled_game

N = 9


def flat(r: int, c: int) -> int:
    return r * N + c


def _means(values: dict[int, float]) -> np.ndarray:
    m = np.full(N * N + 1, np.nan)
    for p, v in values.items():
        m[p] = v
    return m


def _prior(order: list[int]) -> np.ndarray:
    """A distribution whose preferences go down the list ``order`` (flat indices)."""
    p = np.full(N * N + 1, 1e-4)
    for i, q in enumerate(order):
        p[q] = 0.5 / (i + 1)
    return p / p.sum()


def test_the_finishing_points_are_the_dead_opponent_chains_liberties_and_the_dame():
    # a dead White stone at D5 in Black's area (row 4, column 3): its empty neighbours D4 and E5 finish the game
    # for Black; for White it is its own dead stone, nothing to take
    board = settled_game(BLACK, white_extra=[(4, 3)]).position
    black = finishing_points(board, BLACK)
    assert black == FinishingPoints(frozenset({flat(5, 3), flat(4, 4)}), frozenset())
    assert finishing_points(board, WHITE) == FinishingPoints(frozenset(), frozenset())
    # one dame: the wall's top stone moved a point left (A9 side), the point it left touches both colours
    game = Game(9, 7.0)
    black_stones = [(r, 5) for r in range(1, 9)] + [(0, 4)] + [(r, c) for r in range(9) for c in range(5)
                                                                if (r + c) % 3 == 0 and c != 4]
    white_stones = [(r, 6) for r in range(9)] + [(1, 8), (4, 8), (7, 8)]
    game.setup(black_stones, white_stones, BLACK)
    dame = finishing_points(game.position, BLACK)
    assert dame == FinishingPoints(frozenset(), frozenset({flat(0, 5)}))
    # not a finishing board: an opening, and the walls a column apart (nine dame)
    opening = Game(9, 7.0)
    opening.setup([(2, 2), (6, 6)], [(2, 6)], BLACK)
    assert finishing_points(opening.position, BLACK) is None
    apart = Game(9, 7.0)
    apart.setup([(r, 4) for r in range(9)] + [(r, c) for r in range(9) for c in range(4) if (r + c) % 3 == 0],
                [(r, 6) for r in range(9)] + [(1, 8), (4, 8), (7, 8)], BLACK)
    assert finishing_points(apart.position, BLACK) is None


def test_the_network_chooses_among_the_safe_finishing_moves_the_tree_read():
    libs, dame = {flat(5, 3), flat(4, 4)}, {flat(0, 5), flat(0, 6)}
    points = FinishingPoints(frozenset(libs), frozenset(dame))
    other = flat(2, 2)
    means = _means({flat(5, 3): 0.95, flat(4, 4): 0.97, flat(0, 5): 0.97, flat(0, 6): 0.96, other: 0.98, N * N: 1.0})
    # a dame first (a point under area scoring), the network's favourite of them, whatever the tree chose, its
    # pass included
    assert finishing_move(points, other, means, _prior([other, flat(4, 4), flat(0, 6), flat(0, 5)])) == flat(0, 6)
    assert finishing_move(points, None, means, _prior([flat(5, 3), flat(0, 5)])) == flat(0, 5)
    # no dame left: the network's favourite liberty of the dead chain (D4 before E5), also instead of a pass
    take = FinishingPoints(frozenset(libs), frozenset())
    assert finishing_move(take, None, means, _prior([flat(5, 3), flat(4, 4)])) == flat(5, 3)
    assert finishing_move(take, other, means, _prior([other, flat(4, 4)])) == flat(4, 4)
    # a move that wins much less of its playouts than the tree's is not safe; one the tree did not read is not
    # either; a wider margin lets the first in
    unsafe = _means({flat(5, 3): 0.6, flat(4, 4): 0.97, flat(0, 5): 0.5, other: 0.98})
    assert finishing_move(points, other, unsafe, _prior([flat(0, 5), flat(5, 3), flat(4, 4)])) == flat(4, 4)
    unread = _means({flat(4, 4): 0.7, other: 0.98})
    assert finishing_move(points, other, unread, _prior([flat(5, 3), flat(4, 4)])) is None
    assert finishing_move(points, other, unread, _prior([flat(4, 4)]), FinishConfig(safety=0.3)) == flat(4, 4)
    # measured against the best move read when the tree passes: 0.98 - 0.1 lets the 0.95 liberty in, not 0.8
    passing = _means({flat(5, 3): 0.95, flat(4, 4): 0.8, other: 0.98})
    assert finishing_move(take, None, passing, _prior([flat(4, 4), flat(5, 3)])) == flat(5, 3)
    # nothing to finish, or nothing read: the tree's choice stands
    assert finishing_move(FinishingPoints(frozenset(), frozenset()), other, means, _prior([flat(0, 5)])) is None
    assert finishing_move(points, None, _means({N * N: 1.0}), _prior([flat(0, 5)])) is None


def test_the_steered_tree_takes_the_dead_stone_with_the_networks_liberty_and_only_outside_cleanup():
    game = settled_game(WHITE, white_extra=[(4, 3)])
    game.play(PASS, WHITE)  # White passes with its dead stone in Black's area
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=2000, patterns=True, tactical=True))
    for liberty in (flat(5, 3), flat(4, 4)):
        a = mc.analyze(game, BLACK, prior=_prior([liberty]))
        assert a.move == from_flat(liberty, N)
        assert a.winrate == a.move_winrates[liberty]
    # a liberty comes before the network's favourite point elsewhere (an empty point of Black's area)
    assert game.position.stones[flat(1, 1)] == 0
    assert mc.analyze(game, BLACK, prior=_prior([flat(1, 1), flat(4, 4)])).move == from_flat(flat(4, 4), N)
    plain = MonteCarloPlayer(replace(mc.cfg, finish=None))
    # cleanup (kgs-genmove_cleanup) is the tree's alone: the same move as without the rule
    for liberty in (flat(5, 3), flat(4, 4)):
        assert (mc.analyze(game, BLACK, cleanup=True, prior=_prior([liberty])).move
                == plain.analyze(game, BLACK, cleanup=True, prior=_prior([liberty])).move)


def test_under_a_near_deadline_the_finishing_count_is_the_quick_one(monkeypatch):
    """The rule's count follows the pass rules' (engine/mc_player.count_config): an eighth of the playouts with
    less than QUICK_COUNT left, so a tight clock does not pay for a full count twice."""
    import time

    from engine import mc_player
    from engine.deadstones import config_for

    seen = []
    real = mc_player.finishing_points

    def spy(position, color, cfg=None):
        seen.append(cfg)
        return real(position, color, cfg)

    monkeypatch.setattr(mc_player, "finishing_points", spy)
    game = settled_game(WHITE, white_extra=[(4, 3)])
    game.play(PASS, WHITE)
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=300))
    assert mc.analyze(game, BLACK, prior=_prior([flat(4, 4)])).move == from_flat(flat(4, 4), N)
    assert seen[-1] == config_for(N)
    move = mc.analyze(game, BLACK, deadline=time.monotonic() + 0.5, prior=_prior([flat(4, 4)])).move
    assert seen[-1].playouts == config_for(N).playouts // 8 and move == from_flat(flat(4, 4), N)


def test_the_steered_tree_fills_the_last_dame_for_either_side():
    """One dame (F9) between the two areas: a point under area scoring for whoever fills it. The tree alone plays
    a worthless move there (every move wins or loses all its playouts, as passing does); the rule fills the dame,
    whatever the network prefers elsewhere."""
    game = Game(9, 7.0)
    black = [(r, 5) for r in range(1, 9)] + [(0, 4)] + [(r, c) for r in range(9) for c in range(5)
                                                      if (r + c) % 3 == 0 and c != 4]
    white = [(r, 6) for r in range(9)] + [(1, 8), (4, 8), (7, 8)]
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=2000, patterns=True, tactical=True))
    plain = MonteCarloPlayer(replace(mc.cfg, finish=None))
    for color, elsewhere in ((BLACK, flat(1, 1)), (WHITE, flat(2, 7))):
        game.setup(black, white, color)
        assert mc.analyze(game, color, prior=_prior([elsewhere])).move == from_flat(flat(0, 5), N)
        assert plain.analyze(game, color, prior=_prior([elsewhere])).move != from_flat(flat(0, 5), N)
