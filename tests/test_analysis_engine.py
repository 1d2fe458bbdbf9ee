"""`videoworld-go analysis`: KataGo's analysis-engine protocol, checked against KataGo's own answers.

tests/data/katago_analysis/katago-1.18.1.jsonl is what KataGo 1.18.1 (`katago analysis`, the b10 network,
.katago/configs/analysis9.cfg: reportAnalysisWinratesAs = BLACK) answered to queries.jsonl there:

    (cat queries.jsonl; sleep 25) | .katago/bin/katago analysis -model .katago/default_model.bin.gz \\
        -config .katago/configs/analysis9.cfg > katago-1.18.1.jsonl
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.analysis import Progress
from engine.coords import BLACK, WHITE
from engine.game import Game
from engine.mc_player import MonteCarloConfig, MonteCarloPlayer
from server.analysis_engine import AnalysisEngine, make_searcher
from server.katago_json import QueryError, parse_query, position_hash, symmetric_hash

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "katago_analysis"
# KataGo fields we do not give: the network's raw outputs, and what a query must ask for (we warn instead)
NOT_OURS = {"isSymmetryOf"}


def by_id(lines: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in lines:
        out.setdefault(d.get("id", ""), []).append(d)
    return out


def kind(d: dict) -> tuple:
    if "error" in d:
        return ("error", d.get("field"))
    if "warning" in d:
        return ("warning", d.get("field"))
    if "action" in d:
        return ("action", d["action"])
    return ("analysis", d["turnNumber"], d["isDuringSearch"])


@pytest.fixture(scope="module")
def ours() -> list[dict]:
    """Our engine (the shipped weights' steered tree on 9x9) answering the same queries over a real pipe."""
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "analysis"], cwd=REPO, input=(DATA / "queries.jsonl").read_bytes(),
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def test_every_query_gets_the_answers_katago_gives_field_for_field(ours):
    theirs = by_id([json.loads(line) for line in (DATA / "katago-1.18.1.jsonl").read_text().splitlines()])
    mine = by_id(ours)
    assert set(mine) == set(theirs)
    for qid in theirs:
        # the same errors and warnings (on the same fields), the same actions, the same turns analysed
        assert sorted(map(kind, mine[qid]), key=str) == sorted(map(kind, theirs[qid]), key=str), qid
        for a, b in zip(sorted(mine[qid], key=lambda d: d.get("turnNumber", -1)),
                        sorted(theirs[qid], key=lambda d: d.get("turnNumber", -1))):
            if "moveInfos" not in b:
                continue
            assert set(a) == set(b)  # ownership and policy exactly when asked
            want = {k for info in b["moveInfos"] for k in info} - NOT_OURS
            assert all(want <= set(info) for info in a["moveInfos"]) and a["moveInfos"]
            assert {k for k in b["rootInfo"] if not k.startswith("raw")} <= set(a["rootInfo"])
            assert a["rootInfo"]["currentPlayer"] == b["rootInfo"]["currentPlayer"]
            assert [m["order"] for m in a["moveInfos"]] == list(range(len(a["moveInfos"])))
            assert all(m["pv"][0] == m["move"] for m in a["moveInfos"])
            for m in a["moveInfos"]:  # asked for on the handicap query: the simulations through each move of the line
                if "pvVisits" in m:
                    assert len(m["pvVisits"]) == len(m["pv"]) and m["pvVisits"][0] == m["visits"]
                    assert m["pvVisits"] == sorted(m["pvVisits"], reverse=True) and m["pvEdgeVisits"] == m["pvVisits"]
            if "policy" in b:  # -1 on exactly the points KataGo's rules forbid
                assert len(a["policy"]) == len(b["policy"]) == 82
                assert [p < 0 for p in a["policy"]] == [p < 0 for p in b["policy"]]
                assert abs(sum(p for p in a["policy"] if p >= 0) - 1.0) < 1e-6
                assert len(a["ownership"]) == len(b["ownership"]) == 81
                assert all(-1.0 <= x <= 1.0 for x in a["ownership"])


def test_both_report_winrates_from_blacks_side(ours):
    """Two handicap stones on 9x9 with half a point of komi, White to move: Black leads in KataGo's numbers and
    in ours, whose side to move is White (the perspective is Black's, as the config's reportAnalysisWinratesAs)."""
    theirs = by_id([json.loads(line) for line in (DATA / "katago-1.18.1.jsonl").read_text().splitlines()])
    for side in (theirs["handicap"][-1], by_id(ours)["handicap"][-1]):
        assert side["rootInfo"]["currentPlayer"] == "W"
        assert side["rootInfo"]["winrate"] > 0.6 and side["rootInfo"]["scoreLead"] > 0
    game = by_id(ours)["game"]
    assert {d["turnNumber"]: d["rootInfo"]["currentPlayer"] for d in game} == {2: "B", 3: "W"}


# ------------------------------------------------------------------ the engine in-process
class Recorder:
    def __init__(self) -> None:
        self.lines: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self.lock:
            self.lines.append(json.loads(text))

    def wait_for(self, test, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if test(self.lines):
                    return list(self.lines)
            time.sleep(0.01)
        raise AssertionError(f"timed out; got {self.lines}")


def mc_engine(out: Recorder) -> AnalysisEngine:
    base = MonteCarloPlayer(MonteCarloConfig(playouts=500, patterns=True, tactical=True))
    return AnalysisEngine(lambda size, visits, seconds, root: base.with_budget(visits or 500, seconds, root), out)


def query(qid: str, **extra) -> str:
    q = {"id": qid, "moves": [["B", "E5"], ["W", "D4"]], "rules": "tromp-taylor", "komi": 7, "boardXSize": 9,
         "boardYSize": 9} | extra
    return json.dumps(q)


def finals(lines: list[dict], qid: str) -> list[dict]:
    return [d for d in lines if d.get("id") == qid and d.get("isDuringSearch") is False]


def test_reports_during_the_search_then_one_final_answer_with_every_simulation():
    out = Recorder()
    engine = mc_engine(out)
    engine.handle_line(query("live", maxVisits=30_000, reportDuringSearchEvery=0.05))
    lines = out.wait_for(lambda ls: finals(ls, "live"))
    engine.close()
    during = [d for d in lines if d.get("isDuringSearch")]
    assert len(during) >= 3
    totals = [d["rootInfo"]["visits"] for d in during] + [finals(lines, "live")[0]["rootInfo"]["visits"]]
    assert totals == sorted(totals) and totals[-1] == 30_000  # no early stop in an analysis: all of maxVisits


def test_terminate_ends_the_running_turn_with_what_it_has_and_drops_the_queued_ones():
    out = Recorder()
    engine = mc_engine(out)
    engine.handle_line(query("long", maxVisits=1_000_000, analyzeTurns=[0, 1, 2], reportDuringSearchEvery=0.05))
    out.wait_for(lambda ls: any(d.get("isDuringSearch") for d in ls))  # the first turn is being searched
    engine.handle_line(json.dumps({"id": "stop", "action": "terminate", "terminateId": "long"}))
    lines = out.wait_for(lambda ls: len(finals(ls, "long")) == 3, timeout=30)
    engine.close()
    ack = lines.index({"id": "stop", "action": "terminate", "terminateId": "long"})
    answers = finals(lines, "long")
    assert all(ack < lines.index(d) for d in answers)  # acknowledged at once, before the turns answer
    dropped = [d for d in answers if d.get("noResults")]
    searched = [d for d in answers if "moveInfos" in d]
    assert len(dropped) == 2 and len(searched) == 1  # one turn was running; the two queued never ran
    assert searched[0]["turnNumber"] == 0 and {d["turnNumber"] for d in dropped} == {1, 2}
    assert 0 < searched[0]["rootInfo"]["visits"] < 1_000_000


def test_a_higher_priority_goes_first_and_bad_lines_change_nothing():
    out = Recorder()
    engine = mc_engine(out)
    engine.handle_line(query("first", maxVisits=20_000, reportDuringSearchEvery=0.05))
    out.wait_for(lambda ls: any(d.get("isDuringSearch") for d in ls))  # running while the next two queue
    engine.handle_line(query("low", maxVisits=100, priority=-1))
    engine.handle_line(query("high", maxVisits=100, priority=5))
    for bad in ("{", "[1, 2]", '{"id": 3}', '{"id": "x", "action": "dance"}',
                query("ko", moves=[["B", "E5"], ["W", "E5"]]), query("size", boardYSize=13),
                query("visits", maxVisits=0), query("turns", analyzeTurns=[3]), "[" * 100_000,
                '{"id": "nan", "action": "query_version", "x": NaN}', query("pv", analysisPVLen=None)):
        engine.handle_line(bad)  # fuzzing found the last three: a parser's recursion, NaN echoed, a null length
    lines = out.wait_for(lambda ls: len([d for d in ls if d.get("isDuringSearch") is False]) == 3)
    engine.close()
    order = [d["id"] for d in lines if d.get("isDuringSearch") is False]
    assert order == ["first", "high", "low"]
    errors = [d for d in lines if "error" in d]
    assert [d.get("field") for d in errors] == [None, None, "id", "action", "moves", "boardYSize", "maxVisits",
                                               "analyzeTurns", None, None, "analysisPVLen"]
    assert errors[4]["error"] == "Illegal move 1: E5"


def test_the_parsed_turns_follow_katagos_side_to_move():
    q = {"id": "s", "moves": [["B", "C3"], ["B", "D4"]], "initialStones": [["W", "E5"]], "initialPlayer": "W",
         "rules": "japanese", "komi": 6.5, "boardXSize": 9, "boardYSize": 9, "analyzeTurns": [0, 1, 2],
         "overrideSettings": {"reportAnalysisWinratesAs": "SIDETOMOVE", "wideRootNoise": 0.1}}
    turns = parse_query(q, 1000)
    assert [t.color for t in turns] == [BLACK, BLACK, WHITE]  # the next move's player, then the other of the last
    assert [len(t.game.moves) for t in turns] == [0, 1, 2] and turns[0].report_as == "SIDETOMOVE"
    assert turns[0].game.position.stones[4 * 9 + 4] == WHITE and turns[0].game.komi == 6.5
    assert {w["field"] for w in turns[0].warnings} == {"rules", "overrideSettings"}
    with pytest.raises(QueryError, match="Only square"):
        parse_query(q | {"boardXSize": 13}, 1000)
    with pytest.raises(QueryError):
        parse_query(q | {"maxVisits": 1001}, 1000)


def test_hashes_tell_positions_apart_and_symmetric_ones_together():
    a, b = Game(9, 7.0), Game(9, 7.0)
    a.play((2, 2), BLACK)
    b.play((6, 6), BLACK)  # the same position turned by 180 degrees
    assert position_hash(a.position, WHITE) != position_hash(b.position, WHITE)
    assert symmetric_hash(a.position, WHITE) == symmetric_hash(b.position, WHITE)
    assert position_hash(a.position, WHITE) != position_hash(a.position, BLACK)


def test_the_shipped_network_steers_and_gives_its_policy():
    searcher, models = make_searcher(None, None, 0, None)
    assert models[0]["boardSizes"] == "9"
    analyzer = searcher(9, 300, None, None)
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    a = analyzer.analyze_many([(game, WHITE)])[0]
    assert a.visits.sum() == 300 and a.policy is not None and np.isclose(a.policy.sum(), 1.0)
    assert searcher(13, 200, None, None).analyze_many([(Game(13, 7.0), BLACK)])[0].policy is None


def test_allow_and_avoid_moves_bind_the_searchs_first_move():
    out = Recorder()
    engine = mc_engine(out)
    region = ["A1", "B1", "C1", "A2", "B2", "C2"]  # KaTrain's region of interest: the lower left corner
    engine.handle_line(query("allow", maxVisits=600, allowMoves=[{"player": "B", "moves": region, "untilDepth": 1}]))
    engine.handle_line(query("avoid", maxVisits=600, avoidMoves=[{"player": "B", "moves": ["C7", "G7", "pass"],
                                                                  "untilDepth": 3}]))
    lines = out.wait_for(lambda ls: len([d for d in ls if d.get("isDuringSearch") is False]) == 2)
    engine.close()
    allow, avoid = finals(lines, "allow")[0], finals(lines, "avoid")[0]
    assert {m["move"] for m in allow["moveInfos"]} <= set(region) and len(allow["moveInfos"]) >= 3
    assert allow["rootInfo"]["visits"] == 600
    assert not {"C7", "G7", "pass"} & {m["move"] for m in avoid["moveInfos"]} and len(avoid["moveInfos"]) > 20
    warned = [d for d in lines if d.get("warning") and d.get("id") == "avoid"]
    assert [d["field"] for d in warned] == ["avoidMoves"]  # untilDepth 3: the first move only


def test_terminate_stops_the_network_steered_search_too():
    """The steered player hands its progress on with the stop event (it once dropped it: a 9x9 turn ran to its end)."""
    searcher, _ = make_searcher(None, None, 0, None)
    game = Game(9, 7.0)
    game.play((4, 4), BLACK)
    stop = threading.Event()
    stop.set()
    began = time.monotonic()
    a = searcher(9, 1_000_000, None, None).analyze_many([(game, WHITE)], progress=Progress(lambda a: None, 0.1, stop))[0]
    assert a.visits.sum() < 1_000 and time.monotonic() - began < 30
