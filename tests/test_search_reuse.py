"""The tree search keeps what it saw: the subtree of the moves played since the last search starts
the next one, and the positions below the root can go to a cheaper analyzer (engine/search.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_search import ToyAnalyzer, capture_game

from engine.coords import BLACK, PASS, WHITE, from_flat, to_flat
from engine.game import Game
from engine.search import MAX_REUSE_DEPTH, Node, SearchConfig, SearchPlayer, descendant, with_search

QUIET = to_flat((4, 4), 5)


def visited_reply(player: SearchPlayer, move: int) -> tuple[int, Node]:
    """White's most visited answer to Black's ``move`` in the last kept tree, and the node it leads to."""
    after = player._trees[-1].children[move]
    assert after.n is not None and after.n.sum() > 0
    reply = int(np.argmax(after.n))
    return reply, after.children[reply]


def test_the_next_search_starts_from_the_subtree_of_the_moves_played() -> None:
    game = capture_game()
    analyzer = ToyAnalyzer(favourite=QUIET)
    player = SearchPlayer(analyzer, SearchConfig(visits=120, batch=4))
    first = player.analyze_many([(game, BLACK)])[0]
    move = to_flat(first.move, 5)
    reply, node = visited_reply(player, move)
    seen = node.n.sum()
    assert seen > 0  # the tree looked past White's answer
    # the caller's game goes on (GTP plays into the same object): the tree kept a copy of its own
    game.play(first.move, BLACK)
    game.play(from_flat(reply, 5), WHITE)
    assert len(player._trees[-1].game.moves) == 0
    analyzer.positions = 0
    second = player.analyze_many([(game, BLACK)])[0]
    # 120 new evaluations on top of what the subtree had; its root is not evaluated again
    assert second.visits.sum() == seen + 120
    assert analyzer.positions <= 120
    assert game.position.is_legal(second.move, BLACK)


def test_no_reuse_for_another_game_an_undo_or_when_switched_off() -> None:
    analyzer = ToyAnalyzer(favourite=QUIET)
    player = SearchPlayer(analyzer, SearchConfig(visits=60, batch=4))
    game = capture_game()
    first = player.analyze_many([(game, BLACK)])[0]
    root = player._trees[-1]
    # the same position asked again (an analysis, then genmove): the tree grows
    assert player.analyze_many([(game, BLACK)])[0].visits.sum() == first.visits.sum() + 60
    assert player._trees == [root]
    # another komi, another first position, or a game behind the tree's: fresh searches
    for other in (Game(size=5, komi=7.5, positions=list(game.positions)), Game(size=5)):
        assert descendant(root, other) is None
    behind = capture_game()
    behind.play(first.move, BLACK)
    reply, _ = visited_reply(player, to_flat(first.move, 5))
    behind.play(from_flat(reply, 5), WHITE)
    player.analyze_many([(behind, BLACK)])
    behind.undo()
    behind.undo()  # back to the first position: the kept tree (two moves on) cannot serve it
    assert player.analyze_many([(behind, BLACK)])[0].visits.sum() == 59
    # a move the tree never looked at, or too many moves on
    unseen = capture_game()
    unseen.play(PASS, BLACK)  # the toy's prior never allows a pass
    assert descendant(root, unseen) is None
    far = capture_game()
    for _ in range(MAX_REUSE_DEPTH + 1):
        far.play(from_flat(int(np.flatnonzero(far.position.legal_mask(far.to_play)[:-1])[0]), 5))
    assert descendant(root, far) is None
    # switched off: every search is fresh
    plain = SearchPlayer(ToyAnalyzer(favourite=QUIET), SearchConfig(visits=60, batch=4, reuse=False))
    for _ in range(2):
        assert plain.analyze_many([(game, BLACK)])[0].visits.sum() == 59
    assert plain._trees == []


def test_games_in_flight_keep_their_own_trees() -> None:
    """A server's batcher mixes games: each one's next move reuses its own tree."""
    player = SearchPlayer(ToyAnalyzer(favourite=QUIET), SearchConfig(visits=40, batch=4))
    games = [capture_game(), Game(size=5, komi=0.5)]
    firsts = player.analyze_many([(g, BLACK) for g in games])
    assert len(player._trees) == 2
    seen = []
    for game, tree, first in zip(games, list(player._trees), firsts):
        after = tree.children[to_flat(first.move, 5)]
        reply = int(np.argmax(after.n))
        seen.append(after.children[reply].n.sum())
        game.play(first.move, BLACK)
        game.play(from_flat(reply, 5), WHITE)
    out = player.analyze_many([(g, BLACK) for g in games])
    assert [x.visits.sum() for x in out] == [s + 40 for s in seen]


def test_leaves_go_to_the_leaf_analyzer_and_a_reused_root_gets_the_root_prior() -> None:
    game = capture_game()
    root_an, leaf_an = ToyAnalyzer(favourite=QUIET), ToyAnalyzer(favourite=QUIET, share=0.9)
    player = SearchPlayer(root_an, SearchConfig(visits=80, batch=4), leaf_analyzer=leaf_an)
    first = player.analyze_many([(game, BLACK)])[0]
    assert root_an.positions == 1 and 1 <= leaf_an.positions <= 79
    reply, node = visited_reply(player, to_flat(first.move, 5))
    assert not node.by_root_analyzer and node.n.sum() > 0
    game.play(first.move, BLACK)
    game.play(from_flat(reply, 5), WHITE)
    second = player.analyze_many([(game, BLACK)])[0]
    assert root_an.positions == 2  # the reused root, judged again by the root analyzer
    np.testing.assert_allclose(second.probs, root_an._one(game, BLACK).probs)


def test_a_new_prior_drops_the_visits_of_moves_it_no_longer_allows() -> None:
    game = capture_game()
    wide, narrow = ToyAnalyzer(favourite=QUIET, share=0.5), ToyAnalyzer(favourite=QUIET, share=1.0)
    node = Node(game, BLACK)
    node.expand(wide.analyze_many([(game, BLACK)])[0], by_root_analyzer=False)
    other = int(next(p for p in node.legal if p != QUIET))
    node.n[[QUIET, other]] = (3, 2)
    node.w[[QUIET, other]] = (2.0, 1.0)
    node.child(other)
    node.reprior(narrow.analyze_many([(game, BLACK)])[0])  # all the mass on QUIET: ``other`` is not playable
    assert node.by_root_analyzer and list(node.legal) == [QUIET]
    assert (node.n[QUIET], node.w[QUIET], node.n[other]) == (3, 2.0, 0) and other not in node.children


def test_with_search_asks_the_analyzer_for_fewer_views_and_branches_below_the_root(tiny_bundle) -> None:
    from test_gtp_engine import gtp_model

    from models.player import NeuralPlayer

    plain = with_search(ToyAnalyzer(favourite=QUIET), SearchConfig(visits=8, leaf_symmetries=2))
    assert plain.leaf_analyzer is plain.analyzer  # no variant(): the analyzer as it is
    with gtp_model("neural", 0, str(tiny_bundle), symmetries=8, branches=4, visits=10, leaf_symmetries=2,
                   leaf_branches=1) as model:
        assert isinstance(model.leaf_analyzer, NeuralPlayer) and model.leaf_analyzer.bundle is model.analyzer.bundle
        assert (model.analyzer.symmetries, model.analyzer.top_k) == (8, 4)  # the root's: a broad prior
        assert (model.leaf_analyzer.symmetries, model.leaf_analyzer.top_k) == (2, 1)
        game = Game(size=9)
        a = model.analyze_many([(game, BLACK)])[0]
        assert a.visits.sum() == 9 and game.position.is_legal(a.move, BLACK)
    for bad in ({"symmetries": 3}, {"top_k": 0}):
        with pytest.raises(ValueError):
            model.analyzer.variant(**bad)
    assert model.analyzer.variant(top_k=2).symmetries == 8  # what is not given stays
