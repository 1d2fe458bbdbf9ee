"""`eval breakdown`: Best-Action Accuracy by corpus and phase, on hand-made labels (exact counts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.coords import BLACK, WHITE, from_gtp, to_flat
from engine.eval_answers import write_answers
from engine.eval_breakdown import Phase, breakdown, parse_phases
from engine.labels import Label
from engine.metrics import Answer, score

N = 9


def _label(pid: str, corpus: str, moves: str, best: str, played: str) -> Label:
    ms = [(BLACK if i % 2 == 0 else WHITE, from_gtp(v, N)) for i, v in enumerate(moves.split())]
    pol = np.full(N * N + 1, 0.001)
    pol[to_flat(from_gtp(best, N), N)] = 0.9
    return Label(pid, N, 7.0, ms, BLACK if len(ms) % 2 == 0 else WHITE, played=from_gtp(played, N), policy=pol,
                 source={"corpus": corpus, "game": pid, "k": len(ms)})


@pytest.fixture
def labels() -> dict[str, Label]:
    return {
        # the empty board: F6 is D4 turned (a symmetry of the position), so it counts as KataGo's move
        "k0": _label("k0", "kata", "", best="D4", played="D4"),
        "k1": _label("k1", "kata", "E5 C3", best="G7", played="C7"),
        "k2": _label("k2", "kata", "E5 C3 G3 C7 G7 D5 E3 D3 E7 F4 F5 G4 H4 H5", best="F3", played="F3"),
        "g1": _label("g1", "gnu", "E5 C3 G3", best="C7", played="D7"),
    }


def test_rates_by_corpus_and_phase_add_up_to_the_reported_metric(labels: dict[str, Label]) -> None:
    answers = [Answer("k0", from_gtp("F6", N)), Answer("k1", from_gtp("C7", N)), Answer("k2", from_gtp("F3", N)),
               Answer("g1", None, error="timeout")]
    rows = {(r.corpus, r.phase): r for r in breakdown(labels, answers, parse_phases("0-9,10-"))}
    assert set(rows) == {("kata", "0-9"), ("kata", "10-"), ("kata", "all"), ("gnu", "0-9"), ("gnu", "all"),
                         ("all", "0-9"), ("all", "10-"), ("all", "all")}
    kata_open = rows[("kata", "0-9")]
    assert (kata_open.ours.k, kata_open.ours.n) == (1, 2)  # F6 ~ D4 right; C7 is the video's, not KataGo's
    assert (kata_open.video.k, kata_open.video.n) == (1, 2)  # the game played D4 (best) and C7 (not)
    assert (kata_open.ours_played.k, kata_open.ours_played.n) == (2, 2)
    assert (rows[("kata", "10-")].ours.k, rows[("kata", "10-")].ours.n) == (1, 1)
    assert (rows[("gnu", "all")].ours.k, rows[("gnu", "all")].ours_played.k) == (0, 0)  # no answer: wrong
    total = rows[("all", "all")]
    assert (total.ours.k, total.ours.n) == (2, 4) and (total.video.k, total.video.n) == (2, 4)
    assert total.ours.value == score(labels, answers).best_policy.value  # the same rule as `eval run`
    # positions outside every phase count in the totals only
    rows = {(r.corpus, r.phase): r for r in breakdown(labels, answers, parse_phases("0-1"))}
    assert rows[("all", "0-1")].ours.n == 1 and rows[("all", "all")].ours.n == 4


def test_phases_parse_and_refuse_bad_ones() -> None:
    assert parse_phases("10-29,0-9,30-") == [Phase(0, 9), Phase(10, 29), Phase(30, None)]
    assert Phase(30, None).holds(200) and not Phase(0, 9).holds(10)
    for bad in ("0-9,5-20", "10-5", "a-3", "7", "0-,10-"):
        with pytest.raises(ValueError):
            parse_phases(bad)


def test_cli_writes_the_rows_and_refuses_bad_input(tmp_path: Path, labels: dict[str, Label], capsys) -> None:
    recs = []
    for lb in labels.values():
        recs.append({"id": lb.id, "size": N, "komi": 7.0, "moves": [["B" if c == BLACK else "W", _gtp(m)]
                                                                    for c, m in lb.moves],
                     "to_play": "B" if lb.to_play == BLACK else "W", "played": _gtp(lb.played),
                     "policy": lb.policy.tolist(), **lb.source})
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    write_answers(tmp_path / "a.jsonl", {"p": [Answer("k1", from_gtp("G7", N)), Answer("g1", from_gtp("C7", N))]}, N)
    common = ["--labels", str(tmp_path / "t.jsonl")]
    assert cli_main(["eval", "breakdown", str(tmp_path / "a.jsonl"), *common, "--out", str(tmp_path / "b.json")]) == 0
    out = json.loads((tmp_path / "b.json").read_text())
    total = next(r for r in out["rows"] if (r["corpus"], r["phase"]) == ("all", "all"))
    assert total["best_policy"]["k"] == 2 and total["best_policy"]["n"] == 2 and total["same_as_video"]["k"] == 0
    assert "| all | all | 2 | 100.0 | 0.0 | 0.0 |" in capsys.readouterr().out
    assert cli_main(["eval", "breakdown", str(tmp_path / "a.jsonl"), *common, "--phases", "0-9,5-"]) == 2
    assert "overlap" in capsys.readouterr().err
    write_answers(tmp_path / "x.jsonl", {"p": [Answer("nowhere", from_gtp("C7", N))]}, N)
    assert cli_main(["eval", "breakdown", str(tmp_path / "x.jsonl"), *common]) == 2
    assert "labels do not hold" in capsys.readouterr().err


def _gtp(move) -> str:
    from engine.coords import to_gtp

    return to_gtp(move, N)


def test_phase_hybrid_takes_each_players_answers_on_its_side_of_the_switch(labels: dict[str, Label]) -> None:
    """scripts/phase_hybrid.py: A's answers before move N, B's from N on; a position one of them skipped is refused."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("phase_hybrid", Path(__file__).parent.parent / "scripts" / "phase_hybrid.py")
    hybrid = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hybrid)
    a = [Answer(pid, from_gtp("A1", N)) for pid in labels]
    b = [Answer(pid, from_gtp("J9", N)) for pid in reversed(list(labels))]
    merged = {x.id: x.move for x in hybrid.merge(a, b, labels, switch=3)}  # k: k0 0, k1 2, g1 3, k2 14
    assert merged == {"k0": from_gtp("A1", N), "k1": from_gtp("A1", N), "g1": from_gtp("J9", N), "k2": from_gtp("J9", N)}
    assert all(m == from_gtp("J9", N) for m in (x.move for x in hybrid.merge(a, b, labels, switch=0)))
    with pytest.raises(ValueError, match="one player only"):
        hybrid.merge(a, b[1:], labels, switch=3)


def _record(move: str, visits: dict, winrates: dict, scores: dict, policy: dict) -> dict:
    """A scripts/root_stats_probe.py record with the given per-point statistics (GTP names), nulls elsewhere."""
    def row(d: dict, empty):
        out = [empty] * (N * N + 1)
        for name, v in d.items():
            out[to_flat(from_gtp(name, N), N)] = v
        return out
    return {"id": "x", "k": 40, "move": move, "visits": row(visits, 0), "winrates": row(winrates, None),
            "scores": row(scores, None), "policy": row(policy, 0.0)}


def test_root_choice_rules_pick_by_the_stated_rule_from_one_search() -> None:
    """scripts/root_choice_rules.py: the tree's move unless the position is decided; then the well-read move with
    the largest mean margin (score) or the network's favourite among the well-read ones (net); pass stands."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_choice_rules",
                                                  Path(__file__).parent.parent / "scripts" / "root_choice_rules.py")
    rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rules)
    flat = {name: to_flat(from_gtp(name, N), N) for name in ("C3", "D4", "E5", "G7")}
    # C3 most visited (the tree's move), D4 well read with the larger margin, E5 barely read with the largest,
    # G7 the network's favourite but barely read
    rec = _record("C3", visits={"C3": 1000, "D4": 300, "E5": 10, "G7": 5},
                  winrates={"C3": 0.96, "D4": 0.95, "E5": 0.99, "G7": 0.9},
                  scores={"C3": 4.0, "D4": 9.5, "E5": 30.0, "G7": 1.0},
                  policy={"C3": 0.2, "D4": 0.3, "E5": 0.05, "G7": 0.45})
    assert rules.choose(rec, ("tree",), N) == flat["C3"]
    assert rules.choose(rec, ("network",), N) == flat["G7"]
    assert rules.choose(rec, ("score", 0.9, 0.1), N) == flat["D4"]  # E5's 10 visits are under 10 % of 1,000
    assert rules.choose(rec, ("score", 0.9, 0.005), N) == flat["E5"]
    assert rules.choose(rec, ("net", 0.9, 0.1), N) == flat["D4"]
    assert rules.choose(rec, ("net", 0.9, 0.001), N) == flat["G7"]
    assert rules.choose(rec, ("score", 0.97, 0.1), N) == flat["C3"]  # 0.96 is not decided at 0.97
    rec["winrates"][flat["C3"]] = 0.03  # decided the other way: lost
    assert rules.choose(rec, ("score", 0.95, 0.1), N) == flat["D4"]
    rec["move"] = "pass"
    assert rules.choose(rec, ("score", 0.95, 0.1), N) == N * N


def test_finishing_rules_replay_the_engines_rule_on_one_search() -> None:
    """scripts/finishing_rules.py: ``finish`` is engine/finishing.py's rule on the probe's statistics (a safe
    liberty of a dead opponent chain, the network's favourite, also instead of the tree's pass); ``net`` the
    network's favourite among all safe moves, the tree's pass standing."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent))
    from engine.finishing import FinishingPoints
    from scripts import finishing_rules as rules

    flat = {name: to_flat(from_gtp(name, N), N) for name in ("C3", "D4", "E5", "G7")}
    # D4 and E5 are the dead chain's liberties; G7 the network's favourite elsewhere
    rec = _record("C3", visits={"C3": 1000, "D4": 300, "E5": 200, "G7": 50},
                  winrates={"C3": 0.96, "D4": 0.95, "E5": 0.80, "G7": 0.95},
                  scores={}, policy={"C3": 0.1, "D4": 0.2, "E5": 0.3, "G7": 0.4})
    points = FinishingPoints(frozenset({flat["D4"], flat["E5"]}), frozenset())
    assert rules.choose(rec, ("tree",), N, points) == flat["C3"]
    assert rules.choose(rec, ("network",), N, points) == flat["G7"]
    assert rules.choose(rec, ("finish", 0.1), N, points) == flat["D4"]  # E5 wins 0.16 less than C3: not safe
    assert rules.choose(rec, ("finish", 0.2), N, points) == flat["E5"]
    assert rules.choose(rec, ("finish", 0.1), N, None) == flat["C3"]  # not a finishing board
    assert rules.choose(rec, ("net", 0.1), N, points) == flat["G7"]
    rec["move"] = "pass"
    assert rules.choose(rec, ("finish", 0.1), N, points) == flat["D4"]  # measured against the best move read, C3's 0.96
    assert rules.choose(rec, ("net", 0.1), N, points) == N * N
