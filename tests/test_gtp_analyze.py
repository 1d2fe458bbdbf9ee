"""GTP analysis for GUIs: lz-/kata-analyze, genmove_analyze, GoGui analyze commands; streaming over pipes."""

from __future__ import annotations

import io
import os
import random
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from engine.analysis import Analysis, next_board
from engine.coords import BLACK, from_flat, from_gtp, to_flat
from engine.game import Game
from engine.player import RandomPlayer
from gtp.cli import serve
from gtp.engine import GtpEngine

REPO = Path(__file__).resolve().parents[1]
ANALYSIS_COMMANDS = ["lz-analyze", "kata-analyze", "lz-genmove_analyze", "kata-genmove_analyze",
                     "gogui-analyze_commands", "videoworld-policy", "videoworld-raw_policy", "videoworld-winrates",
                     "videoworld-imagined", "videoworld-ownership"]


class FixedAnalyzer:
    """Always the same opinion: C3 .5, E5 .3, pass .15, A1 .05; winrate .625 (numbers easy to check by hand)."""

    name = "fixed"

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        out = []
        for g, c in requests:
            n = g.size
            probs = np.zeros(n * n + 1)
            for v, p in (("C3", 0.5), ("E5", 0.3), ("pass", 0.15), ("A1", 0.05)):
                probs[to_flat(from_gtp(v, n), n)] = p
            mask = g.position.legal_mask(c)
            legal = probs * mask / (probs * mask).sum()
            move = from_flat(int(np.argmax(legal)), n)
            out.append(Analysis(probs, legal, from_gtp("C3", n), bool(mask[to_flat(from_gtp("C3", n), n)]), move,
                                0.625, [1, 2, 3], next_board(g.position, move, c), None))
        return out

    def genmove(self, game, color, *, cleanup=False):
        return self.analyze_many([(game, color)])[0].move


def run(engine: GtpEngine, script: str) -> str:
    answers = (engine.handle(line) for line in script.split("\n"))
    return "".join(a for a in answers if a is not None)


def parse_sabaki(line: str) -> list[dict]:
    """Sabaki's ``parseAnalysis`` (src/modules/enginesyncer.js), rule for rule: split at ``info``;
    the pv is the run of vertices at the end; the words before ``pv`` are key/value pairs;
    only moves like "D4" are kept (not pass); a winrate with a "." is a 0..1 float (KataGo),
    without one an integer x10000 (Leela Zero); both become percent."""
    out = []
    for x in [s.strip() for s in re.split(r"\s*info\s+", line)[1:]]:
        m = re.search(r"(pass|[A-Za-z]\d+)(\s+(pass|[A-Za-z]\d+))*$", x)
        if m is None:
            continue
        pass_index = m.group(0).find("pass")
        pv_text = m.group(0) if pass_index < 0 else m.group(0)[:pass_index]
        tokens = x[: m.start()].strip().split()[:-1]
        info = dict(zip(tokens[0::2], tokens[1::2]))
        info["pv"] = [v for v in pv_text.split() if len(v) >= 2]
        if not re.fullmatch(r"[A-Za-z]\d+", info["move"]):
            continue
        w = info["winrate"]
        out.append({"move": info["move"], "visits": float(info["visits"]), "pv": info["pv"],
                    "winrate": float(w) * 100 if "." in w else float(w) / 100,
                    "prior": float(info["prior"]) * 100 if "." in info["prior"] else float(info["prior"]) / 100})
    return out


# ------------------------------------------------------------------ transcripts
def test_analysis_transcript_byte_for_byte():
    engine = GtpEngine(lambda: Game(size=5, komi=7), FixedAnalyzer())
    script = ("1 lz-analyze B 50\n"
              "2 kata-analyze W interval 10 maxmoves 2\n"
              "3 videoworld-imagined b\n"
              "4 lz-genmove_analyze b\n"
              "5 kata-genmove_analyze W 25\n"
              "6 gogui-analyze_commands\n"
              "7 videoworld-policy b\n"
              "8 videoworld-raw_policy\n"
              "9 lz-analyze B 50 bogus\n"
              "10 kata-analyze purple\n"
              "11 videoworld-policy b w\n"
              "12 kata-analyze b 10 ownershipStdev true pvVisits false minmoves 2\n"
              "lz-analyze 1e999\n")
    z = "0.0000 0.0000 0.0000 0.0000 0.0000"
    expected = (
        "=1\n"
        "info move C3 visits 500 winrate 6250 prior 5000 order 0 pv C3 "
        "info move E5 visits 300 winrate 6250 prior 3000 order 1 pv E5 "
        "info move pass visits 150 winrate 6250 prior 1500 order 2 pv pass "
        "info move A1 visits 50 winrate 6250 prior 500 order 3 pv A1\n\n"
        "=2\n"
        "info move C3 visits 500 winrate 0.625000 prior 0.500000 order 0 pv C3 "
        "info move E5 visits 300 winrate 0.625000 prior 0.300000 order 1 pv E5\n\n"
        "=3 BLACK C3\nTEXT imagined next frame: 1 changed point; winrate 62.5%\n\n"
        "=4\n"
        "info move C3 visits 500 winrate 6250 prior 5000 order 0 pv C3 "
        "info move E5 visits 300 winrate 6250 prior 3000 order 1 pv E5 "
        "info move pass visits 150 winrate 6250 prior 1500 order 2 pv pass "
        "info move A1 visits 50 winrate 6250 prior 500 order 3 pv A1\n"
        "play C3\n\n"
        "=5\n"
        "info move E5 visits 600 winrate 0.625000 prior 0.600000 order 0 pv E5 "
        "info move pass visits 300 winrate 0.625000 prior 0.300000 order 1 pv pass "
        "info move A1 visits 100 winrate 0.625000 prior 0.100000 order 2 pv A1\n"
        "play E5\n\n"
        "=6 dboard/Move Probabilities/videoworld-policy %c\n"
        "dboard/Raw Move Probabilities (before the rules)/videoworld-raw_policy %c\n"
        "dboard/Winrate After Each Move, minus Now/videoworld-winrates %c\n"
        "gfx/Imagined Next Stones/videoworld-imagined %c\n"
        "dboard/Ownership (playouts over the rules, not the model)/videoworld-ownership %c\n\n"
        f"=7 \n{z}\n{z}\n{z}\n{z}\n0.2500 0.0000 0.0000 0.0000 0.0000\n\n"
        f"=8 \n0.0000 0.0000 0.0000 0.0000 0.3000\n{z}\n0.0000 0.0000 0.5000 0.0000 0.0000\n{z}\n"
        "0.0500 0.0000 0.0000 0.0000 0.0000\n\n"
        "?9 syntax error\n\n"
        "?10 syntax error\n\n"
        "?11 syntax error\n\n"
        "=12\n"
        "info move pass visits 750 winrate 0.625000 prior 0.750000 order 0 pv pass "  # A1: the one point left
        "info move A1 visits 250 winrate 0.625000 prior 0.250000 order 1 pv A1\n\n"
        "? syntax error\n\n"
    )
    assert run(engine, script) == expected
    assert engine.game.moves == [(1, (2, 2)), (2, (0, 4))]  # the two genmove_analyze moves were played


def test_analysis_commands_are_listed_only_for_players_that_can_analyze():
    analyzing = GtpEngine(lambda: Game(9), FixedAnalyzer())
    listed = run(analyzing, "list_commands")[2:-2].split("\n")
    assert listed[-len(ANALYSIS_COMMANDS):] == ANALYSIS_COMMANDS
    # Sabaki takes the first of analyze / kata-analyze / lz-analyze it finds: ours is kata-analyze.
    assert [c for c in ("analyze", "kata-analyze", "lz-analyze") if c in listed][0] == "kata-analyze"
    plain = GtpEngine(lambda: Game(9), RandomPlayer(0))
    assert not set(ANALYSIS_COMMANDS) & set(run(plain, "list_commands").split())
    assert run(plain, "1 lz-analyze B 50\n2 known_command kata-analyze") == "?1 unknown command\n\n=2 false\n\n"


def test_fuzzed_analysis_arguments_get_answers_never_internal_errors():
    rng = random.Random(3)
    words = ["B", "w", "black", "10", "0", "-5", "1e9", "nan", "inf", "\u00b2", "interval", "maxmoves", "minmoves",
             "ownership", "true", "false", "pvVisits", "x", "#", "0x10"]
    engine = GtpEngine(lambda: Game(size=5), FixedAnalyzer())
    for _ in range(400):
        line = " ".join([rng.choice(ANALYSIS_COMMANDS)] + [rng.choice(words) for _ in range(rng.randint(0, 5))])
        answer = engine.handle(line)
        assert answer is not None and answer.endswith("\n\n") and "internal error" not in answer, (line, answer)
        if engine.game.move_number > 6:
            engine.game.clear()


def test_sabaki_reads_our_lz_and_kata_lines_as_the_same_numbers():
    engine = GtpEngine(lambda: Game(size=5), FixedAnalyzer())
    lz = parse_sabaki(run(engine, "lz-analyze B").split("\n")[1])
    kata = parse_sabaki(run(engine, "kata-analyze B").split("\n")[1])
    assert [v["move"] for v in lz] == ["C3", "E5", "A1"]  # pass is dropped by Sabaki
    for a, b in zip(lz, kata):
        assert a["move"] == b["move"] and a["pv"] == [a["move"]]
        assert a["winrate"] == b["winrate"] == 62.5 and a["visits"] == b["visits"]
        assert abs(a["prior"] - b["prior"]) < 1e-9


def _two_areas(engine: GtpEngine) -> None:
    """Black's area on the left (columns A-D), White's on the right, one dead stone of each inside the
    other's area: White's B5 and Black's H5 (test_deadstones.DEAD_INSIDE)."""
    engine.game.setup([(r, 3) for r in range(9)] + [(4, 7)], [(r, 4) for r in range(9)] + [(4, 1)])


def _lizzie_ownership(line: str, size: int) -> tuple[str, np.ndarray]:
    """Lizzie's reading of a kata-analyze line: the infos, then after the word ``ownership`` N*N floats,
    top-left (A9) first, row by row."""
    infos, owned = line.split(" ownership ")
    values = np.array([float(v) for v in owned.split()])
    assert values.shape == (size * size,)
    return infos, values.reshape(size, size)


def test_kata_analyze_ownership_true_maps_each_area_to_its_owner_from_the_analysed_sides_view():
    engine = GtpEngine(lambda: Game(size=9, komi=7), FixedAnalyzer())
    _two_areas(engine)
    grids = {}
    for color, sign in (("b", 1.0), ("w", -1.0)):
        infos, grid = _lizzie_ownership(run(engine, f"kata-analyze {color} ownership true").split("\n")[1], 9)
        assert infos.startswith("info move ") and " pv " in infos
        assert np.all(np.abs(grid) <= 1)
        black_view = sign * grid
        assert (black_view[:, :4] > 0.9).all()  # Black's area, the dead white stone at B5 (row 4, column 1) too
        assert (black_view[:, 4:] < -0.9).all()  # White's, Black's dead H5 too
        grids[color] = grid
    # the GoGui map says the same, to its 4 decimals
    shown = run(engine, "videoworld-ownership w")[3:-2].split("\n")
    assert np.allclose(np.array([[float(v) for v in row.split()] for row in shown]), grids["w"], atol=5e-5)
    # Leela Zero's format has no ownership field: the flag is accepted, nothing is added
    assert " ownership " not in run(engine, "lz-analyze b ownership true")
    assert " ownership " not in run(engine, "kata-analyze b ownership false")


def test_kata_genmove_analyze_reports_the_ownership_of_the_position_it_searched_then_plays():
    engine = GtpEngine(lambda: Game(size=9, komi=7), FixedAnalyzer())
    _two_areas(engine)
    out = run(engine, "kata-genmove_analyze b ownership true")
    lines = out.split("\n")
    assert lines[0] == "=" and lines[2] == "play C3" and out.endswith("\n\n")
    _, grid = _lizzie_ownership(lines[1], 9)
    assert (grid[:, :4] > 0.9).all() and (grid[:, 4:] < -0.9).all()  # Black's view: the board before C3
    assert engine.game.moves[-1] == (BLACK, from_gtp("C3", 9))


# ------------------------------------------------------------------ streaming
class _Pipe:
    """serve() reading from a real pipe, writing to a buffer; lines fed with delays between them."""

    def __init__(self, engine: GtpEngine) -> None:
        r, self._w = os.pipe()
        self._in = os.fdopen(r, "rb")
        self.out = io.BytesIO()
        self.thread = threading.Thread(target=serve, args=(engine, self._in, self.out), daemon=True)
        self.thread.start()

    def send(self, text: str) -> None:
        os.write(self._w, text.encode())

    def close(self) -> bytes:
        os.close(self._w)
        self.thread.join(30)
        assert not self.thread.is_alive()
        self._in.close()
        return self.out.getvalue()


def test_lz_analyze_repeats_its_line_until_the_next_command_arrives():
    pipe = _Pipe(GtpEngine(lambda: Game(size=5), FixedAnalyzer()))
    pipe.send("1 lz-analyze B 5 maxmoves 1\n")
    time.sleep(0.5)
    pipe.send("2 name\n")
    out = pipe.close().decode()
    line = "info move C3 visits 500 winrate 6250 prior 5000 order 0 pv C3\n"
    m = re.fullmatch(rf"=1\n((?:{line})+)\n=2 videoworld-go\n\n", out)
    assert m, out
    assert m.group(1).count("\n") >= 3  # 0.5 s at 50 ms: several repeats even on a busy machine


def test_analyze_without_interval_prints_once_and_end_of_input_closes_the_stream():
    pipe = _Pipe(GtpEngine(lambda: Game(size=5), FixedAnalyzer()))
    pipe.send("kata-analyze W maxmoves 1\n")
    time.sleep(0.3)
    out = pipe.close().decode()
    assert out == "=\ninfo move C3 visits 500 winrate 0.625000 prior 0.500000 order 0 pv C3\n\n"


def read_until(proc: subprocess.Popen, pattern: bytes, timeout: float = 60.0) -> bytes:
    out, fd, deadline = b"", proc.stdout.fileno(), time.monotonic() + timeout
    while not re.search(pattern, out):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"timed out waiting for {pattern!r}; got {out[-500:]!r}"
        chunk = os.read(fd, 65536)
        assert chunk, f"engine exited; got {out[-500:]!r}"
        out += chunk
    return out


def test_python_m_gtp_streams_neural_analysis_that_sabaki_parses(tiny_bundle):
    proc = subprocess.Popen([sys.executable, "-m", "gtp", "--player", "neural", "--weights", str(tiny_bundle)],
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        proc.stdin.write(b"1 play B E5\n2 lz-analyze W 10\n")
        proc.stdin.flush()
        lz = read_until(proc, rb"=1 \n\n=2\n(info [^\n]*\n){3}")
        proc.stdin.write(b"3 kata-analyze W 10\n")
        proc.stdin.flush()
        kata = read_until(proc, rb"=3\n(info [^\n]*\n){2}")
        proc.stdin.write(b"4 lz-genmove_analyze W\n")
        proc.stdin.flush()
        genmove = read_until(proc, rb"=4\ninfo [^\n]*\nplay [A-HJ]\d\n\n")
        proc.stdin.write(b"5 quit\n")
        proc.stdin.flush()
        read_until(proc, rb"=5 \n\n")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.communicate()
    lz_lines = re.findall(rb"info [^\n]*", lz.split(b"=2\n")[1])
    assert len(set(lz_lines)) == 1  # the same analysis, repeated
    lz_vars = parse_sabaki(lz_lines[0].decode())
    kata_vars = parse_sabaki(re.findall(rb"info [^\n]*", kata.split(b"=3\n", 1)[1])[0].decode())
    assert lz_vars and [v["move"] for v in lz_vars] == [v["move"] for v in kata_vars]
    for a, b in zip(lz_vars, kata_vars):
        assert 0 <= a["winrate"] <= 100 and abs(a["winrate"] - b["winrate"]) <= 0.01
        assert "E5" not in a["pv"] and a["visits"] >= 1
    priors = [v["prior"] for v in kata_vars]
    assert priors == sorted(priors, reverse=True)
    played = re.search(rb"play ([A-HJ]\d)", genmove).group(1).decode()
    assert played != "E5"


class WinrateAnalyzer(FixedAnalyzer):
    """FixedAnalyzer that also knows the winrate after each move it is asked about: 0.9 after C3,
    0.2 after E5, 0.4 after pass, 0.7 after A1 (the rest: not evaluated)."""

    AFTER = {"C3": 0.9, "E5": 0.2, "pass": 0.4, "A1": 0.7}

    def __init__(self):
        self.asked = []

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        self.asked.append(move_winrates)
        out = super().analyze_many(requests, cleanup)
        for (g, _), a in zip(requests, out):
            n = g.size
            a.move_winrates = np.full(n * n + 1, np.nan)
            order = sorted(self.AFTER, key=lambda v: -a.legal_probs[to_flat(from_gtp(v, n), n)])
            for v in order[:move_winrates]:
                a.move_winrates[to_flat(from_gtp(v, n), n)] = self.AFTER[v]
        return out


def test_each_candidate_carries_the_winrate_after_it_when_the_analyzer_has_one():
    analyzer = WinrateAnalyzer()
    engine = GtpEngine(lambda: Game(size=5, komi=7), analyzer)
    out = run(engine, "1 kata-analyze B maxmoves 2\n2 lz-analyze B maxmoves 4\n3 videoworld-policy b\n")
    lines = out.split("\n\n")
    assert lines[0] == ("=1\ninfo move C3 visits 500 winrate 0.900000 prior 0.500000 order 0 pv C3 "
                        "info move E5 visits 300 winrate 0.200000 prior 0.300000 order 1 pv E5")
    assert [m["winrate"] for m in parse_sabaki(lines[1])] == [90.0, 20.0, 70.0]  # Sabaki drops the pass
    assert "winrate 4000 prior 1500 order 2 pv pass" in lines[1]
    assert analyzer.asked == [2, 4, 0]  # the analysis streams ask for as many as they list; dboards for none


def test_the_winrate_map_shows_each_moves_gain_and_needs_a_value_model():
    engine = GtpEngine(lambda: Game(size=5, komi=7), WinrateAnalyzer())
    z = "0.0000 0.0000 0.0000 0.0000 0.0000"
    # after C3 0.9, E5 0.2, A1 0.7, minus the position's 0.625; every other point 0 (not a candidate)
    assert run(engine, "1 videoworld-winrates b\n") == (
        f"=1 \n0.0000 0.0000 0.0000 0.0000 -0.4250\n{z}\n0.0000 0.0000 0.2750 0.0000 0.0000\n{z}\n"
        "0.0750 0.0000 0.0000 0.0000 0.0000\n\n")
    plain = GtpEngine(lambda: Game(size=5, komi=7), FixedAnalyzer())
    assert run(plain, "2 videoworld-winrates\n") == "?2 no winrates: this player has no value model\n\n"


def test_the_move_a_search_plays_is_order_0_even_with_fewer_visits_than_another():
    """KataGo's ``order`` 0 is the move it would play; the steered tree may play the network's favourite (or the
    finishing move) with fewer visits than the most visited (engine/mc_player.prefer_prior)."""
    from gtp.analyze import info_line

    n = 5
    visits = np.zeros(n * n + 1)
    visits[[to_flat((2, 2), n), to_flat((1, 1), n), to_flat((3, 3), n)]] = [100, 80, 40]
    shares = visits / visits.sum()
    prior = np.zeros(n * n + 1)
    prior[to_flat((1, 1), n)] = 1.0

    def line(move) -> str:
        a = Analysis(probs=shares, legal_probs=shares, raw_move=(1, 1), raw_legal=True, move=move, winrate=0.5,
                     z_codes=[], imagined_board=np.zeros((n, n)), imagined_frame=None, visits=visits.astype(np.int64),
                     policy=prior)
        return info_line(a, n, True, 3)

    moves = lambda text: re.findall(r"info move (\S+) visits (\d+)", text)
    played = to_flat((1, 1), n)
    assert moves(line(from_flat(played, n))) == [("B4", "80"), ("C3", "100"), ("D2", "40")]
    assert moves(line((2, 2))) == [("C3", "100"), ("B4", "80"), ("D2", "40")]  # the most visited played: as before
