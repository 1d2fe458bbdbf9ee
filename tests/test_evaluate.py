"""The paper's metrics on hand-made oracle labels (exact values), Wilson intervals, the label cache,
GTP evaluation against GNU Go, and (when installed) labelling with KataGo's analysis engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.coords import BLACK, PASS, RESIGN, WHITE, from_gtp, to_flat
from engine.corpus import CorpusFile, game_key
from engine.engines import gnugo_available, gnugo_spec, katago_available
from engine.eval_answers import read_answers, write_answers
from engine.evaluate import answers_gtp, answers_player
from engine.game import Game
from engine.player import RandomPlayer
from engine.blunders import in_atari
from engine.labels import Label, LabelConfig, candidates, label_positions, load_labels
from engine.metrics import Answer, action_value, compare, score, wilson
from engine.sgf import dump_game
from engine.symmetry import TRANSFORMS, equivalent_moves

N = 9


def policy(**priors: float) -> np.ndarray:
    """A policy over 9x9 + pass: the named GTP points get their priors, the rest share what is left."""
    p = np.zeros(N * N + 1)
    for vertex, v in priors.items():
        p[N * N if vertex == "pass" else to_flat(from_gtp(vertex, N), N)] = v
    rest = [i for i in range(N * N + 1) if p[i] == 0]
    p[rest] = (1.0 - sum(priors.values())) / len(rest)
    return p


def label(pid: str, moves: str = "", pol: np.ndarray | None = None, search: str | None = None) -> Label:
    """A label after the given moves ("E5 C3 ..."), alternating from Black."""
    ms = [(BLACK if i % 2 == 0 else WHITE, from_gtp(v, N)) for i, v in enumerate(moves.split())]
    to_play = BLACK if len(ms) % 2 == 0 else WHITE
    return Label(pid, N, 7.0, ms, to_play, policy=pol,
                 search={"visits": 32, "best": search, "top": []} if search else None)


@pytest.fixture
def labels() -> dict[str, Label]:
    occupied = policy(D5=0.5, E4=0.3)
    for v in ("E5", "D3"):
        occupied[to_flat(from_gtp(v, N), N)] = -1.0  # KataGo marks illegal points -1
    return {
        "a": label("a", "E5 D3", occupied, search="E4"),  # no symmetry left: D5 and E4 differ
        "b": label("b", "E5 D3 D5", policy(F5=0.4, E6=0.35)),
        "c": label("c", "E5 D3 D5 F5", policy(E6=0.6), search="E6"),
    }


# ---------------------------------------------------------------- intervals
def test_wilson_interval_known_values_and_edges() -> None:
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(10, 10)
    assert hi == pytest.approx(1.0, abs=1e-12) and lo == pytest.approx(0.7225, abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0, 0))
    for k, n in ((1, 7), (30, 200), (199, 200)):
        lo, hi = wilson(k, n)
        assert 0.0 <= lo < k / n < hi <= 1.0
        mlo, mhi = wilson(n - k, n)
        assert (lo, hi) == pytest.approx((1 - mhi, 1 - mlo))
    assert wilson(500, 1000)[1] - wilson(500, 1000)[0] < wilson(50, 100)[1] - wilson(50, 100)[0]


# ---------------------------------------------------------------- the metrics, exactly
def test_metrics_on_hand_made_labels(labels: dict[str, Label]) -> None:
    answers = [
        Answer("a", from_gtp("D5", N), raw_move=from_gtp("E5", N), raw_legal=False, legal=True),  # policy best
        Answer("b", from_gtp("E6", N), raw_move=from_gtp("E6", N), raw_legal=True, legal=True),  # second choice
        Answer("c", from_gtp("E6", N), raw_move=from_gtp("E6", N), raw_legal=True, legal=True),  # best of both
    ]
    s = score(labels, answers)
    assert s.positions == 3
    assert (s.raw_legal.k, s.raw_legal.n) == (2, 3)
    assert (s.best_policy.k, s.best_policy.n) == (2, 3)  # a and c
    assert (s.best_search.k, s.best_search.n) == (1, 2)  # a's searched best was E4, c's E6
    assert s.action_value.value == pytest.approx((1.0 + 0.35 / 0.4 + 1.0) / 3)
    d = s.to_dict()
    assert d["best_policy"]["value"] == pytest.approx(2 / 3)
    assert d["best_policy"]["ci95"] == pytest.approx(list(wilson(2, 3)))


def test_paired_difference_of_two_players_on_the_same_positions(labels: dict[str, Label]) -> None:
    mv = lambda v: from_gtp(v, N)  # noqa: E731
    a = [Answer("a", mv("D5"), mv("D5"), True, True), Answer("b", mv("F5"), mv("E5"), False, True),
         Answer("c", mv("A1"), mv("A1"), True, True)]
    b = [Answer("a", mv("E4"), mv("E4"), True, True), Answer("b", mv("F5"), mv("F5"), True, True),
         Answer("c", mv("E6"), mv("E6"), True, True), Answer("zz", mv("E6"))]  # zz: A never answered it
    d = compare(labels, a, b)
    # BAA policy: a 1->0, b 1->1, c 0->1; search (a, c): a E4 is the searched best 0->1, c 0->1
    assert d["best_policy"].diffs == (-1.0, 0.0, 1.0)
    assert d["best_search"].diffs == (1.0, 1.0)
    assert d["raw_legal"].diffs == (0.0, 1.0, 0.0)
    a1 = labels["c"].policy[to_flat(mv("A1"), N)] / 0.6
    assert d["action_value"].value == pytest.approx(((0.3 - 0.5) / 0.5 + 0.0 + (1.0 - a1)) / 3)
    lo, hi = d["best_policy"].interval()
    assert lo < 0.0 < hi and d["best_policy"].value == 0.0
    # the same answers against themselves: exactly zero, with a zero-width interval
    same = compare(labels, a, a)["action_value"]
    assert same.value == 0.0 and same.interval() == (0.0, 0.0)


def test_action_value_of_illegal_resign_pass_and_no_answer(labels: dict[str, Label]) -> None:
    a = labels["a"]
    assert action_value(a, from_gtp("E5", N)) == 0.0  # occupied: the oracle's -1
    assert action_value(a, RESIGN) == 0.0
    assert action_value(a, None) == 0.0
    assert action_value(a, PASS) == pytest.approx(a.policy[N * N] / 0.5)
    assert action_value(a, from_gtp("E4", N)) == pytest.approx(0.3 / 0.5)


def test_symmetric_moves_count_as_the_best_move() -> None:
    empty = label("e", "", policy(C3=0.2, G7=0.19, C7=0.18, G3=0.18))
    s = score({"e": empty}, [Answer("e", from_gtp("G3", N))])
    assert s.best_policy.k == 1  # the empty board is symmetric: G3 is C3
    assert s.action_value.value == pytest.approx(0.18 / 0.2)  # but it keeps its own prior
    one = label("o", "C3", policy(G7=0.5, C7=0.2))
    assert score({"o": one}, [Answer("o", from_gtp("C7", N))]).best_policy.k == 0  # C3 breaks that symmetry
    # ... except the diagonal through C3: G7's mirror image in it is G7 itself, and D3's is C4
    assert equivalent_moves(one.game().position, from_gtp("D3", N)) == {from_gtp("D3", N), from_gtp("C4", N)}


def test_the_eight_symmetries_are_distinct_bijections() -> None:
    points = [(r, c) for r in range(5) for c in range(5)]
    images = set()
    for t in TRANSFORMS:
        mapped = [t(r, c, 4) for r, c in points]
        assert sorted(mapped) == points
        images.add(tuple(mapped))
    assert len(images) == 8


# ---------------------------------------------------------------- players
class RawPlayer:
    """Plays the first legal point, but its raw (unmasked) choice is always A9."""

    name = "raw"

    def genmove(self, game: Game, color: int, *, cleanup: bool = False):
        return game.position.legal_moves(color)[0]

    def raw_move(self, game: Game, color: int):
        return (0, 0)


def test_players_raw_moves_give_the_raw_legal_rate(labels: dict[str, Label]) -> None:
    labels = dict(labels)
    labels["d"] = label("d", "A9 B9", policy(C9=0.5))  # A9 taken: the raw move is illegal here
    s = score(labels, answers_player(RawPlayer(), list(labels.values())))
    assert (s.raw_legal.k, s.raw_legal.n) == (3, 4)
    assert (s.legal.k, s.legal.n) == (4, 4)


def test_random_player_has_no_raw_rate_and_plays_legal_moves(labels: dict[str, Label]) -> None:
    from engine.player import RandomPlayer

    s = score(labels, answers_player(RandomPlayer(seed=0), list(labels.values())))
    assert s.raw_legal.n == 0 and s.legal.k == 3 and s.answered.k == 3


@pytest.mark.skipif(not gnugo_available(), reason="GNU Go is not installed")
def test_gtp_engine_answers_every_position_of_a_game_in_order(labels: dict[str, Label]) -> None:
    for lb in labels.values():
        lb.source["game"] = "g1"  # one game: the client must undo its genmove and play the next moves
    got = list(answers_gtp(gnugo_spec(0), list(labels.values()), move_timeout=30))
    assert [a.id for a in got] == ["a", "b", "c"]
    assert all(a.move is not None and a.legal and not a.error for a in got)


# ---------------------------------------------------------------- the cache and the CLI
def write_cache(path: Path) -> None:
    pol = [round(float(x), 6) for x in policy(E5=0.6)]
    recs = [{"id": "g:0", "size": 9, "komi": 7.0, "moves": [], "to_play": "B", "played": "E5", "policy": pol,
             "policy_best": "E5", "corpus": "x", "game": "g", "k": 0},
            {"id": "g:1", "size": 9, "komi": 7.0, "moves": [["B", "E5"]], "to_play": "W", "played": "C3",
             "policy": pol[:40] + [-1.0] + pol[41:], "corpus": "x", "game": "g", "k": 1},
            {"id": "g:0", "search": {"visits": 32, "best": "E5", "top": []}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs) + '{"id": "g:2", "si')  # torn last line


def test_label_cache_merges_search_lines_and_ignores_a_torn_line(tmp_path: Path) -> None:
    write_cache(tmp_path / "t.jsonl")
    labels = load_labels(tmp_path / "t.jsonl")
    assert list(labels) == ["g:0", "g:1"]
    assert labels["g:0"].search_best == from_gtp("E5", N) and labels["g:1"].search is None
    assert labels["g:1"].to_play == WHITE and labels["g:1"].moves == [(BLACK, from_gtp("E5", N))]
    assert labels["g:0"].policy_best == from_gtp("E5", N)


def test_eval_cli_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_cache(tmp_path / "t.jsonl")
    rc = cli_main(["eval", "run", "--player", "random", "--labels", str(tmp_path / "t.jsonl"),
                   "--out", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["positions"] == 2 and report["searched"] == 1
    assert report["players"]["random"]["legal"]["value"] == 1.0
    assert "Action-Value" in capsys.readouterr().out


def test_eval_cli_compares_later_players_with_the_first(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_cache(tmp_path / "t.jsonl")
    rc = cli_main(["eval", "run", "--player", "random", "--player", "py:engine.player:RandomPlayer:seed=5",
                   "--labels", str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    diff = report["players"]["py:engine.player:RandomPlayer:seed=5"]["minus_first"]
    assert diff["player"] == "random" and diff["best_policy"]["n"] == 2 and diff["action_value"]["n"] == 2
    assert "minus_first" not in report["players"]["random"]
    assert "minus random (paired)" in capsys.readouterr().out


def test_eval_cli_reads_the_split_cache_and_passes_player_options(tmp_path: Path, capsys) -> None:
    from engine.evaluate import resolve

    (tmp_path / "oracle").mkdir()
    write_cache(tmp_path / "oracle" / "val9.jsonl")
    rc = cli_main(["eval", "run", "--player", "random", "--data-dir", str(tmp_path), "--split", "val",
                   "--out", str(tmp_path / "r.json")])
    assert rc == 0 and json.loads((tmp_path / "r.json").read_text())["positions"] == 2
    # the test cache is a different file: absent here
    assert cli_main(["eval", "run", "--player", "random", "--data-dir", str(tmp_path)]) == 2
    kind, player = resolve("py:engine.player:RandomPlayer:seed=5", 9, 0)
    assert kind == "player" and player.genmove(Game(9), BLACK) == RandomPlayer(5).genmove(Game(9), BLACK)
    with pytest.raises(ValueError, match="name=value"):
        resolve("py:engine.player:RandomPlayer:5", 9, 0)


def test_eval_cli_refuses_a_bad_player_before_running_any(tmp_path: Path, capsys) -> None:
    write_cache(tmp_path / "t.jsonl")
    out = tmp_path / "r.json"
    for bad, reason in (("py:engine.player:RandomPlayer:sede=5", "unexpected keyword"),
                        ("py:engine.no_such_module:X", "no factory"), ("py:engine.player:NoSuch", "no factory"),
                        ("chess:3", "unknown player")):
        capsys.readouterr()
        rc = cli_main(["eval", "run", "--player", "random", "--player", bad, "--labels", str(tmp_path / "t.jsonl"),
                       "--out", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and reason in err and "Traceback" not in err, (bad, err)
        assert not out.exists()  # the good first player did not run either


# ---------------------------------------------------------------- KataGo (when installed)
@pytest.mark.katago
@pytest.mark.skipif(not katago_available(), reason="KataGo is not installed (scripts/install_katago.sh)")
def test_katago_labels_three_positions(tmp_path: Path) -> None:
    from engine.oracle import KataGoAnalysis

    game = Game(9, 7.0)
    for v in ("E5", "C3", "G7", "C7"):
        game.play(from_gtp(v, 9))
    CorpusFile(tmp_path / "data" / "tiny").append(dump_game(game), game_key(game), game.move_number)
    cands = candidates(tmp_path / "data", 9, split=None)  # a 4-move game: positions k = 0..3
    assert len(cands) == 4
    path = tmp_path / "data" / "oracle" / "test9.jsonl"
    with KataGoAnalysis(size=9) as oracle:
        stats = label_positions(oracle, path, cands, LabelConfig(positions=3, searched=1, search_visits=8),
                                progress=False)
        assert stats["policy_added"] == 3 and stats["search_added"] == 1
        again = label_positions(oracle, path, cands, LabelConfig(positions=3, searched=1), progress=False)
        assert again["policy_added"] == 0 and again["search_added"] == 0  # resumable: nothing to redo
    labels = load_labels(path)
    assert len(labels) == 3 and sum(1 for lb in labels.values() if lb.search) == 1
    for lb in labels.values():
        assert lb.policy.shape == (82,)
        assert np.isclose(lb.policy[lb.policy >= 0].sum(), 1.0, atol=1e-3)
        game = lb.game()
        for i in np.flatnonzero(lb.policy < 0):  # what KataGo calls illegal, our rules do too
            assert not game.position.is_legal(divmod(int(i), 9), lb.to_play)
        assert game.position.is_legal(lb.policy_best, lb.to_play)


def test_eval_cli_only_keeps_the_positions_with_a_group_in_atari(tmp_path: Path) -> None:
    pol = [round(float(x), 6) for x in policy(E5=0.6)]

    def rec(pid: str, moves: str) -> dict:
        ms = [["B" if i % 2 == 0 else "W", v] for i, v in enumerate(moves.split())]
        return {"id": pid, "size": 9, "komi": 7.0, "moves": ms, "to_play": "B" if len(ms) % 2 == 0 else "W",
                "policy": pol, "corpus": "x", "game": pid, "k": len(ms)}

    recs = [rec("plain", "E5 C3"),
            rec("own", "A9 A8 B9 B8"),  # black's A9-B9 has one liberty (C9), black to play
            rec("theirs", "A8 A9 B8 B9 E5 G5")]  # white's A9-B9 has one liberty, black to play
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    for only, kept in (("atari", "own"), ("capture", "theirs")):
        out = tmp_path / f"{only}.json"
        assert cli_main(["eval", "run", "--player", "random", "--labels", str(tmp_path / "t.jsonl"),
                         "--only", only, "--out", str(out)]) == 0
        report = json.loads(out.read_text())
        assert report["positions"] == 1 and report["only"] == only and report["games"] == 1
        assert report["players"]["random"]["legal"]["n"] == 1
    assert in_atari(load_labels(tmp_path / "t.jsonl")["own"].game().position, BLACK)


def test_answers_written_by_two_runs_pair_as_one_run_pairs_its_players(tmp_path: Path, capsys) -> None:
    """`eval run --answers` then `eval paired`: the same differences as the two players in one run, and the
    answers read back as written (a pass, a missing move, the raw move)."""
    write_cache(tmp_path / "t.jsonl")
    other = "py:engine.player:RandomPlayer:seed=5"
    common = ["--labels", str(tmp_path / "t.jsonl")]
    assert cli_main(["eval", "run", "--player", "random", "--player", other, *common, "--out", str(tmp_path / "r.json"),
                     "--answers", str(tmp_path / "both.jsonl")]) == 0
    for name, tag in (("random", "a"), (other, "b")):
        assert cli_main(["eval", "run", "--player", name, *common, "--out", str(tmp_path / f"{tag}.json"),
                         "--answers", str(tmp_path / f"{tag}.jsonl")]) == 0
    in_run = json.loads((tmp_path / "r.json").read_text())["players"][other]["minus_first"]
    capsys.readouterr()
    assert cli_main(["eval", "paired", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), *common,
                     "--out", str(tmp_path / "p.json")]) == 0
    paired = json.loads((tmp_path / "p.json").read_text())
    assert paired["minus_a"] == in_run and paired["both"] == 2
    assert "2 positions answered by both" in capsys.readouterr().out
    # one file holding both players: each named
    assert cli_main(["eval", "paired", str(tmp_path / "both.jsonl"), str(tmp_path / "both.jsonl"), "--player-a",
                     "random", "--player-b", other, *common, "--out", str(tmp_path / "p2.json")]) == 0
    assert json.loads((tmp_path / "p2.json").read_text())["minus_a"] == in_run
    # ... not named: a reason, exit 2; a broken line; answers on other labels
    assert cli_main(["eval", "paired", str(tmp_path / "both.jsonl"), str(tmp_path / "b.jsonl"), *common]) == 2
    assert "name one" in capsys.readouterr().err
    (tmp_path / "bad.jsonl").write_text('{"player": "x", "id": "g:0"}\n')
    assert cli_main(["eval", "paired", str(tmp_path / "bad.jsonl"), str(tmp_path / "b.jsonl"), *common]) == 2
    assert "bad.jsonl:1: not an answer line" in capsys.readouterr().err
    (tmp_path / "other.jsonl").write_text((tmp_path / "a.jsonl").read_text().replace('"g:1"', '"h:7"'))
    assert cli_main(["eval", "paired", str(tmp_path / "other.jsonl"), str(tmp_path / "b.jsonl"), *common]) == 2
    assert "not in" in capsys.readouterr().err
    answers = [Answer("g:0", PASS, from_gtp("E5", N), False, True), Answer("g:1", None, error="timeout")]
    write_answers(tmp_path / "rt.jsonl", {"p": answers}, N)
    assert read_answers(tmp_path / "rt.jsonl", N) == {"p": answers}
    import gzip  # the answers kept in docs/ are gzipped: read as they are

    (tmp_path / "rt.jsonl.gz").write_bytes(gzip.compress((tmp_path / "rt.jsonl").read_bytes()))
    assert read_answers(tmp_path / "rt.jsonl.gz", N) == {"p": answers}
