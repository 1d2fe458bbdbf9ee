"""Analysis that goes on (engine/mc_live.py): GTP's lz-analyze / kata-analyze with an interval keep growing the
Monte Carlo trees between lines, as Leela Zero and KataGo do, instead of printing one search's result again."""

from __future__ import annotations

import re
import threading
import time

import numpy as np

from engine.analysis import Progress, UniformAnalyzer
from engine.coords import BLACK, WHITE
from engine.game import Game
from engine.mc_live import LiveAnalysis, start_live
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer
from engine.player import RandomPlayer
from gtp.analyze import analyzer_for, info_line
from gtp.engine import GtpEngine
from tests.test_gtp_analyze import _Pipe, parse_sabaki


def opening() -> Game:
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    game.play((5, 3), WHITE)
    return game


def test_the_first_answer_is_analyzes_and_growing_only_adds_simulations():
    for threads in (1, 2):
        player = MonteCarloPlayer(MonteCarloConfig(playouts=1_000, patterns=True, tactical=True, threads=threads))
        game = opening()
        plain = player.analyze(game, BLACK)
        live = start_live(player, game, BLACK)
        assert isinstance(live, LiveAnalysis) and len(live.searches) == threads
        assert live.first.move == plain.move and np.array_equal(live.first.visits, plain.visits)
        assert live.first.pvs == plain.pvs
        before = live.first.visits
        for _ in range(3):
            grown = live.grow(0.15)
            assert np.all(grown.visits >= before) and grown.visits.sum() > before.sum()  # the same trees, longer
            assert game.position.is_legal(grown.move) and live.simulations == grown.visits.sum()
            before = grown.visits
        assert np.isclose(grown.probs.sum(), 1.0) and grown.pvs[int(np.argmax(grown.visits[:-1]))]


def test_a_set_stop_event_ends_the_growth_at_once():
    live = start_live(MonteCarloPlayer(MonteCarloConfig(playouts=500)), opening(), BLACK)
    stop = threading.Event()
    stop.set()
    began = time.monotonic()
    answer = live.grow(30.0, stop)
    assert time.monotonic() - began < 1.0 and answer.visits.sum() == live.first.visits.sum()


def test_only_tree_searches_grow():
    game = opening()
    assert start_live(MonteCarloPlayer(MonteCarloConfig(playouts=200, search="flat")), game, BLACK) is None
    assert start_live(UniformAnalyzer(RandomPlayer(seed=1)), game, BLACK) is None


def test_the_steered_players_live_analysis_keeps_the_networks_reading():
    from models.steered_mc import steered_mc

    player = steered_mc(playouts=300, weight=2.0)
    game = opening()
    plain = player.analyze_many([(game, BLACK)])[0]
    live = start_live(player, game, BLACK)
    assert live.first.move == plain.move and np.array_equal(live.first.visits, plain.visits)
    grown = live.grow(0.2)
    assert grown.visits.sum() > 300
    # the network's own reading stays what it read: raw move, codes, imagined board
    assert grown.raw_move == plain.raw_move and grown.z_codes == plain.z_codes
    assert np.array_equal(grown.imagined_board, plain.imagined_board)


def test_gtp_lz_analyze_prints_a_growing_search_until_the_next_command():
    player = MonteCarloPlayer(MonteCarloConfig(playouts=1_000, patterns=True, tactical=True))
    assert analyzer_for(player, 9) is player
    pipe = _Pipe(GtpEngine(lambda: Game(size=9, komi=7.0), player))
    pipe.send("1 play B E5\n2 play W D4\n3 lz-analyze B 10 maxmoves 4\n")
    time.sleep(1.5)
    pipe.send("4 name\n")
    out = pipe.close().decode()
    m = re.fullmatch(r"=1 \n\n=2 \n\n=3\n((?:info [^\n]*\n)+)\n=4 videoworld-go\n\n", out)
    assert m, out
    lines = m.group(1).splitlines()
    assert len(lines) >= 4  # 1.5 s at 0.1 s a line, on a busy machine too
    # the first line is the search genmove would run; each later one has more visits, as a GUI shows them climb
    assert lines[0] == info_line(player.analyze(opening(), BLACK), 9, False, 4)
    totals = [sum(v["visits"] for v in parse_sabaki(line)) for line in lines]
    assert all(b > a for a, b in zip(totals, totals[1:])), totals



def test_a_failing_live_search_leaves_the_engine_answering():
    from types import SimpleNamespace

    from tests.test_gtp_analyze import FixedAnalyzer

    class BrokenLive(FixedAnalyzer):
        def live(self, game, color):
            def grow(seconds, stop=None):
                raise RuntimeError("the search broke")
            return SimpleNamespace(first=self.analyze_many([(game, color)])[0], grow=grow)

    pipe = _Pipe(GtpEngine(lambda: Game(size=5), BrokenLive()))
    pipe.send("1 lz-analyze B 5 maxmoves 1\n")
    time.sleep(0.3)
    pipe.send("2 name\n")
    out = pipe.close().decode()
    assert out == "=1\ninfo move C3 visits 500 winrate 6250 prior 5000 order 0 pv C3\n\n=2 videoworld-go\n\n"


# ------------------------------------------------------------------ genmove_analyze: lines while the move is searched
def test_a_tree_reports_while_it_searches_and_the_reports_change_nothing():
    game = opening()
    for stop_early in (False, True):
        player = MonteCarloPlayer(MonteCarloConfig(playouts=4_000, patterns=True, tactical=True, stop_early=stop_early))
        plain = player.analyze(game, BLACK)
        seen = []
        reported = player.analyze(game, BLACK, progress=Progress(seen.append, every=0.01))
        assert reported.move == plain.move  # the early stop may come at another count, never on another move
        if not stop_early:  # the same simulations in other batches: the same tree
            assert np.array_equal(reported.visits, plain.visits) and reported.pvs == plain.pvs
        assert len(seen) >= 2, len(seen)
        totals = [int(a.visits.sum()) for a in seen]
        assert all(b >= a for a, b in zip(totals, totals[1:])) and 0 < totals[0] < totals[-1] <= reported.visits.sum()
        assert all(game.position.is_legal(a.move) and np.isclose(a.probs.sum(), 1.0) for a in seen)


def test_root_parallel_trees_and_the_flat_search_report_nothing_before_their_answer():
    game = opening()
    for cfg in (MonteCarloConfig(playouts=2_000, threads=2), MonteCarloConfig(playouts=300, search="flat")):
        seen = []
        answer = MonteCarloPlayer(cfg).analyze(game, BLACK, progress=Progress(seen.append, every=0.0))
        assert seen == [] and game.position.is_legal(answer.move)


def test_the_steered_player_reports_with_the_networks_reading_and_plays_its_move():
    from models.steered_mc import steered_mc

    player = steered_mc(playouts=3_000, weight=2.0)
    game = opening()
    plain = player.analyze_many([(game, BLACK)])[0]
    seen = []
    reported = player.analyze_many([(game, BLACK)], progress=Progress(seen.append, every=0.01))[0]
    assert reported.move == plain.move and len(seen) >= 2
    assert all(a.raw_move == plain.raw_move and a.z_codes == plain.z_codes for a in seen)


def test_gtp_genmove_analyze_prints_lines_during_the_search_then_plays_genmoves_move():
    cfg = MonteCarloConfig(playouts=15_000, patterns=True, tactical=True, stop_early=False)
    genmove = GtpEngine(lambda: Game(size=9, komi=7.0), MonteCarloPlayer(cfg))
    expected = genmove.handle("1 play B E5") + genmove.handle("2 play W D4") + genmove.handle("3 genmove B")
    pipe = _Pipe(GtpEngine(lambda: Game(size=9, komi=7.0), MonteCarloPlayer(cfg)))
    pipe.send("1 play B E5\n2 play W D4\n3 lz-genmove_analyze B 5 maxmoves 3\n")
    deadline = time.monotonic() + 60
    while "info" not in (early := pipe.out.getvalue().decode()) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert "info" in early and "play" not in early  # a line of the answer went out while the move was searched
    pipe.send("4 showboard\n")
    out = pipe.close().decode()
    m = re.match(r"=1 \n\n=2 \n\n=3\n((?:info [^\n]*\n)+)play ([A-HJ]\d|pass)\n\n=4 \n", out)
    assert m, out[:2000]
    lines = m.group(1).splitlines()
    assert len(lines) >= 3
    totals = [sum(v["visits"] for v in parse_sabaki(line)) for line in lines]
    assert all(b >= a for a, b in zip(totals, totals[1:])) and totals[0] < totals[-1], totals
    assert expected.endswith(f"=3 {m.group(2)}\n\n")  # genmove's move, with or without the lines
    assert parse_sabaki(lines[-1])[0]["move"] == m.group(2)  # the last line leads with it


def test_genmove_analyze_without_an_output_keeps_its_lines_in_the_answer_and_a_failure_ends_it():
    player = MonteCarloPlayer(MonteCarloConfig(playouts=3_000, stop_early=False))
    engine = GtpEngine(lambda: Game(size=9, komi=7.0), player)
    engine.handle("play B E5")
    out = engine.handle("7 kata-genmove_analyze W 1")
    assert re.fullmatch(r"=7\n(info [^\n]*\n){2,}play [A-HJ]\d\n\n", out), out[:500]

    def broken(*args, **kwargs):
        kwargs["progress"].report(player.analyze(engine.game, BLACK))
        raise RuntimeError("the search broke")

    player.analyze_many = broken
    written = []
    engine.write = written.append  # as serve() sets it: the header and a line have gone out
    moves = list(engine.game.moves)
    assert engine.handle("8 lz-genmove_analyze B 1") == "\n"  # the answer can only end; the engine answers on
    assert written[0].startswith("=8\ninfo move ") and engine.game.moves == moves
    assert engine.handle("9 name") == "=9 videoworld-go\n\n"
    engine.write = None
    assert engine.handle("10 lz-genmove_analyze B 1").startswith("?10 internal error: RuntimeError: the search broke")


def test_kata_analyze_gives_the_playouts_score_lead_from_the_analysed_side():
    game_factory = lambda: Game(size=9, komi=7.0)  # noqa: E731
    engine = GtpEngine(game_factory, MonteCarloPlayer(MonteCarloConfig(playouts=2_000, patterns=True, tactical=True)))
    engine.game.setup(black=[(6, c) for c in range(9)], white=[(3, c) for c in range(9)])  # White: 36 points behind
    leads = {}
    for color in ("W", "B"):  # its wall, Black 27: White ahead by ~16 with komi, whoever is asked about
        line = engine.handle(f"kata-analyze {color} maxmoves 4").split("\n")[1]
        infos = [part.split() for part in line.split("info ")[1:]]
        fields = [dict(zip(words[:words.index("pv"):2], words[1:words.index("pv"):2])) for words in infos]
        assert all({"scoreMean", "scoreStdev", "scoreLead"} <= set(f) for f in fields)
        assert all(f["scoreMean"] == f["scoreLead"] and float(f["scoreStdev"]) >= 0 for f in fields)
        assert [v["move"] for v in parse_sabaki(line)] == [f["move"] for f in fields]  # Sabaki still reads it
        leads[color] = [float(f["scoreLead"]) for f in fields]
    assert min(leads["W"]) > 5 and max(leads["B"]) < -5, leads
    assert "score" not in engine.handle("lz-analyze W maxmoves 4")  # Leela Zero's format has no score


def test_the_steered_players_lines_give_the_networks_prior_not_the_visit_shares():
    from engine.coords import from_gtp, to_flat
    from models.steered_mc import steered_mc

    player = steered_mc(playouts=500, weight=2.0)
    game = opening()
    a = player.analyze_many([(game, BLACK)])[0]
    net = player.network.analyze_many([(game, BLACK)])[0]  # the same network reading, deterministic
    words = info_line(a, 9, True, 5).split()
    moves = [words[i + 1] for i, w in enumerate(words) if w == "move"]
    priors = [float(words[i + 1]) for i, w in enumerate(words) if w == "prior"]
    flats = [to_flat(from_gtp(m, 9), 9) for m in moves]
    assert np.allclose(priors, net.legal_probs[flats], atol=1e-6)  # the "move distribution as prior"
    assert not np.allclose(priors, a.legal_probs[flats], atol=1e-3)  # ... not the search's visit shares
