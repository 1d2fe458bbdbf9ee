"""render/: frames, the reader, game videos, the shard cache and the `render` subcommand."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.board import IllegalMove, Position, from_ascii
from engine.coords import BLACK, EMPTY, PASS
from engine.game import Game
from engine.sgf import dump_game, load_game
from render.corpus import Corpus, read_index, render_corpus
from render.frame import RenderConfig, geometry, render, render_many, to_float, to_uint8
from render.reader import patch_mask, read_board, read_boards
from render.video import game_frames, game_stones

DEFAULT = RenderConfig()
HI = RenderConfig(resolution=256)


def random_position(size: int, moves: int, rng: random.Random) -> Position:
    """Random legal play (captures, ko and all) from the empty board; passes when stuck."""
    pos = Position(size)
    for _ in range(moves):
        empty = [i for i, v in enumerate(pos.stones) if v == EMPTY]
        rng.shuffle(empty)
        for p in empty[:30]:
            try:
                pos = pos.play(divmod(p, size))
                break
            except IllegalMove:
                continue
        else:
            pos = pos.play(PASS)
    return pos


def random_game(size: int, moves: int, seed: int, pass_at: tuple[int, ...] = ()) -> Game:
    rng = random.Random(seed)
    game = Game(size=size)
    for n in range(moves):
        if n in pass_at:
            game.play(PASS)
            continue
        empty = [i for i, v in enumerate(game.position.stones) if v == EMPTY]
        rng.shuffle(empty)
        for p in empty[:30]:
            if game.position.is_legal(divmod(p, size)):
                game.play(divmod(p, size))
                break
        else:
            game.play(PASS)
    return game


def pixel(frame: np.ndarray, row: int, col: int) -> tuple[int, ...]:
    return tuple(int(v) for v in frame[row, col])


# ----------------------------------------------------------------- frames
@pytest.mark.parametrize("cfg", [DEFAULT, HI], ids=["default", "256"])
@pytest.mark.parametrize("size", [9, 13, 19])
def test_frame_is_uint8_square_rgb_of_the_configured_resolution(size, cfg):
    frame = render(Position(size), cfg)
    assert frame.dtype == np.uint8
    assert frame.shape == (cfg.resolution, cfg.resolution, 3)


def test_same_position_renders_byte_identical_frames():
    import hashlib
    import subprocess
    import sys

    import render.frame as frame_mod

    pos = random_position(9, 60, random.Random(1))
    first = render(pos)
    frame_mod._tiles.cache_clear()  # rebuilt tiles give the same bytes too
    again = render(pos.array())
    assert first.tobytes() == again.tobytes()
    assert render(pos.stones).tobytes() == first.tobytes()
    batch = render_many(np.stack([pos.array(), Position(9).array()]))
    assert batch[0].tobytes() == first.tobytes()
    # ... and so does a fresh process.
    code = (
        "import hashlib, numpy as np; from render.frame import render; "
        f"print(hashlib.sha256(render(np.frombuffer({pos.stones!r}, np.uint8).reshape(9, 9)).tobytes()).hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == hashlib.sha256(first.tobytes()).hexdigest()


def test_empty_board_has_background_margins_and_one_pixel_black_grid():
    g = geometry(9, DEFAULT)
    frame = render(Position(9))
    a, b = g.line_px(0), g.line_px(8)
    assert pixel(frame, 0, 0) == DEFAULT.background
    assert pixel(frame, a, a) == DEFAULT.line and pixel(frame, b, b) == DEFAULT.line
    # Each line is exactly 1 px wide: its neighbours between two lines are background.
    mid, between = g.line_px(4), g.line_px(4) + g.spacing // 2  # a row between two lines
    assert pixel(frame, between, g.line_px(1)) == DEFAULT.line
    assert pixel(frame, between, g.line_px(1) + 1) == DEFAULT.background
    assert pixel(frame, between, g.line_px(1) - 1) == DEFAULT.background
    assert pixel(frame, mid - 1, between) == DEFAULT.background
    assert pixel(frame, mid + 1, between) == DEFAULT.background
    # No grid outside the outer lines, and no star points (tengen's diagonals are background).
    assert pixel(frame, a - 1, mid) == DEFAULT.background
    assert pixel(frame, mid + 1, mid + 1) == DEFAULT.background
    # Exactly three colours may ever appear; the empty board has two.
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) == 2


def test_stones_are_flat_discs_centred_on_their_intersection():
    pos = from_ascii("""
        X . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . O . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
    """)
    for cfg in (DEFAULT, HI):
        g = geometry(9, cfg)
        frame = render(pos, cfg)
        c0, c4 = g.line_px(0), g.line_px(4)
        assert pixel(frame, c0, c0) == cfg.black
        assert pixel(frame, c4, c4) == cfg.white
        r = g.radius
        assert pixel(frame, c4 + r, c4) == cfg.white  # the disc reaches its radius ...
        assert pixel(frame, c4 - r - 1, c4) == cfg.line  # ... and the grid shows beyond it
        assert pixel(frame, c4 + r, c4 + r) == cfg.background  # round, not square
        # Flat: background, black and white only (no shading, no anti-aliased rim).
        assert len(np.unique(frame.reshape(-1, 3), axis=0)) == 3
        ys, xs = np.nonzero((frame == np.array(cfg.white, dtype=np.uint8)).all(-1))
        assert ys.min() == c4 - r and ys.max() == c4 + r and xs.min() == c4 - r and xs.max() == c4 + r


def test_resolution_too_small_for_the_board_is_a_clear_error():
    with pytest.raises(ValueError, match="for_size"):
        render(Position(25))  # 64 px leaves 2 px per line
    assert RenderConfig.for_size(9).resolution == 64
    assert RenderConfig.for_size(19).resolution == 128


def test_to_float_maps_pixels_to_minus_one_one_and_back():
    x = np.arange(256, dtype=np.uint8)
    f = to_float(x)
    assert f.dtype == np.float32
    assert f[0] == -1.0 and f[-1] == 1.0 and f.min() >= -1 and f.max() <= 1
    assert (to_uint8(f) == x).all()


# ----------------------------------------------------------------- reader
@pytest.mark.parametrize("cfg", [DEFAULT, HI], ids=["default", "256"])
@pytest.mark.parametrize("size", [9, 13, 19])
def test_reader_reads_back_random_legal_positions_exactly(size, cfg):
    rng = random.Random(size * 1000 + cfg.resolution)
    positions = [random_position(size, rng.randint(0, 2 * size * size), rng) for _ in range(6)]
    stones = np.stack([p.array() for p in positions])
    assert len({p.stones.count(BLACK) for p in positions}) > 1  # the positions do differ
    frames = render_many(stones, cfg)
    assert (read_boards(frames, size, cfg) == stones).all()
    assert (read_boards(to_float(frames), size, cfg) == stones).all()
    assert (read_board(frames[-1], size, cfg) == stones[-1]).all()


@pytest.mark.parametrize("size", list(range(2, 26)))
def test_every_board_size_renders_and_reads_back(size):
    cfg = RenderConfig.for_size(size)
    pos = random_position(size, size * size, random.Random(size))
    assert (read_board(render(pos, cfg), size, cfg) == pos.array()).all()
    # Any array of stones, legal or not, at any resolution that fits (odd ones too).
    rng = np.random.default_rng(size)
    for res in (3 * size, 64, 97, 256):
        if res >= 3 * size:
            cfg = RenderConfig(resolution=res)
            stones = rng.integers(0, 3, (4, size, size), dtype=np.uint8)
            assert (read_boards(render_many(stones, cfg), size, cfg) == stones).all(), res


@pytest.mark.parametrize(
    "size, cfg", [(9, DEFAULT), (9, HI), (19, RenderConfig.for_size(19))], ids=["9-default", "9-256", "19-128"]
)
def test_reader_survives_noise_and_blur_like_a_decoded_frame(size, cfg):
    pos = random_position(size, size * size, random.Random(5))
    x = to_float(render(pos, cfg))
    # A 3x3 box blur softens every edge and line, then heavy pixel noise on top.
    pad = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h = cfg.resolution
    blurred = sum(pad[dy : dy + h, dx : dx + h] for dy in range(3) for dx in range(3)) / 9
    rng = np.random.default_rng(0)
    noisy = blurred + rng.normal(0, 0.35, x.shape).astype(np.float32)
    assert (read_board(noisy, size, cfg) == pos.array()).all()
    assert (read_board(to_uint8(np.clip(noisy, -1, 1)), size, cfg) == pos.array()).all()
    sharp_noisy = x + rng.normal(0, 0.5, x.shape).astype(np.float32)
    assert (read_board(sharp_noisy, size, cfg) == pos.array()).all()


@pytest.mark.parametrize("size, cfg", [(9, DEFAULT), (19, RenderConfig.for_size(19))], ids=["9-64", "19-128"])
def test_patch_mask_holds_every_pixel_the_reader_looks_at(size, cfg):
    mask = patch_mask(size, cfg)
    assert mask.shape == (cfg.resolution, cfg.resolution) and 9 * size * size <= mask.sum() < mask.size // 2
    pos = random_position(size, size * size, random.Random(7))
    x = to_float(render(pos, cfg))
    garbage = np.random.default_rng(1).uniform(-1, 1, x.shape).astype(np.float32)
    outside = np.where(mask[..., None], x, garbage)  # anything at all outside the mask
    assert (read_board(outside, size, cfg) == pos.array()).all()
    inside = np.where(mask[..., None], garbage, x)  # the mask's pixels alone decide the board
    assert not (read_board(inside, size, cfg) == pos.array()).all()


def test_reader_rejects_a_frame_of_the_wrong_shape():
    with pytest.raises(ValueError, match="frames must be"):
        read_board(render(Position(9), HI), 9, DEFAULT)


# ----------------------------------------------------------------- video
def test_video_of_an_sgf_game_has_one_frame_per_move_plus_the_empty_board():
    game = load_game(dump_game(random_game(9, 40, seed=3, pass_at=(17,))))
    assert len(game.moves) == 40
    frames = game_frames(game)
    assert frames.shape == (41, 64, 64, 3) and frames.dtype == np.uint8
    boards = read_boards(frames, 9)
    assert not boards[0].any()  # empty board first
    assert (boards == game_stones(game)).all()
    assert (boards[-1] == game.position.array()).all()
    assert frames[18].tobytes() == frames[17].tobytes()  # the pass repeats its frame
    assert all(frames[i].tobytes() != frames[i + 1].tobytes() for i in range(40) if i != 17)


# ----------------------------------------------------------------- command line
@pytest.fixture
def sgf_file(tmp_path):
    path = tmp_path / "game.sgf"
    path.write_bytes(dump_game(random_game(9, 30, seed=7)))
    return path


def test_render_command_writes_a_png_of_the_position_after_n_moves(sgf_file, tmp_path):
    from engine.cli import main

    game = load_game(sgf_file.read_bytes())
    out = tmp_path / "pos.png"
    assert main(["render", str(sgf_file), "-o", str(out), "--move", "12", "--size-px", "128"]) == 0
    img = np.asarray(Image.open(out).convert("RGB"))
    cfg = RenderConfig(resolution=128)
    assert img.shape == (128, 128, 3)
    assert (read_board(img, 9, cfg) == game.positions[12].array()).all()
    final = tmp_path / "final.png"
    assert main(["render", str(sgf_file), "-o", str(final)]) == 0
    assert (read_board(np.asarray(Image.open(final).convert("RGB")), 9, HI) == game.position.array()).all()
    assert main(["render", str(sgf_file), "-o", str(out), "--move", "31"]) == 2


def test_render_command_writes_an_animated_gif_of_the_game(sgf_file, tmp_path):
    from engine.cli import main

    game = load_game(sgf_file.read_bytes())
    out = tmp_path / "game.gif"
    assert main(["render", str(sgf_file), "-o", str(out), "--size-px", "64"]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 31  # no passes in this game, so no frames merge
        gif.seek(0)
        assert not read_board(np.asarray(gif.convert("RGB")), 9).any()
        gif.seek(gif.n_frames - 1)
        assert (read_board(np.asarray(gif.convert("RGB")), 9) == game.position.array()).all()


# ----------------------------------------------------------------- corpus cache
def _write_corpus(tmp_path) -> list:
    src = tmp_path / "sgf"
    src.mkdir()
    (src / "a.sgf").write_bytes(dump_game(random_game(9, 25, seed=11)))
    two = dump_game(random_game(9, 12, seed=12)) + dump_game(random_game(9, 30, seed=13))
    (src / "b.sgf").write_bytes(two)  # a collection of two games
    (src / "c.sgf").write_bytes(b"(;GM[1]SZ[9];B[ee];W[ee])")  # illegal second move
    (src / "d.sgf").write_bytes(dump_game(random_game(9, 20, seed=14)))
    return sorted(src.glob("*.sgf"))


def test_corpus_cache_shards_games_and_a_second_run_writes_nothing(tmp_path):
    paths = _write_corpus(tmp_path)
    cache = tmp_path / "cache"
    report = render_corpus(paths, cache, shard_frames=40, root=paths[0].parent, progress=False)
    assert report.games_rendered == 4 and report.games_skipped == 1
    assert report.frames_written == 26 + 13 + 31 + 21
    index = read_index(cache)
    assert [s["frames"] for s in index["shards"]] == [26 + 13 + 31, 21]  # whole games, >= 40 a shard
    assert index["skipped"][0]["game"] == "c.sgf#0" and "illegal" in index["skipped"][0]["reason"]

    corpus = Corpus(cache)
    assert [g["game"] for g in corpus.games] == ["a.sgf#0", "b.sgf#0", "b.sgf#1", "d.sgf#0"]
    assert corpus.config() == DEFAULT
    for i, g in enumerate(corpus.games):
        name, k = g["game"].split("#")
        expected = game_frames(load_game((paths[0].parent / name).read_bytes(), index=int(k)))
        assert corpus.frames(i).tobytes() == expected.tobytes()

    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    again = render_corpus(paths, cache, shard_frames=40, root=paths[0].parent, progress=False)
    assert (again.games_rendered, again.shards_written, again.frames_written) == (0, 0, 0)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before


@pytest.mark.parametrize("killed", [False, True], ids=["ctrl-c", "killed"])
def test_corpus_cache_resumed_after_an_interruption_matches_one_full_run(tmp_path, monkeypatch, killed):
    import render.corpus as corpus_mod

    paths = _write_corpus(tmp_path)
    root = paths[0].parent
    render_corpus(paths, tmp_path / "full", shard_frames=30, root=root, progress=False)

    replay, calls = corpus_mod.record_to_game, []

    def interrupted(rec, *args):
        calls.append(rec)
        if len(calls) == 5:  # a, b#0, b#1, c (illegal, skipped) replayed; stop before d
            raise KeyboardInterrupt
        return replay(rec, *args)

    monkeypatch.setattr(corpus_mod, "record_to_game", interrupted)
    if killed:  # no index write after the first one: as if the process died without cleanup
        write_index, writes = corpus_mod._ShardWriter.write_index, []

        def first_write_only(self):
            if not writes:
                writes.append(1)
                write_index(self)

        monkeypatch.setattr(corpus_mod._ShardWriter, "write_index", first_write_only)
    with pytest.raises(KeyboardInterrupt):
        render_corpus(paths, tmp_path / "resumed", shard_frames=30, root=root, progress=False)
    monkeypatch.undo()
    # Two shards were written; a killed run's index lists only the first (the second is orphaned).
    assert (tmp_path / "resumed" / "shard_00001.npy").exists()
    assert len(read_index(tmp_path / "resumed")["shards"]) == (1 if killed else 2)
    report = render_corpus(paths, tmp_path / "resumed", shard_frames=30, root=root, progress=False)
    assert report.games_rendered == (2 if killed else 1)  # (b#1 and) d were left

    full, resumed = read_index(tmp_path / "full"), read_index(tmp_path / "resumed")
    for key in ("games", "shards", "skipped", "files"):
        assert resumed[key] == full[key]
    for s in full["shards"]:
        assert (tmp_path / "full" / s["file"]).read_bytes() == (tmp_path / "resumed" / s["file"]).read_bytes()
    with pytest.raises(ValueError, match="another"):
        render_corpus(paths, tmp_path / "full", cfg=HI, shard_frames=30, root=root, progress=False)


def test_compressed_corpus_cache_holds_the_same_frames(tmp_path):
    paths = _write_corpus(tmp_path)
    root = paths[0].parent
    render_corpus(paths, tmp_path / "npy", shard_frames=30, root=root, progress=False)
    render_corpus(paths, tmp_path / "npz", shard_frames=30, root=root, compress=True, progress=False)
    plain, packed = Corpus(tmp_path / "npy"), Corpus(tmp_path / "npz")
    assert all(s["file"].endswith(".npz") for s in packed.index["shards"])
    assert len(plain) == len(packed) == 4
    for i in range(len(plain)):
        assert plain.frames(i).tobytes() == packed.frames(i).tobytes()
