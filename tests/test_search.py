"""The PUCT search (engine/search.py) over a toy analyzer: a prior that prefers a quiet move,
a value that counts stones, so only looking ahead finds the capture."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis import Analysis
from engine.board import from_ascii
from engine.coords import BLACK, PASS, WHITE, from_flat, opponent, to_flat
from engine.game import Game
from engine.player import Player
from engine.search import Node, SearchConfig, SearchPlayer, terminal_value

# Black to move; the three White stones at C3-C4-D3... have one liberty left at D4 (capture there)
CAPTURE = """
. . . . .
. X X . .
X O O X .
X O . X .
. X X . .
"""


class ToyAnalyzer:
    """Prior: ``favourite`` gets ``share`` of the mass, the other legal moves share the rest (pass never);
    winrate: a logistic of the mover's stone lead, steepest at a lead of 8 (Black leads by 6 in
    CAPTURE, 7 after a quiet move, 10 after the capture). Counts its calls and positions."""

    name = "toy"

    def __init__(self, favourite: int, share: float = 0.5) -> None:
        self.favourite, self.share, self.calls, self.positions = favourite, share, 0, 0

    def analyze_many(self, requests, cleanup: bool = False, move_winrates: int = 0) -> list[Analysis]:
        self.calls += 1
        self.positions += len(requests)
        return [self._one(g, c) for g, c in requests]

    def genmove(self, game: Game, color: int, *, cleanup: bool = False):
        return self._one(game, color).move

    def _one(self, game: Game, color: int) -> Analysis:
        pos = game.position
        legal = pos.legal_mask(color).astype(np.float64)
        legal[-1] = 0.0
        probs = np.zeros_like(legal)
        if legal.sum() == 0:
            probs[-1] = 1.0
        else:
            probs = (1 - self.share) * legal / legal.sum()
            fav = self.favourite if legal[self.favourite] else int(np.flatnonzero(legal)[0])
            probs[fav] += self.share
        stones = np.frombuffer(pos.stones, np.uint8)
        lead = int((stones == color).sum()) - int((stones == opponent(color)).sum())
        winrate = 1.0 / (1.0 + math.exp(-0.5 * (abs(lead) - 8) * np.sign(lead)))  # steep around a lead of 8
        move = from_flat(int(np.argmax(probs)), game.size)
        return Analysis(probs=probs, legal_probs=probs, raw_move=move, raw_legal=True, move=move, winrate=winrate,
                        z_codes=[], imagined_board=pos.array(), imagined_frame=None)


def capture_game() -> Game:
    return Game(size=5, komi=0.5, positions=[from_ascii(CAPTURE, to_play=BLACK)])


def test_the_search_finds_the_capture_the_prior_does_not_rank_first() -> None:
    game = capture_game()
    # the capturing point, found by the rules: the one move after which White has fewer stones
    before = np.frombuffer(game.position.stones, np.uint8)
    captures = [p for p in np.flatnonzero(game.position.legal_mask(BLACK)[:-1])
                if (np.frombuffer(game.position.play(from_flat(int(p), 5), BLACK).stones, np.uint8) == WHITE).sum()
                < (before == WHITE).sum()]
    assert len(captures) == 1
    capture = int(captures[0])
    quiet = to_flat((4, 4), 5)  # a far corner the prior prefers
    analyzer = ToyAnalyzer(favourite=quiet)
    assert analyzer.genmove(game, BLACK) == from_flat(quiet, 5)  # the network alone plays the corner
    player = SearchPlayer(analyzer, SearchConfig(visits=200, batch=4))
    a = player.analyze_many([(game, BLACK)])[0]
    assert a.move == from_flat(capture, 5)
    assert isinstance(player, Player)
    # the analysis reports the search: visits add up, winrates of visited moves, the root prior unchanged
    assert a.visits is not None and a.visits.sum() == 199  # every visit but the root's own evaluation
    assert a.visits[capture] == a.visits.max()
    assert a.move_winrates[capture] > a.move_winrates[quiet]
    assert np.isnan(a.move_winrates[a.visits == 0]).all()
    np.testing.assert_allclose(a.probs, analyzer._one(game, BLACK).probs)
    # batched: 199 leaf evaluations in calls of <= 4 positions (fewer when two paths end at one leaf)
    assert analyzer.positions <= 200 and analyzer.calls >= 1 + 199 // 4


def test_one_visit_or_cleanup_is_the_network_alone() -> None:
    game = capture_game()
    quiet = to_flat((4, 4), 5)
    analyzer = ToyAnalyzer(favourite=quiet)
    assert SearchPlayer(analyzer, SearchConfig(visits=1)).genmove(game, BLACK) == from_flat(quiet, 5)
    analyzer.calls = 0
    assert SearchPlayer(analyzer, SearchConfig(visits=50)).genmove(game, BLACK, cleanup=True) == from_flat(quiet, 5)
    assert analyzer.calls == 1
    with pytest.raises(ValueError):
        SearchPlayer(analyzer, SearchConfig(visits=0))


def test_terminal_values_follow_the_area_score() -> None:
    game = capture_game()  # Black 9 stones, White 3, komi 0.5: Black ahead by area
    game.play(PASS, BLACK)
    game.play(PASS, WHITE)
    assert game.is_over() and game.score() > 0
    assert terminal_value(game, BLACK) == 1.0 and terminal_value(game, WHITE) == 0.0
    node = Node(game, BLACK)
    assert node.terminal and node.expanded and node.value == 1.0
    draw = Game(size=5, komi=0.0)
    draw.play(PASS, BLACK)
    draw.play(PASS, WHITE)
    assert terminal_value(draw, BLACK) == 0.5
    resigned = capture_game()
    resigned.resigned = WHITE
    assert terminal_value(resigned, BLACK) == 1.0 and terminal_value(resigned, WHITE) == 0.0


def test_virtual_loss_spreads_a_batch_and_collisions_are_not_counted() -> None:
    game = capture_game()
    analyzer = ToyAnalyzer(favourite=to_flat((4, 4), 5), share=0.2)
    player = SearchPlayer(analyzer, SearchConfig(visits=9, batch=8))
    root = Node(game, BLACK)
    root.expand(analyzer.analyze_many([(game, BLACK)])[0])
    paths = [player._descend(root) for _ in range(8)]
    assert len({id(p[-1][0]) for p in paths}) >= 5  # (collisions, undone in a real search, may remain)
    for p in paths:
        player._backup(p)
    assert root.n.sum() == 8  # virtual visits replaced by real ones
    # without virtual loss every path of a batch follows the favourite to the same leaf
    plain = SearchPlayer(analyzer, SearchConfig(visits=9, batch=8, virtual_loss=0.0))
    root = Node(game, BLACK)
    root.expand(analyzer.analyze_many([(game, BLACK)])[0])
    assert len({id(plain._descend(root)[-1][0]) for _ in range(8)}) == 1
    # ... and a search like that still counts each visit once: a collision is undone, not evaluated twice
    analyzer.positions = 0
    a = plain.analyze_many([(game, BLACK)])[0]
    assert a.visits.sum() == 8 and analyzer.positions == 9


def test_gtp_analysis_reports_the_search_as_sabaki_reads_it() -> None:
    from test_gtp_analyze import parse_sabaki, run

    from gtp.engine import GtpEngine

    player = SearchPlayer(ToyAnalyzer(favourite=to_flat((4, 4), 5)), SearchConfig(visits=200, batch=4))
    engine = GtpEngine(capture_game, player)
    engine.game = capture_game()
    out = run(engine, "1 kata-analyze B 0 maxmoves 5\n")
    assert out.startswith("=1\n") and out.endswith("\n\n")
    infos = parse_sabaki(out.splitlines()[1])
    assert 2 <= len(infos) <= 5
    visits = [i["visits"] for i in infos]
    assert visits == sorted(visits, reverse=True) and sum(visits) <= 199
    assert infos[0]["move"] == "C2"  # the capture (the one liberty of the White stones)
    assert infos[0]["winrate"] > infos[1]["winrate"]
    assert len(infos[0]["pv"]) >= 2 and infos[0]["pv"][0] == "C2"  # the search's line, not the move alone
    assert run(engine, "2 genmove b\n") == "=2 C2\n\n"


def test_gtp_visits_option_is_checked_and_puts_the_search_around_the_neural_player(tiny_bundle) -> None:
    from test_gtp_engine import gtp_model, gtp_process

    from engine.search import search_config
    from models.player import NeuralPlayer

    for bad in ("0", "x"):
        proc = gtp_process("--player", "neural", "--weights", str(tiny_bundle), "--visits", bad)
        out, err = proc.communicate(b"name\n", timeout=60)
        assert proc.returncode == 2 and b"--visits" in err and out == b""
    with gtp_model("neural", 0, str(tiny_bundle), visits=6, c_puct=0.8) as model:
        assert isinstance(model, SearchPlayer) and isinstance(model.analyzer, NeuralPlayer)
        assert (model.cfg.visits, model.cfg.c_puct) == (6, 0.8)
        game = Game(size=9)
        a = model.analyze_many([(game, BLACK)])[0]
        assert a.visits.sum() == 5 and game.position.is_legal(a.move, BLACK)
        assert to_flat(a.move, 9) == int(np.lexsort((a.playable, a.visits))[-1])  # the most visited move
    with gtp_model("neural", 0, str(tiny_bundle)) as plain:  # the tiny bundle's manifest names no search
        assert isinstance(plain, NeuralPlayer)  # one visit: no search wrapper
    # a bundle's tuned search is the default; the command line overrides it
    assert search_config({"visits": 48, "c_puct": 0.8}, None, None) == SearchConfig(visits=48, c_puct=0.8)
    assert search_config({"visits": 48, "c_puct": 0.8}, 1, None) == SearchConfig(visits=1, c_puct=0.8)
    assert search_config({}, None, 2.0) == SearchConfig(visits=1, c_puct=2.0)
    assert search_config({"visits": 48, "leaf_symmetries": 2}, None, None).leaf_symmetries == 2
    assert search_config({"visits": 48, "leaf_symmetries": 2}, None, None, 8).leaf_symmetries == 8
    assert search_config({"visits": 48, "leaf_branches": 1}, None, None).leaf_branches == 1
    assert search_config({"visits": 48, "tactics": 0.25}, None, None).tactics == 0.25
    assert search_config({"visits": 48, "tactics": 0.25}, None, None, tactics=0.0).tactics == 0.0
    for bad in ("1", "-0.1", "x"):
        proc = gtp_process("--player", "neural", "--weights", str(tiny_bundle), "--visits", "4", "--tactics", bad)
        out, err = proc.communicate(b"name\n", timeout=60)
        assert proc.returncode == 2 and b"--tactics" in err and out == b""
    with gtp_model("neural", 0, str(tiny_bundle), visits=6, tactics=0.3) as model:
        assert model.cfg.tactics == 0.3
    proc = gtp_process("--player", "neural", "--weights", str(tiny_bundle), "--playout-policy", "smart")
    out, err = proc.communicate(b"name\n", timeout=60)
    assert proc.returncode == 2 and b"--playout-policy" in err and out == b""
    with gtp_model("neural", 0, str(tiny_bundle), visits=6, playouts=4, playout_policy="tactical") as model:
        assert model.cfg.playout_policy == "tactical" and model.cfg.playouts == 4


def test_export_writes_the_tuned_search_into_the_manifest_and_gtp_plays_with_it(tiny_bundle, tmp_path) -> None:
    import argparse
    import json

    from test_gtp_engine import gtp_model

    from models.checkpoint import sha256_file
    from models.train.export import run as export_run

    out = tmp_path / "tuned"
    args = argparse.Namespace(runs=str(tmp_path / "none"), out=str(out), data_dir="data", size=9, metrics=None,
                              branches=None, symmetries=None, visits=24, c_puct=0.9, leaf_symmetries=2, leaf_branches=1,
                              branches_note="a test", base=str(tiny_bundle))
    assert export_run(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["player"]["visits"] == 24 and manifest["player"]["c_puct"] == 0.9
    assert (manifest["player"]["leaf_symmetries"], manifest["player"]["leaf_branches"]) == (2, 1)
    assert manifest["player"]["chosen_on"] == "a test"
    assert "tactics" not in manifest["player"]  # not given: not written
    args.tactics, args.out = 0.25, str(tmp_path / "tactics")
    assert export_run(args) == 0
    assert json.loads((tmp_path / "tactics" / "manifest.json").read_text())["player"]["tactics"] == 0.25
    assert sha256_file(out / "transformer.safetensors") == sha256_file(tiny_bundle / "transformer.safetensors")
    with gtp_model("neural", 0, str(out)) as model:
        assert isinstance(model, SearchPlayer) and (model.cfg.visits, model.cfg.c_puct) == (24, 0.9)
        assert (model.leaf_analyzer.symmetries, model.leaf_analyzer.top_k) == (2, 1)


def lead_winrate(position, color: int) -> float:
    """A monotone stand-in for a value model: a logistic of the mover's stone lead."""
    stones = np.frombuffer(position.stones, np.uint8)
    return 1.0 / (1.0 + math.exp(-(int((stones == color).sum()) - int((stones == opponent(color)).sum()))))


class JudgingToy(ToyAnalyzer):
    """The toy prior with ``lead_winrate`` as its value, and the value-only call the search's quiescence uses."""

    def __init__(self, favourite: int) -> None:
        super().__init__(favourite)
        self.judged = 0

    def _one(self, game: Game, color: int) -> Analysis:
        from dataclasses import replace

        return replace(super()._one(game, color), winrate=lead_winrate(game.position, color))

    def position_winrates(self, requests):
        self.judged += len(requests)
        return np.array([lead_winrate(p, c) for p, c in requests])


# Black's A1-B1 has one liberty left (C1); White's stones all have two or more
ATARI = """
. . . . .
. . . . .
. . . . .
O O . . .
X X . O .
"""


def test_capturing_moves_are_the_last_liberties_of_the_opponents_groups() -> None:
    from engine.search import capturing_moves

    game = capture_game()
    assert capturing_moves(game.position, BLACK) == [to_flat((3, 2), 5)]  # C2 in the 5x5 CAPTURE board: D4's twin
    assert capturing_moves(game.position, WHITE) == []
    atari = from_ascii(ATARI, to_play=BLACK)
    assert capturing_moves(atari, WHITE) == [to_flat((4, 2), 5)]
    assert capturing_moves(atari, BLACK) == []


def test_quiescence_judges_a_leaf_by_its_captures() -> None:
    """A leaf whose side to move can capture is worth the better of standing and capturing; without
    captures, or without a value-only judge, a leaf keeps the model's value."""
    from engine.search import Node, capturing_moves

    quiet = to_flat((0, 4), 5)
    toy = JudgingToy(quiet)
    player = SearchPlayer(toy, SearchConfig(visits=8, quiescence=1, reuse=False))
    leaf = Node(Game(size=5, komi=0.5, positions=[from_ascii(ATARI, to_play=WHITE)]), WHITE)  # White to move
    leaf.expand(toy._one(leaf.game, WHITE))
    stand = leaf.value
    after = leaf.game.position.play(from_flat(capturing_moves(leaf.game.position, WHITE)[0], 5), WHITE)
    want = 1.0 - toy._one(Game(size=5, positions=[after]), BLACK).winrate
    player._quiesce([leaf])
    assert want > stand and leaf.value == pytest.approx(want)
    calm = Node(Game(size=5, komi=0.5, positions=[from_ascii(ATARI, to_play=BLACK)]), BLACK)  # Black cannot capture
    calm.expand(toy._one(calm.game, BLACK))
    before = calm.value
    player._quiesce([calm])
    assert calm.value == before
    blind = SearchPlayer(ToyAnalyzer(quiet), SearchConfig(visits=8, quiescence=1, reuse=False))
    other = Node(leaf.game, WHITE)
    other.expand(toy._one(leaf.game, WHITE))
    blind._quiesce([other])
    assert other.value == stand


def test_with_quiescence_a_move_that_leaves_a_group_in_atari_looks_as_bad_as_it_is() -> None:
    """Black's A1-B1 is in atari. Without quiescence the node after Black's quiet corner move is judged
    on the board as it stands; with it, on White's capture, and the search's winrate for the move drops."""
    game = Game(size=5, komi=0.5, positions=[from_ascii(ATARI, to_play=BLACK)])
    quiet = to_flat((0, 4), 5)
    white_view, rates = {}, {}
    for q in (0, 1):
        toy = JudgingToy(quiet)
        player = SearchPlayer(toy, SearchConfig(visits=16, batch=4, quiescence=q, reuse=True))
        a = player.analyze_many([(game, BLACK)])[0]
        white_view[q] = player._trees[-1].children[quiet].value  # P(White wins) at the node after the quiet move
        rates[q] = a.move_winrates[quiet]
        assert (toy.judged > 0) == bool(q)
    assert white_view[1] > white_view[0] + 0.05
    assert rates[1] < rates[0]


def test_urgent_moves_are_captures_and_escapes_for_either_side() -> None:
    from engine.search import urgent_moves

    atari = from_ascii(ATARI, to_play=BLACK)
    c1 = to_flat((4, 2), 5)  # the last liberty of Black's A1-B1
    assert urgent_moves(atari, BLACK) == [c1]  # Black's escape
    assert urgent_moves(atari, WHITE) == [c1]  # White's capture
    assert urgent_moves(capture_game().position, BLACK) == [to_flat((3, 2), 5)]
    assert urgent_moves(from_ascii(".....\n" * 5, to_play=BLACK), BLACK) == []


def test_tactics_moves_a_share_of_the_prior_onto_urgent_moves_and_the_search_reads_them() -> None:
    """The network (a toy prior with 0.9 on a far corner and 0.1 spread over the rest) barely proposes
    Black's escape from atari; ``tactics=0.4`` gives the escape 0.4 of the prior at every node, so a
    search of 16 visits spends visits on it (and White's capture at the same point is read too)."""
    game = Game(size=5, komi=0.5, positions=[from_ascii(ATARI, to_play=BLACK)])
    quiet, c1 = to_flat((0, 4), 5), to_flat((4, 2), 5)
    visits = {}
    for share in (0.0, 0.4):
        toy = JudgingToy(quiet)
        toy.share = 0.9
        player = SearchPlayer(toy, SearchConfig(visits=16, batch=4, tactics=share, reuse=True))
        a = player.analyze_many([(game, BLACK)])[0]
        root = player._trees[-1]
        network = toy._one(game, BLACK).legal_probs
        if share:
            assert root.prior[c1] == pytest.approx(0.6 * network[c1] + 0.4)
            assert root.prior.sum() == pytest.approx(1.0)
            assert root.prior[quiet] == pytest.approx(0.6 * network[quiet])
            after_quiet = root.children[quiet]  # White to move there: the capture at C1 is urgent for White
            assert after_quiet.prior[c1] >= 0.4
        else:
            assert np.allclose(root.prior, network)
        visits[share] = a.visits[c1]
    assert visits[0.4] > visits[0.0]


class BlindAnalyzer(ToyAnalyzer):
    """The toy prior, but a value model that sees nothing: every position is an even game."""

    def _one(self, game: Game, color: int) -> Analysis:
        from dataclasses import replace

        return replace(super()._one(game, color), winrate=0.5)


def test_playout_wins_is_a_deterministic_share_of_games_won_on_the_area_count() -> None:
    from engine.deadstones import playout_wins

    pos = from_ascii(CAPTURE, to_play=BLACK)  # Black's 9 stones against White's 3 in atari
    black = playout_wins(pos, BLACK, komi=0.5, playouts=40)
    assert black == playout_wins(pos, BLACK, komi=0.5, playouts=40)  # seeded by the position
    assert black >= 0.9 and playout_wins(pos, WHITE, komi=0.5, playouts=40) <= 0.1
    assert playout_wins(pos, BLACK, komi=40.5, playouts=40) == 0.0  # no 5x5 area beats 40.5 of komi
    # an empty board with no komi: both sides' playouts give shares in [0, 1], draws count half
    empty = Game(size=3, komi=0.0).position
    assert 0.0 <= playout_wins(empty, BLACK, komi=0.0, playouts=20) <= 1.0


@pytest.mark.parametrize("weight,policy", [(0.0, "uniform"), (0.5, "uniform"), (1.0, "uniform"), (0.5, "tactical")])
def test_playouts_are_mixed_into_every_judged_positions_value(weight: float, policy: str) -> None:
    from engine.deadstones import playout_wins

    game = capture_game()
    player = SearchPlayer(BlindAnalyzer(favourite=to_flat((4, 4), 5)),
                          SearchConfig(visits=40, batch=4, playouts=16, playout_weight=weight, reuse=True,
                                       playout_policy=policy))
    player.analyze_many([(game, BLACK)])
    root = player._trees[-1]
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.expanded and not node.terminal:
            nodes.append(node)
        stack.extend(node.children.values())
    assert len(nodes) > 10
    for node in nodes:  # the blind value model says 0.5 everywhere; the rest is the playouts' share
        won = playout_wins(node.game.position, node.color, node.game.komi, 16, tactical=policy == "tactical")
        assert node.value == pytest.approx((1 - weight) * 0.5 + weight * won)
    if weight:
        assert len({round(n.value, 6) for n in nodes}) > 1  # the playouts tell positions apart


def test_playouts_come_from_the_command_line_or_the_manifest() -> None:
    from engine.search import search_config

    assert search_config({}).playouts == 0
    assert search_config({"playouts": 8, "playout_weight": 0.3}) == SearchConfig(visits=1, c_puct=1.5, playouts=8,
                                                                                  playout_weight=0.3)
    assert search_config({"playouts": 8}, playouts=0).playouts == 0
    assert search_config({"playout_policy": "tactical"}).playout_policy == "tactical"
    assert search_config({"playout_policy": "tactical"}, playout_policy="uniform").playout_policy == "uniform"
    with pytest.raises(ValueError, match="playout_policy"):
        search_config({"playout_policy": "smart"})


def test_the_search_kind_rule_shared_by_gtp_and_the_benchmarks():
    from engine.search import search_kind

    assert search_kind({}) == "puct"  # no bundle setting: the PUCT search
    assert search_kind({"search": "mc"}) == "mc"  # the bundle's choice
    assert search_kind({"search": "mc"}, visits=1) == "puct"  # an explicit --visits means the PUCT search
    assert search_kind({"search": "mc"}, "mc", visits=32) == "mc"  # an explicit --search wins
    assert search_kind({"search": "puct"}, "mc") == "mc"
    with pytest.raises(ValueError, match="search must be"):
        search_kind({"search": "uct"})
