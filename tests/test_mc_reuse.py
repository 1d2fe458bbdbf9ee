"""The Monte Carlo tree kept between moves (``MonteCarloConfig.reuse``, ``TreeSearch.advance``) and pondering
(``MonteCarloPlayer.ponder``, ``videoworld-go gtp --ponder``)."""

from __future__ import annotations

import re
import threading
import time

import numpy as np

from engine.coords import BLACK, PASS, WHITE, from_flat
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, candidates
from engine.mc_tree import TreeConfig, TreeSearch
from gtp.engine import GtpEngine
from tests.test_gtp_analyze import _Pipe, parse_sabaki

CFG = MonteCarloConfig(playouts=3_000, patterns=True, tactical=True, stop_early=False)


def opening() -> Game:
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    game.play((2, 6), WHITE)
    return game


def most_visited(search: TreeSearch, m: int) -> int:
    return int(np.argmax(search.t_n[m]))


def test_advance_moves_the_root_down_with_the_statistics_below_it():
    game = opening()
    pos = game.position
    search = TreeSearch(pos, BLACK, 7.0, candidates(pos, BLACK), TreeConfig(), seed=3, tactical=True, patterns=True)
    search.run(4_000)
    mine = most_visited(search, 0)
    node = search.child(mine)
    reply = most_visited(search, node)
    below = search.t_child[node, reply] - 1
    assert below > 0
    seen = search.t_n[below].copy()
    game.play(from_flat(mine, 9), BLACK)
    game.play(from_flat(reply, 9), WHITE)
    points = candidates(game.position, BLACK)
    assert search.advance([mine, reply], game.position, BLACK, points)
    assert search.root_index == below and search.position == game.position
    assert np.array_equal(search.root.n, seen[search.root.points])  # the statistics gathered there stay
    before = search.t_total[below]
    search.run(1_000)
    assert search.t_total[below] == before + 1_000 and search.root.n.sum() == seen.sum() + 1_000
    assert set(search.root.points) <= set(points)
    # a move the tree has no node for leaves it where it was
    empty = next(p for p in points if search.t_child[below, p] == 0)
    assert not search.advance([empty], game.position, WHITE, points) and search.root_index == below


def test_a_kept_tree_adds_the_next_search_to_the_replys_subtree():
    player = MonteCarloPlayer(CFG).reusing()
    game = opening()
    first = player.analyze(game, BLACK)
    line = first.pvs[int(np.argmax(first.visits[:-1]))]
    assert len(line) >= 2
    kept = player._kept[0][0]
    below = kept.t_child[kept.child(line[0]), line[1]] - 1
    earlier = kept.t_n[below].sum()  # what the first search spent below its move and the reply it expected most
    assert earlier > 0
    game.play(from_flat(line[0], 9), BLACK)
    game.play(from_flat(line[1], 9), WHITE)
    second = player.analyze(game, BLACK)
    fresh = MonteCarloPlayer(CFG).analyze(game, BLACK)
    assert fresh.visits.sum() == 3_000
    assert 3_000 < second.visits.sum() <= 3_000 + earlier  # the subtree's simulations kept (at the root's points)
    assert game.position.is_legal(second.move)
    # another position, or a pass on the way: a fresh tree, the budget alone
    other = Game(9, 7.0)
    other.play((3, 3), BLACK)
    assert player.analyze(other, WHITE).visits.sum() == 3_000
    game.play(PASS, BLACK)
    game.play(PASS, WHITE)
    assert player.analyze(game, BLACK).visits.sum() <= 3_000


def test_pondering_grows_the_tree_of_the_opponents_replies_and_stops_when_told():
    player = MonteCarloPlayer(CFG).reusing()
    game = opening()
    stop = threading.Event()
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(player.ponder(game, BLACK, stop)))
    thread.start()
    time.sleep(0.8)
    began = time.monotonic()
    stop.set()
    thread.join()
    assert time.monotonic() - began < 0.5 and done[0] > 500
    kept = player._kept[0][0]
    reply = most_visited(kept, kept.root_index)
    subtree = kept.t_total[kept.t_child[kept.root_index, reply] - 1]
    game.play(from_flat(reply, 9), BLACK)
    answer = player.analyze(game, WHITE)
    assert answer.visits.sum() >= 3_000 + subtree - 1 and subtree > 100


def test_gtp_ponder_thinks_between_the_engines_move_and_the_opponents():
    player = MonteCarloPlayer(CFG).reusing()
    pondered: list[tuple[int, TreeSearch]] = []  # (simulations, the tree) of each pondering, as it ends
    ponder = player.ponder

    def spy(game, color, stop, prior=None):
        done = ponder(game, color, stop, prior)
        pondered.append((done, player._kept[0][0]))
        return done

    player.ponder = spy
    engine = GtpEngine(lambda: Game(size=9, komi=7.0), player)
    engine.ponder = True
    pipe = _Pipe(engine)
    pipe.send("1 play B E5\n2 genmove W\n")
    time.sleep(1.5)  # the opponent thinks; the engine ponders
    pipe.send("3 name\n")  # the line stops the pondering; the position is still the engine's move: it goes on
    time.sleep(0.5)
    pipe.send("4 showboard\n")
    deadline = time.monotonic() + 30
    while "=4 " not in pipe.out.getvalue().decode() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pondered) == 2 and pondered[0][1] is pondered[1][1]  # the same tree, grown again after "name"
    kept = pondered[1][1]
    assert kept.colour == BLACK and kept.t_n[kept.root_index].sum() >= pondered[0][0] + pondered[1][0] > 1_000
    reply = from_flat(most_visited(kept, kept.root_index), 9)
    vertex = "ABCDEFGHJ"[reply[1]] + str(9 - reply[0])
    pipe.send(f"5 play B {vertex}\n6 lz-genmove_analyze W maxmoves 200\n7 undo\n8 name\n")
    out = pipe.close().decode()
    m = re.search(r"=6\n(info [^\n]*)\nplay ", out)
    assert m, out
    assert sum(v["visits"] for v in parse_sabaki(m.group(1))) > 3_000  # the budget and what pondering left there
    assert out.endswith("=8 videoworld-go\n\n")
    # pondered after "6" (its own move) until "7"; after the undo the position is no longer its move's: no more
    assert len(pondered) == 4


def test_without_ponder_nothing_runs_between_commands():
    player = MonteCarloPlayer(CFG).reusing()
    engine = GtpEngine(lambda: Game(size=9, komi=7.0), player)
    pipe = _Pipe(engine)
    pipe.send("1 play B E5\n2 genmove W\n")
    deadline = time.monotonic() + 30
    while "=2 " not in pipe.out.getvalue().decode() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    kept = player._kept[0][0]
    assert kept.colour == WHITE and kept.root.n.sum() == 3_000  # the genmove's own tree, not grown for Black
    pipe.close()
