"""Rules of the engine, checked on boards drawn in ASCII (X black, O white, row 0 at the top)."""

from __future__ import annotations

import pytest

from engine import coords
from engine.board import IllegalMove, Position, from_ascii
from engine.coords import BLACK, EMPTY, PASS, WHITE, CoordError
from engine.game import Game, HandicapError, fixed_handicap_points
from engine.sgf import SgfError, dump_game, load_game, parse_collection


def gtp(*vertices: str, size: int = 9) -> list:
    return [coords.from_gtp(v, size) for v in vertices]


# ------------------------------------------------------------------ captures
def test_single_stone_captured_and_counted():
    pos = from_ascii("""
        . X . . .
        X O X . .
        . . . . .
        . . . . .
        . . . . .
    """)
    after = pos.play((2, 1), BLACK)
    assert after[(1, 1)] == EMPTY
    assert after.captures == (1, 0)
    assert after.to_play == WHITE


def test_multi_stone_group_captured_at_once():
    pos = from_ascii("""
        O O O . .
        X X X X .
        . . . . .
        . . . . .
        . . . . .
    """)
    after = pos.play((0, 3), BLACK)
    assert [after[(0, c)] for c in range(3)] == [EMPTY] * 3
    assert after.captures == (3, 0)


def test_snapback_recaptures_five_stones_and_is_not_ko():
    pos = from_ascii("""
        . . X O .
        X X X O .
        O O O O .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    pos = pos.play((0, 1), WHITE)  # throw-in: black's chain is now in atari
    pos = pos.play((0, 0), BLACK)  # black takes the one stone ...
    assert pos[(0, 1)] == EMPTY and pos.captures == (1, 0)
    pos = pos.play((0, 1), WHITE)  # ... and white takes back five at once (no ko: five stones)
    assert pos.captures == (1, 5)
    assert all(pos[p] == EMPTY for p in [(0, 0), (0, 2), (1, 0), (1, 1), (1, 2)])


# ------------------------------------------------------------------ ko and superko
KO = """
    . X O . .
    X O . O .
    . X O . .
    . . . . .
    . . . . .
"""


def test_ko_recapture_illegal_until_intervening_move():
    pos = from_ascii(KO).play((1, 2), BLACK)  # black takes the ko
    assert pos[(1, 1)] == EMPTY
    with pytest.raises(IllegalMove) as e:
        pos.play((1, 1), WHITE)
    assert e.value.reason == "ko"
    assert not pos.legal_mask(WHITE)[coords.to_flat((1, 1), 5)]
    pos = pos.play((4, 4), WHITE).play((4, 0), BLACK)  # a ko threat and its answer
    retaken = pos.play((1, 1), WHITE)
    assert retaken[(1, 2)] == EMPTY


def test_ko_retake_after_two_passes_is_still_superko():
    # Passes end the simple-ko ban but the retake would recreate the board before the
    # capture, which positional superko forbids whatever happened in between.
    pos = from_ascii(KO).play((1, 2), BLACK).play(PASS).play(PASS)
    assert pos.ko == -1
    with pytest.raises(IllegalMove) as e:
        pos.play((1, 1), WHITE)
    assert e.value.reason == "superko"


# Three kos on the boundary between a living black wall (left) and a living white wall
# (right). In state "W" a white stone sits at (r, 4); in state "B" a black one at (r, 5).
TRIPLE_KO = """
    . X X X X O O O .
    X X X X O . O O O
    X X X X X O O O O
    . X X X X O O O .
    X X X X . X O O O
    X X X X X O O O O
    . X X X X O O O .
    X X X X O . O O O
    X X X X X O O O O
"""


def test_triple_ko_cycle_is_forbidden_by_positional_superko():
    # Kos at rows 1, 4, 7 start as (W, B, W). Each move takes a ko that was not just
    # taken, so simple ko never objects, but six captures bring the board back.
    start = from_ascii(TRIPLE_KO, to_play=BLACK)
    cycle = [((1, 5), BLACK), ((4, 4), WHITE), ((7, 5), BLACK), ((1, 4), WHITE), ((4, 5), BLACK)]
    pos = start
    for move, color in cycle:
        pos = pos.play(move, color)
    # White taking ko 3 would recreate the starting board.
    before = pos
    with pytest.raises(IllegalMove) as e:
        pos.play((7, 4), WHITE)
    assert e.value.reason == "superko"
    assert not pos.legal_mask(WHITE)[coords.to_flat((7, 4), 9)]
    assert pos == before  # the failed attempt changed nothing
    # Without the history the same capture is an ordinary legal move.
    assert Position(9, pos.stones, WHITE).play((7, 4), WHITE).stones == start.stones


# ------------------------------------------------------------------ suicide, occupied
def test_single_stone_suicide_illegal():
    pos = from_ascii("""
        . X . . .
        X . . . .
        . . . . .
        . . . . .
        . . . . .
    """)
    with pytest.raises(IllegalMove) as e:
        pos.play((0, 0), WHITE)
    assert e.value.reason == "suicide"


def test_multi_stone_suicide_illegal():
    pos = from_ascii("""
        . X O . .
        O O O . .
        . . . . .
        . . . . .
        . . . . .
    """)
    with pytest.raises(IllegalMove) as e:
        pos.play((0, 0), BLACK)
    assert e.value.reason == "suicide"


def test_filling_last_liberty_is_legal_when_it_captures():
    pos = from_ascii("""
        . X O . .
        X O O . .
        O O . . .
        . . . . .
        . . . . .
    """)
    # Both black stones have (0,0) as their last liberty: white's stone there takes them.
    after = pos.play((0, 0), WHITE)
    assert after[(0, 1)] == EMPTY and after[(1, 0)] == EMPTY and after.captures == (0, 2)


def test_occupied_point_illegal():
    pos = Position(9).play((4, 4))
    with pytest.raises(IllegalMove) as e:
        pos.play((4, 4))
    assert e.value.reason == "occupied"


def test_legal_mask_has_every_point_then_pass():
    pos = from_ascii("""
        . X . . .
        X . . . .
        . . O . .
        . . . . .
        . . . . .
    """, to_play=WHITE)
    mask = pos.legal_mask()
    assert mask.shape == (26,) and mask.dtype == bool
    assert mask[25]  # pass is last and always legal
    assert not mask[0]  # suicide for white
    assert not mask[1] and not mask[5] and not mask[12]  # occupied
    assert mask.sum() == 25 - 4 + 1
    assert pos.legal_mask(BLACK)[0]  # black may fill its own corner


# ------------------------------------------------------------------ scoring
SEKI = """
    . X X X X X .
    X X X X X X X
    O O O O O O O
    O O O . . X X
    X X X X X X X
    O O O O O O O
    . O O O O O .
"""


def test_seki_shared_liberties_count_for_nobody():
    pos = from_ascii(SEKI)
    # Neither inner chain can approach: each side's move at a shared liberty is self-atari.
    approach = pos.play((3, 3), BLACK)
    assert approach.play((3, 4), WHITE).captures == (0, 10)
    assert pos.area() == (21 + 2, 22 + 2)
    assert pos.score(0.5) == -1.5
    game = Game(size=7, komi=0.5, positions=[pos])
    assert game.result() == "W+1.5"


def test_area_score_counts_stones_and_surrounded_empty_with_komi():
    pos = from_ascii("""
        . X O . .
        . X O . .
        X X O . .
        . X O O O
        . X O . .
    """)
    assert pos.area() == (6 + 4, 7 + 8)
    assert pos.score(7.5) == 10 - 15 - 7.5
    assert Position(5).score(0) == 0  # empty board: every region touches no colour


def test_game_result_strings():
    g = Game(size=5, komi=0.5)
    g.play((2, 2))
    assert g.result() == "B+24.5"
    g.play(coords.RESIGN, BLACK)
    assert g.result() == "W+R"


# ------------------------------------------------------------------ handicap
@pytest.mark.parametrize(
    "size,count,expected",
    [
        (19, 2, "D4 Q16"),
        (19, 3, "D4 Q16 D16"),
        (19, 4, "D4 Q16 D16 Q4"),
        (19, 5, "D4 Q16 D16 Q4 K10"),
        (19, 6, "D4 Q16 D16 Q4 D10 Q10"),
        (19, 7, "D4 Q16 D16 Q4 D10 Q10 K10"),
        (19, 8, "D4 Q16 D16 Q4 D10 Q10 K4 K16"),
        (19, 9, "D4 Q16 D16 Q4 D10 Q10 K4 K16 K10"),
        (13, 4, "D4 K10 D10 K4"),
        (13, 9, "D4 K10 D10 K4 D7 K7 G4 G10 G7"),
        (9, 2, "C3 G7"),
        (9, 5, "C3 G7 C7 G3 E5"),
        (9, 9, "C3 G7 C7 G3 C5 G5 E3 E7 E5"),
    ],
)
def test_fixed_handicap_matches_gtp_spec(size, count, expected):
    points = fixed_handicap_points(count, size)
    assert set(points) == set(gtp(*expected.split(), size=size))
    g = Game(size=size)
    g.place_handicap(points)
    assert g.to_play == WHITE and sum(g.position.stones) == count * BLACK


@pytest.mark.parametrize("size,count", [(19, 1), (19, 10), (9, 10), (8, 5), (7, 5), (6, 2), (13, 0)])
def test_fixed_handicap_out_of_range_rejected(size, count):
    with pytest.raises(HandicapError):
        fixed_handicap_points(count, size)


def test_handicap_needs_empty_board():
    g = Game(size=9)
    g.play((4, 4))
    with pytest.raises(HandicapError):
        g.place_handicap(fixed_handicap_points(2, 9))


# ------------------------------------------------------------------ undo
def test_undo_restores_the_exact_previous_position():
    g = Game(size=9)
    for v in ["E5", "D5", "D4", "C4", "E4", "D3", "C5", "D6"]:
        g.play(coords.from_gtp(v, 9))
    history = list(g.positions)
    g.play(coords.from_gtp("E6", 9))
    g.play(PASS)
    assert g.undo() and g.undo()
    assert g.position is history[-1] and g.position == history[-1]
    assert g.positions == history
    while g.undo():
        pass
    assert g.position == Position(9) and g.move_number == 0
    assert not g.undo()


# ------------------------------------------------------------------ coordinates
@pytest.mark.parametrize("size", [9, 13, 19])
def test_coords_round_trip_every_point(size):
    for r in range(size):
        for c in range(size):
            p = (r, c)
            for to, back in [(coords.to_gtp, coords.from_gtp), (coords.to_sgf, coords.from_sgf),
                             (coords.to_flat, coords.from_flat)]:
                assert back(to(p, size), size) == p
            assert coords.from_gtp(coords.to_gtp(p, size).lower(), size) == p
    assert coords.from_flat(coords.to_flat(PASS, size), size) is PASS
    assert coords.from_gtp(coords.to_gtp(PASS, size), size) is PASS
    assert coords.from_sgf(coords.to_sgf(PASS, size), size) is PASS


def test_coords_known_values_and_case_insensitive():
    assert coords.to_gtp((0, 0), 9) == "A9" and coords.to_gtp((8, 8), 9) == "J1"
    assert coords.from_gtp("j1", 9) == (8, 8) and coords.from_gtp("PaSs", 9) is PASS
    assert coords.from_gtp("ReSiGn", 9) is coords.RESIGN
    assert coords.to_sgf((0, 1), 19) == "ba" and coords.from_sgf("TT", 19) is PASS
    assert coords.parse_color("WHITE") == WHITE and coords.parse_color("b") == BLACK


@pytest.mark.parametrize("bad", ["I5", "A0", "A10", "Z1", "5A", "", "A", "A-1", "AA1", "A²"])
def test_bad_gtp_vertices_rejected(bad):
    with pytest.raises(CoordError):
        coords.from_gtp(bad, 9)


def test_sizes_2_to_25_accepted_1_and_26_rejected():
    for size in range(2, 26):
        assert Position(size).legal_mask().shape == (size * size + 1,)
        assert coords.to_gtp((0, size - 1), size) == coords.GTP_COLUMNS[size - 1] + str(size)
    for bad in (0, 1, 26, 100):
        with pytest.raises(CoordError):
            coords.check_size(bad)
        with pytest.raises(CoordError):
            Game(size=bad)


# ------------------------------------------------------------------ SGF
def test_sgf_round_trip_keeps_moves_setup_komi_handicap_result_players():
    g = Game(size=9, komi=0.5)
    g.place_handicap(fixed_handicap_points(2, 9))
    for v in ["E5", "D4", "pass", "F6", "C7"]:
        g.play(coords.from_gtp(v, 9))
    data = dump_game(g, black="Bee", white="Wasp", result="W+R")
    rec = parse_collection(data)[0]
    assert (rec.black_player, rec.white_player, rec.result, rec.komi, rec.handicap) == ("Bee", "Wasp", "W+R", 0.5, 2)
    back = load_game(data)
    assert back.moves == g.moves and back.komi == 0.5 and back.handicap == g.handicap
    assert [p.stones for p in back.positions] == [p.stones for p in g.positions]


def test_sgf_round_trip_of_black_and_white_setup_stones():
    g = Game(size=13, komi=6.5)
    g.setup([(3, 3), (9, 9)], [(3, 9)], to_play=WHITE)
    g.play((6, 6), WHITE)
    back = load_game(dump_game(g))
    assert back.positions[0].stones == g.positions[0].stones
    assert back.moves == [(WHITE, (6, 6))] and back.size == 13 and back.komi == 6.5


def test_sgf_from_the_wild_missing_komi_and_lowercase_tt_pass():
    game = load_game(b"(;GM[1]SZ[9];B[ee];W[tt];B[dd])", default_komi=6.5)
    assert game.komi == 6.5
    assert game.moves == [(BLACK, (4, 4)), (WHITE, PASS), (BLACK, (3, 3))]
    assert load_game(b"(;SZ[19]KM[7.5];B[pd];W[])").moves[1] == (WHITE, PASS)


def test_sgf_collection_with_several_games():
    data = b"(;GM[1]SZ[9]KM[7];B[ee])\n(;GM[1]SZ[13]KM[6.5];B[gg];W[dd])"
    records = parse_collection(data)
    assert [r.size for r in records] == [9, 13]
    assert load_game(data, index=1).moves[1] == (WHITE, (3, 3))


@pytest.mark.parametrize("broken", [b"", b"not sgf at all", b"(;GM[1]SZ[9];B[ee]", b"(;GM[2]SZ[9])",
                                    b"(;SZ[30];B[aa])", b"(;SZ[9];B[ee];W[ee])"])
def test_broken_sgf_raises_sgf_error(broken):
    with pytest.raises(SgfError):
        load_game(broken)


def test_unsettled_points_count_empty_regions_touching_both_colours_or_none():
    from engine.board import Position, from_ascii

    assert Position(9).unsettled_points() == 81  # an empty board touches no colour
    settled = from_ascii("""
        . X O .
        X X O O
        X X O .
        . X O O
    """)
    assert settled.unsettled_points() == 0
    open_board = from_ascii("""
        . . . .
        . X . .
        . . O .
        . . . .
    """)
    assert open_board.unsettled_points() == 14
    assert open_board.area() == (1, 1)
    # one colour alone is an opening, not a finished game, however its one region is bordered
    one_colour = from_ascii("""
        . . . .
        . X . .
        . . X .
        . . . .
    """)
    assert one_colour.unsettled_points() == 14 and one_colour.area() == (16, 0)


def test_chains_liberties_and_empty_regions_as_points():
    """The board's one chain walker and region walker, which play, scoring, dead stones and GTP share."""
    from engine.board import all_chains, chain_at, empty_regions, neighbours

    pos = from_ascii("""
        X X . O
        X . O O
        . . . .
        O . . X
    """)
    # flat points: row * 4 + column
    assert all_chains(pos.stones, 4) == [[0, 1, 4], [3, 6, 7], [12], [15]]
    points, libs = chain_at(pos.stones, 4, neighbours(4))
    assert sorted(points) == [0, 1, 4] and libs == {2, 5, 8}
    assert chain_at(pos.stones, 15, neighbours(4))[1] == {11, 14}
    regions = [(sorted(p), b) for p, b in empty_regions(pos.stones, 4)]
    assert regions == [([2], BLACK | WHITE), ([5, 8, 9, 10, 11, 13, 14], BLACK | WHITE)]
    corner = from_ascii("""
        . X . .
        X X . .
        . . . .
        . . . .
    """)
    assert [(sorted(p), b) for p, b in empty_regions(corner.stones, 4)] == [
        ([0], BLACK), ([2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], BLACK)]
    assert corner.area() == (3 + 13, 0)  # Tromp-Taylor: every region touching only Black is Black's
