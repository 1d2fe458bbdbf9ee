"""The Monte Carlo player (engine/mc_player.py): the fallback on board sizes without a network. Its
flat search is tested here, its tree search in tests/test_mc_tree.py; the pass rules are the default's."""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from engine.analysis import top_moves
from engine.coords import BLACK, PASS, WHITE, to_flat
from engine.fallback import fallback_analyzer
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, candidates, pass_option
from engine.player import RandomPlayer, is_true_eye

REPO = Path(__file__).resolve().parent.parent


def play_out(black, white, size: int = 9, komi: float = 7.0) -> Game:
    game = Game(size, komi)
    players = {BLACK: black, WHITE: white}
    while not game.is_over() and game.move_number < 3 * size * size:
        color = game.to_play
        game.play(players[color].genmove(game, color), color)
    return game


def margin_against_random(case: tuple[str, int]) -> tuple[float, str, int]:
    """One game of the Monte Carlo player (``search``, 300 playouts a move; flat: the halving alone, AMAF
    is tested below) against the random player, the Monte Carlo player as ``mc_color``: its margin
    (Tromp-Taylor, komi included), the result and the moves played."""
    search, mc_color = case
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=300, amaf=0.0, search=search))
    rnd = RandomPlayer(seed=5)
    game = play_out(*((mc, rnd) if mc_color == BLACK else (rnd, mc)))
    return game.score() * (1 if mc_color == BLACK else -1), game.result(), game.move_number


def test_it_beats_the_random_player_by_a_wide_margin():
    """Both searches, both colours: four games, two processes at a time (pure Python: threads would
    share one core)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    cases = [(search, color) for search in ("flat", "tree") for color in (BLACK, WHITE)]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        results = dict(zip(cases, pool.map(margin_against_random, cases)))
    for case, (margin, result, moves) in results.items():
        assert margin >= 30, (case, result, moves)


def test_the_analysis_is_its_playouts_and_lists_the_move_played_first():
    game = Game(9, 7.0)
    for move in ((4, 4), (2, 6), (6, 2)):
        game.play(move, game.to_play)
    cfg = MonteCarloConfig(playouts=400, search="flat")
    a = MonteCarloPlayer(cfg).analyze(game, WHITE)
    points = candidates(game.position, WHITE)
    assert len(points) == 78 and a.visits[-1] == 0
    # every candidate got a playout; sequential halving spent about the budget (at least 1 each in round 1)
    assert all(a.visits[p] >= 1 for p in points) and len(points) <= a.visits.sum() <= cfg.playouts + len(points)
    assert np.isclose(a.probs.sum(), 1.0) and a.raw_move == a.move and a.raw_legal
    played = to_flat(a.move, 9)
    assert top_moves(a, 1)[0][0] == played and a.visits[played] == a.visits.max()
    seen = np.flatnonzero(a.visits)
    assert np.all((a.move_winrates[seen] >= 0) & (a.move_winrates[seen] <= 1)) and a.winrate == a.move_winrates[played]
    assert a.imagined_board[a.move] == WHITE and a.imagined_frame is None
    # the same position and settings: the same answer (seeded by the board)
    assert MonteCarloPlayer(cfg).analyze(game, WHITE).move == a.move


def test_a_deadline_stops_it_after_the_first_round():
    game = Game(9, 7.0)
    cfg = MonteCarloConfig(playouts=2 * 7 * 81 * 10, search="flat")  # half of it AMAF playouts, the default
    started = time.monotonic()
    a = MonteCarloPlayer(cfg).analyze(game, BLACK, deadline=started)
    # no AMAF playout (past the deadline), then round 1 of 7 of the halving: 10 playouts for each of the
    # 81 points (the full run: ~11,000)
    assert a.visits.sum() == 81 * 10 and a.move is not PASS
    assert a.winrate == a.move_winrates[to_flat(a.move, 9)]
    assert game.position.is_legal(a.move)


def test_clock_playouts_are_the_budget_only_under_a_deadline():
    game = Game(9, 7.0)
    cfg = MonteCarloConfig(playouts=300, clock_playouts=1200, search="tree", stop_early=False)
    assert MonteCarloPlayer(cfg).analyze(game, BLACK).visits.sum() == 300  # no clock: playouts
    clocked = MonteCarloPlayer(cfg).analyze(game, BLACK, deadline=time.monotonic() + 600)
    assert clocked.visits.sum() == 1200  # a clock with time to spare: the clock's budget
    plain = MonteCarloConfig(playouts=300, search="tree", stop_early=False)
    assert MonteCarloPlayer(plain).analyze(game, BLACK, deadline=time.monotonic() + 600).visits.sum() == 300
    flat = MonteCarloConfig(playouts=400, clock_playouts=800, search="flat", amaf=0.0)
    assert MonteCarloPlayer(flat).analyze(game, BLACK, deadline=time.monotonic() + 600).visits.sum() > 400
    with pytest.raises(ValueError, match="clock_playouts"):
        MonteCarloConfig(clock_playouts=0)


def settled_game(to_play: int, black_extra: tuple = (), white_extra: tuple = ()) -> Game:
    """Black owns the six left columns (with eyes), White the three right ones: Black wins the count.
    ``black_extra`` / ``white_extra``: more stones (one inside the other side's area is dead)."""
    black = [(r, 5) for r in range(9)] + [(r, c) for r in range(9) for c in range(5) if (r + c) % 3 == 0 and c != 4]
    white = [(r, 6) for r in range(9)] + [(1, 8), (4, 8), (7, 8)]
    game = Game(9, 7.0)
    game.setup(black + list(black_extra), white + list(white_extra), to_play)
    return game


@pytest.mark.parametrize("search", ["flat", "tree"])
def test_after_the_opponents_pass_it_passes_when_the_count_wins_and_plays_on_when_it_loses(search):
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=200, search=search))
    winner = settled_game(WHITE)
    winner.play(PASS, WHITE)
    assert mc.genmove(winner, BLACK) is PASS
    assert mc.genmove(winner, BLACK, cleanup=True) is not PASS  # cleanup: points remain to play
    # a dead Black stone in White's area (H5): the game is not over for White, who loses
    # the count (the finished board alone is over for both: see the next test)
    loser = settled_game(BLACK, black_extra=[(4, 7)])
    loser.play(PASS, BLACK)
    a = mc.analyze(loser, WHITE)
    assert a.move_winrates[-1] == 0.0  # passing loses the count
    # so it plays on, unless its best move lost every playout too (then ending it changes nothing); flat:
    # every move, the halving's finalists and the others; tree: its best is the most visited move (a move
    # tried a few times can show a win or two by chance)
    best = np.nanmax(a.move_winrates[:-1]) if search == "flat" else a.move_winrates[np.argmax(a.visits[:-1])]
    assert a.move is not PASS or best == 0.0


@pytest.mark.parametrize("search", ["flat", "tree"])
def test_once_the_game_is_over_it_passes_won_or_lost_and_takes_a_dead_stone_before_passing(search):
    """engine/deadstones.finished_for: on the finished board both sides pass before any pass, the winner and the
    loser (KataGo does under these rules, docs/model.md "Passing when the game is over"); with a dead White stone
    in Black's area, Black does not pass after White's pass (Tromp-Taylor would count the stone as White's: the
    tie goes to the move) while for White, whose own stone it is, the game is over."""
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=200, search=search))
    for color in (BLACK, WHITE):
        game = settled_game(color)
        option = pass_option(game, color)
        assert option is not None and option.over and not option.their_dead
        assert option.value == (1.0 if color == BLACK else 0.0)
        assert mc.genmove(game, color) is PASS
        assert mc.genmove(game, color, cleanup=True) is not PASS
    stone = settled_game(WHITE, white_extra=[(4, 3)])  # D5 inside Black's area: dead
    stone.play(PASS, WHITE)
    option = pass_option(stone, BLACK)
    assert option is not None and option.value == 1.0 and option.their_dead and not option.over
    a = mc.analyze(stone, BLACK)
    best = int(np.argmax(a.visits[:-1]))
    if a.move_winrates[best] == 1.0:  # the tree: every playout of its best move won, a tie with passing
        assert a.move is not PASS
    else:  # the flat search's estimates keep AMAF's half-win prior, so passing does better
        assert search == "flat" and a.move is PASS
    white_turn = settled_game(WHITE, white_extra=[(4, 3)])
    assert pass_option(white_turn, WHITE).over  # White's own dead stone: taking it is Black's work
    assert mc.genmove(white_turn, WHITE) is PASS


@pytest.mark.parametrize("search", ["flat", "tree"])
def test_a_board_of_one_colour_is_not_settled_so_it_plays_there_until_the_opponent_passes(search):
    # GTP lets a GUI ask Black to move twice: after "play b E5", "genmove b" passed, since the count on a
    # board of Black's stones alone gives Black everything (session 41's fuzzing)
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=300, search=search))
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    assert mc.genmove(game, BLACK) is not PASS
    game.play(PASS, WHITE)  # once the opponent passes, the count may end it: Black owns the board
    assert mc.genmove(game, BLACK) is PASS


def test_it_never_fills_its_own_true_eye_and_passes_when_nothing_else_is_left():
    # Black: a wall with two true eyes at A1 and C1... every other point is Black's or an eye
    game = Game(5, 0.5)
    black = [(r, c) for r in range(5) for c in range(5) if (r, c) not in ((4, 0), (4, 2), (0, 4))]
    game.setup(black, [], WHITE)
    game.play(PASS, WHITE)
    position = game.position
    assert all(is_true_eye(position, p, BLACK) for p in (20, 22, 4))
    assert candidates(position, BLACK) == []
    assert MonteCarloPlayer(MonteCarloConfig(playouts=50)).genmove(game, BLACK) is PASS


def test_the_fallback_names_its_player():
    assert fallback_analyzer("montecarlo", 0, 100).name == "montecarlo"
    assert fallback_analyzer("random", 0).name == "random"
    with pytest.raises(ValueError, match="fallback must be one of"):
        fallback_analyzer("gnugo")
    with pytest.raises(ValueError, match="playouts"):
        MonteCarloConfig(playouts=0)


def test_the_fallback_plays_mogo_playouts_under_a_time_cap_by_default():
    from engine.fallback import FALLBACK_MAX_SECONDS
    from gtp.cli import make_player

    cfg = fallback_analyzer("montecarlo", 0).cfg
    assert (cfg.tactical, cfg.patterns, cfg.max_seconds) == (True, True, FALLBACK_MAX_SECONDS)  # MoGo's order
    flat = fallback_analyzer("montecarlo", 0, search="flat").cfg
    assert (flat.tactical, flat.patterns) == (False, False)  # the flat search's Python playouts have no patterns
    assert fallback_analyzer("montecarlo", 0, max_seconds=0).cfg.max_seconds is None  # 0: no cap
    assert make_player("montecarlo", 1, mc_max_seconds=2.5).cfg.max_seconds == 2.5
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="max_seconds"):
            MonteCarloConfig(max_seconds=bad)
    # the cap stops a budget that would take minutes, and still gives a legal move
    player = MonteCarloPlayer(MonteCarloConfig(playouts=1_000_000, max_seconds=0.5))
    game = Game(19, 7.5)
    start = time.monotonic()
    a = player.analyze(game, BLACK)
    took = time.monotonic() - start
    assert game.position.is_legal(a.move) and a.move is not PASS
    assert 0.4 < took < 5.0 and 0 < a.visits.sum() < 1_000_000


def test_gtp_routes_the_sizes_without_a_network_to_the_fallback(tiny_bundle):
    from gtp.cli import make_player

    for kind, expected in (("montecarlo", "montecarlo"), ("random", "random")):
        player = make_player("neural", 0, str(tiny_bundle), fallback=kind, mc_playouts=100)
        try:
            assert player.batcher.analyzer.for_size(13).name == expected
            game = Game(13, 6.5)
            for _ in range(2):  # through the batcher, as GTP plays
                move = player.genmove(game, game.to_play)
                assert move is not PASS and game.position.is_legal(move)
                game.play(move, game.to_play)
        finally:
            player.batcher.close()


def test_gtp_player_montecarlo_plays_any_size():
    from gtp.cli import make_player

    player = make_player("montecarlo", 1, mc_playouts=100)
    game = Game(7, 7.0)
    move = player.genmove(game, BLACK)
    assert player.name == "montecarlo" and game.position.is_legal(move) and move is not PASS
    assert player.cfg.search == "tree" and player.cfg.playouts == 100  # the tree by default; --mc-search flat
    assert make_player("montecarlo", 1, mc_playouts=100, mc_search="flat").cfg.search == "flat"
    steered = make_player("neural", 1, search="mc", mc_playouts=100, mc_prior=1.0)  # the network steers the tree
    try:
        routed = steered.batcher.analyzer
        assert routed.for_size(9).name == "videoworld-mc" and routed.for_size(9).cfg.tree.prior_weight == 1.0
        assert routed.for_size(9).cfg.playouts == 100 and routed.for_size(13).cfg.playouts == 100
        game = Game(9, 7.0)
        assert game.position.is_legal(steered.genmove(game, BLACK))
    finally:
        steered.batcher.close()
    with pytest.raises(ValueError, match="search"):
        make_player("neural", 1, search="alphabeta")
    # the playout policy by name: the steered tree takes MoGo's patterns; the PUCT search's Python playouts do not
    mogo = make_player("neural", 1, search="mc", mc_playouts=50, playout_policy="mogo")
    try:
        cfg = mogo.batcher.analyzer.for_size(9).cfg
        assert (cfg.tactical, cfg.patterns) == (True, True)
        game = Game(9, 7.0)
        assert game.position.is_legal(mogo.genmove(game, BLACK))
    finally:
        mogo.batcher.close()
    with pytest.raises(ValueError, match="playout_policy"):
        make_player("neural", 1, search="puct", playout_policy="patterns")
    patterned = make_player("montecarlo", 1, mc_playouts=100, playout_policy="patterns").cfg  # and the fallback's
    assert (patterned.tactical, patterned.patterns) == (False, True)
    with pytest.raises(ValueError, match="playout policy"):
        fallback_analyzer("montecarlo", 1, 100, policy="smart")
    with pytest.raises(ValueError, match="patterns"):
        MonteCarloConfig(search="flat", patterns=True)


def test_gtp_command_line_refuses_a_bad_mc_prior():
    import subprocess
    import sys

    for bad in ("-1", "nan", "x"):
        run = subprocess.run([sys.executable, "-m", "gtp", "--search", "mc", "--mc-prior", bad],
                             input="quit\n", capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and "--mc-prior" in run.stderr and "Traceback" not in run.stderr


def test_amaf_scores_the_points_the_mover_played_first_and_takes_its_share_of_the_budget():
    game = Game(7, 7.0)
    game.play((3, 3), BLACK)
    mc = MonteCarloPlayer(MonteCarloConfig(playouts=600, amaf=0.5, search="flat"))
    wins, margins, count = mc._amaf(game.position, WHITE, game.komi, 40)
    # each playout fills the board: every empty point is played by someone, so White first in ~half of them
    # (the occupied D4 only when its stone is captured and White plays there before Black does again)
    assert count[3 * 7 + 3] < 20
    empty = [p for p in range(49) if p != 24]
    assert np.all(count[empty] <= 40) and np.all(wins <= count) and 15 < count[empty].mean() < 25
    assert np.all((margins[empty] / np.maximum(count[empty], 1)) <= 49)
    a = mc.analyze(game, WHITE)
    points = candidates(game.position, WHITE)
    # half the budget went to the AMAF playouts: the direct ones are the rest (at least one each)
    assert len(points) <= a.visits.sum() <= 300 + len(points)
    assert top_moves(a, 1)[0][0] == to_flat(a.move, 7) and 0.0 <= a.winrate <= 1.0
    assert mc.analyze(game, WHITE).move == a.move
    with pytest.raises(ValueError, match="amaf"):
        MonteCarloConfig(amaf=1.0)


def test_gtp_mc_flags_reach_the_steered_search_and_the_fallback_and_bad_values_are_refused():
    import subprocess
    import sys

    from gtp.cli import make_player

    player = make_player("neural", 1, search="mc", mc_playouts=100, mc_replies=4, mc_reply_views=2,
                         mc_last_good_reply=True, mc_clock_playouts=400, mc_prefer_network=0.25)
    try:
        steered = player.batcher.analyzer.for_size(9)
        assert steered.cfg.clock_playouts == 400 and steered.cfg.playouts == 100 and steered.cfg.threads == 1
        assert steered.cfg.prefer_prior == 0.25
        assert steered.cfg.replies == 4 and steered.reply_network.symmetries == 2
        assert steered.cfg.tree.last_good_reply and steered.cfg.tree.prior_weight == 2
        assert steered.reply_network.bundle is steered.network.bundle  # one model, read in fewer views
        game = Game(9, 7.0)
        assert game.position.is_legal(player.genmove(game, BLACK))
    finally:
        player.batcher.close()
    threaded = make_player("neural", 1, search="mc", mc_playouts=200, mc_threads=2)
    try:  # both the network's size and the fallback's sizes search with two trees
        assert threaded.batcher.analyzer.for_size(9).cfg.threads == 2
        assert threaded.batcher.analyzer.for_size(13).cfg.threads == 2
        game = Game(9, 7.0)
        assert game.position.is_legal(threaded.genmove(game, BLACK))
    finally:
        threaded.batcher.close()
    default = make_player("neural", 1, search="mc", mc_playouts=100)
    try:  # the shipped manifest names no replies: off
        assert default.batcher.analyzer.for_size(9).cfg.replies == 0
        assert default.batcher.analyzer.for_size(9).reply_network is None
        assert not default.batcher.analyzer.for_size(9).cfg.tree.last_good_reply
        assert default.batcher.analyzer.for_size(9).cfg.clock_playouts is None  # a clock changes nothing
        assert default.batcher.analyzer.for_size(9).cfg.threads == 1  # one core unless asked
        tuned = json.loads((REPO / "weights" / "9x9" / "manifest.json").read_text())["player"]
        assert default.batcher.analyzer.for_size(9).cfg.prefer_prior == tuned.get("mc_prefer_network", 0.0)
    finally:
        default.batcher.close()
    for flag, bad in (("--mc-replies", "-1"), ("--mc-replies", "65"), ("--mc-reply-views", "3"),
                      ("--mc-last-good-reply", "yes"), ("--mc-clock-playouts", "0"), ("--mc-threads", "0"),
                      ("--mc-threads", "65"), ("--mc-prefer-network", "1.5"), ("--mc-prefer-network", "-0.1"),
                      ("--mc-prefer-network", "nan")):
        run = subprocess.run([sys.executable, "-m", "gtp", "--search", "mc", flag, bad],
                             input="quit\n", capture_output=True, text=True, timeout=60)
        assert run.returncode == 2 and flag in run.stderr and "Traceback" not in run.stderr
