"""The Monte Carlo tree search with RAVE (engine/mc_tree.py) and its compiled board (engine/fastboard.py)."""

import time

import numpy as np
import pytest

from engine.board import IllegalMove, Position, area
from engine.coords import BLACK, EMPTY, PASS, WHITE, from_flat, to_flat
from engine.fastboard import (COLOUR, KO, LAST, MOVES, FastBoard, answers_capacity, area_score, libs_up_to, new_rng, over, play,
                              play_legal, policy_tables, remember_replies, step)
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer, candidates
from engine.mc_tree import NodeView, TreeConfig, TreeSearch, quiet_edge_moves


def board(size: int, black=(), white=()) -> bytes:
    stones = bytearray(size * size)
    for points, colour in ((black, BLACK), (white, WHITE)):
        for r, c in points:
            stones[r * size + c] = colour
    return bytes(stones)


def capture_game() -> Game:
    """9x9, Black to move: White's six stones in the middle have one liberty, (4,6)."""
    white = [(3, 3), (3, 4), (3, 5), (4, 3), (4, 4), (4, 5)]
    black = [(2, 3), (2, 4), (2, 5), (5, 3), (5, 4), (5, 5), (3, 2), (4, 2), (3, 6)]
    game = Game(9, 7.0)
    game.setup(black, white, BLACK)
    return game


def fast(stones: bytes, size: int, to_play: int) -> FastBoard:
    return FastBoard(size).setup(stones, to_play)


def test_play_legal_follows_the_rules_where_the_policy_is_stricter():
    # Black's (0,0)-(0,1) has one liberty, (0,2); filling it leaves the three stones one liberty, (1,2)
    fb = fast(board(5, black=[(0, 0), (0, 1)], white=[(1, 0), (1, 1), (0, 3)]), 5, BLACK)
    assert not play(2, True, fb.nbr, *fb.arrays())  # the policy refuses putting a chain of two or more in atari ...
    assert play_legal(2, fb.nbr, *fb.arrays())  # ... the rules allow it
    assert fb.board[2] == BLACK and fb.st[COLOUR] == WHITE and fb.st[MOVES] == 1
    assert libs_up_to(fb.head[0], 3, fb.board, fb.nxt, fb.nbr, fb.mark, fb.st) == 1
    assert not play_legal(2, fb.nbr, *fb.arrays()) and fb.st[COLOUR] == WHITE  # occupied
    # suicide: a lone Black stone in the corner between two White stones that keep their liberties
    fb = fast(board(5, white=[(0, 3), (1, 4)]), 5, BLACK)
    assert not play_legal(4, fb.nbr, *fb.arrays()) and fb.st[COLOUR] == BLACK and fb.board[4] == EMPTY


def test_a_ko_capture_cannot_be_taken_back_at_once_on_the_compiled_board():
    # White's (1,1) has one liberty, (1,2), where Black's stone would have none but the captured one's
    fb = fast(board(5, black=[(0, 1), (1, 0), (2, 1)], white=[(1, 1), (0, 2), (2, 2), (1, 3)]), 5, BLACK)
    assert play_legal(to_flat((1, 2), 5), fb.nbr, *fb.arrays())  # captures (1,1)
    assert fb.board[to_flat((1, 1), 5)] == EMPTY and fb.st[KO] == to_flat((1, 1), 5)
    assert not play_legal(to_flat((1, 1), 5), fb.nbr, *fb.arrays())  # White's immediate retake is the ko
    assert play_legal(to_flat((4, 4), 5), fb.nbr, *fb.arrays()) and play_legal(to_flat((3, 3), 5), fb.nbr, *fb.arrays())
    assert play_legal(to_flat((1, 1), 5), fb.nbr, *fb.arrays())  # then it may


@pytest.mark.parametrize("size,tactical,patterns,lgr", [(7, False, False, False), (9, False, False, False),
                                                        (9, True, False, False), (9, False, True, False),
                                                        (9, True, True, False), (9, True, True, True)])
def test_compiled_playouts_follow_the_rules_engine_move_by_move(size, tactical, patterns, lgr):
    """Differential test against engine/board.py: every move of 12 compiled playouts (light, tactical,
    MoGo's patterns, both; both with the last good replies learnt from the playouts before) is
    legal there, gives the same board, keeps each chain's pseudo-liberties zero exactly when it has no
    liberty, and the final count is the rules engine's area count."""
    moves_checked = 0
    scratch = np.empty(answers_capacity(size * size), np.int64)
    policy = policy_tables(size, tactical, patterns, lgr)
    for seed in range(12):
        fb = fast(bytes(size * size), size, BLACK)
        rng = new_rng(seed)
        pos = Position(size)
        played, colours = [], []
        while not over(fb.st, size * size):
            colour = int(fb.st[COLOUR])
            p = step(rng, policy, scratch, fb.nbr, fb.diag, fb.ndiag, *fb.arrays())
            played.append(p)
            colours.append(colour)
            try:
                pos = pos.play(PASS if p < 0 else from_flat(p, size), colour)
            except IllegalMove as e:  # the playout knows simple ko only: a long cycle may repeat a board
                assert e.reason == "superko", e
                break
            assert bytes(fb.board.astype(np.uint8)) == pos.stones
            for q in np.flatnonzero(fb.board):
                h = fb.head[q]
                assert fb.board[h] == fb.board[q]
                assert (fb.plib[h] == 0) == (libs_up_to(h, 1, fb.board, fb.nxt, fb.nbr, fb.mark, fb.st) == 0)
            moves_checked += 1
        score = area_score(fb.board, fb.nbr, 7.0)
        assert score == (lambda b, w: b - w - 7.0)(*area(pos.stones, size))
        if lgr:  # as a search does after each simulation: the later playouts start from these replies
            remember_replies(policy[5], np.array(played, np.int64), np.array(colours, np.int64), len(played), -1,
                             BLACK if score > 0 else WHITE)
            assert (policy[5] >= 0).sum() > 10
    assert moves_checked > 12 * size * size  # the playouts went the distance (each fills the board, with captures)


def test_last_good_reply_learns_the_winners_replies_and_forgets_the_losers_failed_ones():
    a = 25
    replies = np.full((3, a + 1), -1, np.int32)
    replies[WHITE, 3] = 7  # White's stored answer to 3, which White plays below and loses with
    replies[WHITE, 9] = 4  # another stored answer, not played: kept
    played = np.array([3, 7, 9, -1, 12, 0, 0], np.int64)  # the last two entries are past ``count``
    pcol = np.array([BLACK, WHITE, BLACK, WHITE, BLACK, WHITE, BLACK], np.int64)
    remember_replies(replies, played, pcol, 5, 5, BLACK)  # 5: the move before the first
    assert replies[BLACK, 5] == 3 and replies[BLACK, 7] == 9
    assert replies[BLACK, a] == 12  # 12 answered White's pass (column A)
    assert replies[WHITE, 3] == -1 and replies[WHITE, 9] == 4  # forgotten; not played, so kept
    assert (replies >= 0).sum() == 4  # nothing else: the loser's moves are not learnt, a pass is no reply
    before = replies.copy()
    remember_replies(replies, played, pcol, 5, 5, 0)  # a draw teaches nothing
    assert np.array_equal(replies, before)
    remember_replies(replies, played, pcol, 1, -1, BLACK)  # no move before the first: column A too
    assert replies[BLACK, a] == 3


def test_the_playouts_play_the_stored_reply_first_when_the_policy_allows_it():
    size = 9
    scratch = np.empty(answers_capacity(size * size), np.int64)
    last = to_flat((4, 4), size)
    for reply, allowed in ((to_flat((0, 8), size), True), (last, False)):  # an empty corner; the occupied last move
        seen = set()
        for seed in range(20):
            fb = FastBoard(size).setup(board(size, white=[(4, 4)]), BLACK, last=last)
            policy = policy_tables(size, True, True, last_good_reply=True)
            policy[5][BLACK, last] = reply
            seen.add(step(new_rng(seed), policy, scratch, fb.nbr, fb.diag, fb.ndiag, *fb.arrays()))
            assert fb.st[LAST] in seen and fb.board[fb.st[LAST]] == BLACK
        assert (seen == {reply}) == allowed  # the random part plays something else each seed
    off = policy_tables(size, True, True)
    assert not off[4] and (off[5] == -1).all() and off[5] is not policy_tables(size)[5]  # a fresh table a call


def test_a_search_with_last_good_reply_fills_its_table_follows_the_rules_and_still_captures():
    # the capture of test_the_tree_captures_a_big_group_in_atari... (light playouts: with MoGo's, every move
    # here wins nearly all its playouts, since they capture at once) with the replies learnt over the search
    game = capture_game()
    points = candidates(game.position, BLACK)
    search = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig(last_good_reply=True))
    assert search.run(600) == 600
    replies = search.policy[5]
    assert (replies[1:] >= 0).sum() > 20 and (replies[0] == -1).all()  # rows by colour: 1 Black, 2 White
    assert int(search.root.points[np.argmax(search.root.n)]) == to_flat((4, 6), 9)
    plain = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig())
    plain.run(600)
    assert (plain.policy[5] == -1).all()  # off: the table stays empty
    # playouts from the learnt table follow the rules engine move by move (as the differential test above)
    scratch = np.empty(answers_capacity(81), np.int64)
    for seed in range(6):
        fb = FastBoard(9).setup(game.position.stones, BLACK)
        pos, rng = game.position, new_rng(seed)
        while not over(fb.st, 81):
            colour = int(fb.st[COLOUR])
            p = step(rng, search.policy, scratch, fb.nbr, fb.diag, fb.ndiag, *fb.arrays())
            try:
                pos = pos.play(PASS if p < 0 else from_flat(p, 9), colour)
            except IllegalMove as e:
                assert e.reason == "superko", e
                break
            assert bytes(fb.board.astype(np.uint8)) == pos.stones


def test_the_edge_rule_drops_low_moves_in_empty_areas_only():
    empty = bytes(81)
    kept = quiet_edge_moves(empty, 9, list(range(81)))
    assert kept == [r * 9 + c for r in range(2, 7) for c in range(2, 7)]  # the 5x5 centre of lines 3-5
    near = board(9, black=[(2, 2)])  # a stone on the 3-3 point: low moves within distance 3 of it stay
    kept = set(quiet_edge_moves(near, 9, list(range(81))))
    assert to_flat((0, 2), 9) in kept and to_flat((1, 4), 9) in kept and to_flat((0, 8), 9) not in kept
    assert quiet_edge_moves(empty, 9, [0, 1, 9]) == [0, 1, 9]  # nothing else: all stay
    assert quiet_edge_moves(bytes(25), 5, [0, 1]) == [0, 1]  # small boards: left alone


def test_the_tree_captures_a_big_group_in_atari_and_its_visits_are_its_simulations():
    game = capture_game()
    cfg = MonteCarloConfig(playouts=300, search="tree", stop_early=False)
    a = MonteCarloPlayer(cfg).analyze(game, BLACK)
    assert a.move == (4, 6)
    assert a.visits.sum() == 300 and a.visits[-1] == 0  # one root visit a simulation; pass is not a tree move
    played = to_flat(a.move, 9)
    assert a.visits[played] == a.visits.max() and a.winrate == a.move_winrates[played] > 0.9
    # each move tried has its line from the tree (the move, then the most visited answers), for lz-analyze's pv
    assert set(a.pvs) == set(np.flatnonzero(a.visits)) and a.pvs[played][0] == played and len(a.pvs[played]) >= 2
    assert MonteCarloPlayer(cfg).analyze(game, BLACK).move == a.move  # seeded by the board


def test_a_line_goes_on_only_through_a_clear_favourite_of_its_node():
    # Below a node, the first simulations try moves in board order: a move tried once, or tied with another,
    # was not chosen by the search, and argmax would name the first in board order (Lizzie showed lines ending
    # on A9, D9, ...). Every move after a line's first is its node's unique most simulated, at least twice.
    from engine.mc_tree import MIN_PV_VISITS, variation_with_visits

    position = Game(9).position
    search = TreeSearch(position, BLACK, 7.0, [int(p) for p in np.flatnonzero(position.legal_mask(BLACK)[:-1])],
                        TreeConfig(), seed=1, tactical=True, patterns=True)
    search.run(3000)
    root = search.root
    ends = []
    for i in np.flatnonzero(root.n):
        line, through = variation_with_visits(root, int(i))
        m = int(search.t_child[root.m, line[0]]) - 1
        for p, v in zip(line[1:], through[1:]):
            row = search.t_n[m]
            assert v == row[p] == row.max() >= MIN_PV_VISITS and np.count_nonzero(row == v) == 1
            m = int(search.t_child[m, p]) - 1
        if m >= 0 and search.t_n[m].max() > 0:  # the line stopped where the node has simulations: why
            row = search.t_n[m]
            assert row.max() < MIN_PV_VISITS or np.count_nonzero(row == row.max()) > 1
            ends.append(line)
    assert ends and max(len(line) for line in ends) >= 3


def test_root_parallel_trees_share_the_budget_and_sum_their_roots_whatever_the_threads_timing():
    from dataclasses import replace

    from engine.mc_player import THREAD_SEED_STEP
    from engine.mc_tree import _run

    assert _run.targetoptions.get("nogil")  # else the threads would take turns, not share the cores
    game = capture_game()
    cfg = MonteCarloConfig(playouts=600, search="tree", stop_early=False, threads=2)  # light playouts: see above
    a = MonteCarloPlayer(cfg).analyze(game, BLACK)
    assert a.move == (4, 6) and a.visits.sum() == 600
    # tree i is the single tree seeded seed + i * THREAD_SEED_STEP on its share: the sum is exactly theirs,
    # so two runs give the same analysis however the threads interleaved
    one = [MonteCarloPlayer(replace(cfg, threads=1, playouts=300, seed=i * THREAD_SEED_STEP)).analyze(game, BLACK)
           for i in range(2)]
    assert (a.visits == one[0].visits + one[1].visits).all()
    assert not (one[0].visits == one[1].visits).all()  # seeded apart: two different trees
    again = MonteCarloPlayer(cfg).analyze(game, BLACK)
    assert (again.visits == a.visits).all() and again.pvs == a.pvs
    played = to_flat(a.move, 9)
    assert a.pvs[played][0] == played and len(a.pvs[played]) >= 2  # the line from the tree that visited it most
    assert a.winrate == a.move_winrates[played] > 0.9
    # an odd budget is rounded up to a whole share a tree
    assert MonteCarloPlayer(replace(cfg, playouts=601)).analyze(game, BLACK).visits.sum() == 602


def test_the_tree_grows_below_the_root_and_credits_rave_to_the_movers_points():
    game = Game(9, 7.0)
    points = candidates(game.position, BLACK)
    search = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig())  # the edge rule leaves the 5x5 centre
    assert search.run(400) == 400
    root = search.root
    assert root.total == 400 and root.n.sum() == 400 and len(root.points) == 25
    assert root.children and all(child.colour == WHITE for child in root.children.values())
    # a child is made on its move's second visit, which then plays out at random: it saw every later one
    for i, child in root.children.items():
        assert root.n[i] >= 2 and child.total == root.n[i] - 2
    # every root move gets RAVE credit from most simulations (Black plays it first in about half the playouts)
    assert np.all(root.rave_n - TreeConfig().rave_prior > 100)
    assert np.all((root.wins >= 0) & (root.wins <= root.n))


def test_the_early_stop_keeps_the_full_budgets_move_and_batches_change_nothing():
    # the capture position above: (4,6) takes six stones and soon leads by more than the simulations left
    game = capture_game()
    points = candidates(game.position, BLACK)

    def search(simulations: int, **kw) -> tuple[TreeSearch, int]:
        s = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig())
        return s, s.run(simulations, **kw)

    full, ran = search(3000)  # one call of the compiled loop
    batched, ran_b = search(3000, deadline=time.monotonic() + 600)  # batches between clock reads
    assert ran == ran_b == 3000 and np.array_equal(batched.t_n, full.t_n)  # the same simulations
    early, ran_e = search(3000, stop_early=True)
    assert ran_e < 3000  # it stopped: its leader could not be caught
    n = np.sort(early.root.n)
    assert n[-1] - n[-2] > 3000 - ran_e and early.decided(3000 - ran_e) and not early.decided(ran_e)
    assert early.root.points[np.argmax(early.root.n)] == full.root.points[np.argmax(full.root.n)] == to_flat((4, 6), 9)
    prefix, _ = search(ran_e)  # stopping cut the tail only: its simulations are the full run's first ones
    assert np.array_equal(prefix.t_n, early.t_n)


def test_under_a_deadline_the_early_stop_counts_the_simulations_that_fit_before_it():
    assert TreeSearch._left(5000, 100, 0.0, None, 0.0) == 5000  # no clock: the budget's count
    # 1,000 simulations in 0.5 s, 0.25 s left: ~500 more fit, fewer than the 90,000 the count allows
    assert TreeSearch._left(90_000, 1000, 0.5, 10.25, 10.0) == 501
    assert TreeSearch._left(300, 1000, 0.5, 10.25, 10.0) == 300
    assert TreeSearch._left(90_000, 1000, 0.5, 9.0, 10.0) == 1  # past the deadline
    # the capture position: with a budget far beyond what 3 s hold, the leader's margin soon exceeds what the
    # rest of the time can give the others, so the search stops well before its deadline (~60 % of it here), on the capture
    game = capture_game()
    s = TreeSearch(game.position, BLACK, 7.0, candidates(game.position, BLACK), TreeConfig())
    s.run(64)  # compiled and warm: the rate below is the search's, not the compiler's
    started = time.monotonic()
    ran = s.run(10_000_000, deadline=started + 3.0, stop_early=True)
    took = time.monotonic() - started
    assert took < 2.6 and ran < 10_000_000
    assert s.root.points[np.argmax(s.root.n)] == to_flat((4, 6), 9)


def test_a_deadline_leaves_one_simulation():
    game = Game(13, 7.0)
    started = time.monotonic()
    a = MonteCarloPlayer(MonteCarloConfig(playouts=100_000, search="tree")).analyze(game, BLACK, deadline=started)
    assert a.visits.sum() == 1 and game.position.is_legal(a.move)
    assert time.monotonic() - started < 5


def _tree_depth(search: TreeSearch) -> int:
    """Moves on the longest path from the root through made nodes."""
    deepest, stack = 0, [(0, 0)]
    while stack:
        m, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((int(search.t_child[m, p]) - 1, d + 1) for p in np.flatnonzero(search.t_child[m]))
    return deepest


def test_on_a_tiny_board_the_walk_down_the_tree_stops_at_the_games_move_cap():
    # On 2x2 captures and retakes never end, so the tree grew without bound: 19 moves deep after 60,000
    # simulations (session 41), past the simulation's path buffers (3*A + 8 = 20), and numba's unchecked
    # writes there corrupted the heap (GTP on boardsize 2 aborted: "corrupted size vs. prev_size"). The walk
    # now stops at the playouts' cap of 3*A moves, as a playout does.
    position = Position(2)
    search = TreeSearch(position, BLACK, 7.0, candidates(position, BLACK), TreeConfig(), max_nodes=100_000)
    assert search.run(60_000) == 60_000
    assert search.nodes > 1_000
    assert _tree_depth(search) <= 3 * 4 < len(search.path_node)
    # and whole games on 2x2 and 3x3 through the player end without a fault
    for size in (2, 3):
        game, player = Game(size, 0.5), MonteCarloPlayer(MonteCarloConfig(playouts=20_000, patterns=True, tactical=True))
        while not game.is_over() and game.move_number < 60:
            game.play(player.genmove(game, game.to_play))
        assert game.move_number > 2


def test_bad_tree_settings_are_refused():
    with pytest.raises(ValueError):
        MonteCarloConfig(search="uct")
    with pytest.raises(ValueError):
        TreeConfig(margin_weight=0.7)
    with pytest.raises(ValueError, match="threads"):
        MonteCarloConfig(threads=0)
    for other in ({"search": "flat"}, {"replies": 4}):  # root parallelism is the tree's, with the root's prior only
        with pytest.raises(ValueError, match="threads"):
            MonteCarloConfig(threads=2, **other)


def test_the_tactical_setting_reaches_the_tree_playouts(monkeypatch):
    import engine.mc_player as mc_player

    seen = []
    real = TreeSearch

    def recording(*args, **kwargs):
        seen.append((kwargs["tactical"], kwargs["patterns"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(mc_player, "TreeSearch", recording)
    game = Game(7, 7.0)
    for tactical, patterns in ((True, False), (False, False), (False, True), (True, True)):
        seen.clear()
        cfg = MonteCarloConfig(playouts=20, search="tree", tactical=tactical, patterns=patterns)
        a = MonteCarloPlayer(cfg).analyze(game, BLACK)
        assert seen == [(tactical, patterns)] and a.visits.sum() == 20


def test_the_prior_term_holds_the_priors_move_at_the_root_and_nothing_without_weight():
    game = Game(9, 7.0)
    points = candidates(game.position, BLACK)
    prior = np.zeros(82)
    prior[to_flat((2, 2), 9)], prior[81] = 0.9, 0.1  # C7, a 3-3 point the plain search does not favour

    def visits(weight, p):
        search = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig(prior_weight=weight), prior=p)
        search.run(300)
        root = search.root
        return dict(zip(root.points.tolist(), root.n.tolist()))

    plain, unweighted, steered = visits(0.0, None), visits(0.0, prior), visits(1.0, prior)
    assert unweighted == plain  # weight 0: the prior changes nothing
    c7 = to_flat((2, 2), 9)
    assert plain[c7] < max(plain.values()) and steered[c7] == max(steered.values()) > 3 * plain[c7]
    with pytest.raises(ValueError):
        TreeConfig(prior_weight=-1.0)


def test_the_network_steered_search_reads_the_networks_moves_and_keeps_its_reading():
    from models.steered_mc import SteeredPlayer, steered_config, steered_mc

    player = steered_mc(playouts=300, weight=2.0)
    assert isinstance(player, SteeredPlayer) and player.cfg == steered_config(300, 2.0)
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    net = player.network.analyze_many([(game, WHITE)])[0]
    a = player.analyze_many([(game, WHITE)])[0]
    assert game.position.is_legal(a.move) and a.move is not PASS and a.visits.sum() == 300
    # the network's reading is reported unchanged; the move, visits and winrate are the search's
    assert a.raw_move == net.raw_move and a.z_codes == net.z_codes and np.array_equal(a.imagined_board, net.imagined_board)
    # the moves the network proposes (its answers to E5 come in mirror-image sets) get most of the steered
    # search's visits, far more than the plain search gives them
    proposed = net.legal_probs >= 0.05
    plain = MonteCarloPlayer(steered_config(300, 0.0)).analyze(game, WHITE)
    assert a.visits[proposed].sum() > 0.5 * 300 and a.visits[proposed].sum() > 2 * plain.visits[proposed].sum()


def test_a_prior_set_below_the_root_steers_that_node_and_no_other():
    game = Game(9, 7.0)
    points = candidates(game.position, BLACK)
    e5, c3 = to_flat((4, 4), 9), to_flat((6, 2), 9)
    prior = np.zeros(82)
    prior[e5] = 1.0  # Black must play E5: all simulations go through its node

    def after(weight, reply_prior):
        search = TreeSearch(game.position, BLACK, 7.0, points, TreeConfig(prior_weight=weight), prior=prior)
        search.run(100)
        m = search.child(e5)
        assert m > 0 and search.child(to_flat((0, 0), 9)) == -1  # E5 has a node; A9 was never tried twice
        if reply_prior is not None:
            search.set_prior(m, reply_prior)
        search.run(1000)
        node = NodeView(search, m)
        return search, dict(zip(node.points.tolist(), node.n.tolist()))

    reply = np.zeros(82)
    reply[c3] = 1.0  # White's answer C3, a 3-3 point under the E5 stone's diagonal
    _, plain = after(100.0, None)
    search, steered = after(100.0, reply)
    assert plain[c3] < max(plain.values()) and steered[c3] == max(steered.values()) > 3 * plain[c3]
    # the root's own prior row is untouched, and setting a node's prior again replaces its row
    assert search.priors.shape == (2, 81) and search.priors[0, e5] == 100.0 and search.priors[1, c3] == 100.0
    assert np.flatnonzero(search.t_prior[:search.nodes]).tolist() == [0, search.child(e5)]  # no other node has one
    search.set_prior(search.child(e5), np.full(81, 1 / 81))
    assert search.priors.shape == (2, 81) and np.allclose(search.priors[1], 100.0 / 81)
    with pytest.raises(ValueError, match="no node"):
        search.set_prior(search.nodes, reply)


def test_the_player_reads_the_replies_to_its_most_visited_root_moves_once_and_steers_them():
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    calls = []

    def reader(points):
        calls.append(list(points))
        out = []
        for p in points:
            d = np.zeros(82)
            d[to_flat((2, 2), 9)] = 1.0  # every reply read is "play C7"
            out.append(d)
        return out

    cfg = MonteCarloConfig(playouts=800, search="tree", tree=TreeConfig(prior_weight=2.0), replies=3, stop_early=False)
    player = MonteCarloPlayer(cfg)
    seen = {}
    real_read = player._read_replies

    def spy(search, replies):  # the search as it stands when the replies are read
        seen["visits"] = search.t_n[0].copy()
        real_read(search, replies)
        seen["search"] = search
    player._read_replies = spy
    a = player.analyze(game, WHITE, replies=reader)
    assert len(calls) == 1 and len(calls[0]) == 3 and a.visits.sum() == 800
    # the three most visited root moves after a quarter of the budget, in order of visits
    assert sorted(seen["visits"][calls[0]].tolist(), reverse=True) == sorted(seen["visits"], reverse=True)[:3]
    search = seen["search"]
    for p in calls[0]:
        m = search.child(p)
        assert m > 0 and search.t_prior[m] > 0 and search.priors[search.t_prior[m] - 1, to_flat((2, 2), 9)] == 2.0
    # without a reader, or with replies=0, nothing is read and the search is the plain one
    plain = MonteCarloPlayer(MonteCarloConfig(playouts=800, search="tree", tree=TreeConfig(prior_weight=2.0),
                                              stop_early=False)).analyze(game, WHITE)
    off = MonteCarloPlayer(MonteCarloConfig(playouts=800, search="tree", tree=TreeConfig(prior_weight=2.0), replies=0,
                                            stop_early=False)).analyze(game, WHITE, replies=reader)
    assert len(calls) == 1 and np.array_equal(plain.visits, off.visits)
    with pytest.raises(ValueError, match="replies"):
        MonteCarloConfig(replies=-1)
    with pytest.raises(ValueError, match="reply_split"):
        MonteCarloConfig(reply_split=1.0)


def test_the_network_reads_the_opponents_replies_after_each_root_move():
    from models.steered_mc import steered_mc

    player = steered_mc(playouts=400, weight=2.0, replies=4, reply_views=2)
    assert player.cfg.replies == 4 and player.reply_network.symmetries == 2
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    read = player._replies(game, WHITE)
    c7, d6 = to_flat((2, 2), 9), to_flat((3, 3), 9)
    dists = read([c7, d6])
    assert len(dists) == 2 and len(game.moves) == 1  # the game itself is not touched
    for p, d in zip((c7, d6), dists):
        after = Game(9, 7.0)
        after.play((4, 4), BLACK)
        after.play(from_flat(p, 9), WHITE)
        expected = player.reply_network.analyze_many([(after, BLACK)])[0].legal_probs
        assert d[p] == 0.0 and abs(d.sum() - 1.0) < 1e-6 and np.allclose(d, expected)  # Black's move after White's p
    a = player.analyze_many([(game, WHITE)])[0]
    assert game.position.is_legal(a.move) and a.visits.sum() <= 400
