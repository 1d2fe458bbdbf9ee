"""Model invariants: FSQ, tokenizer, LDM causality, KV cache, sequences, the tiny pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from models.dynamics import DYNAMICS_SIZES, LatentDynamics
from models.fsq import FSQ
from models.tokenizer import TOKENIZER_SIZES, FrameTokenizer
from models.transformer import ModelArgs, Transformer
from models.vocab import ACT_START, IGNORE, IM_END, IM_START, Layout, build_sequences

REPO = Path(__file__).resolve().parent.parent


def test_fsq_indices_codes_round_trip_over_the_whole_codebook():
    fsq = FSQ((8, 8, 8, 5, 5, 5))
    assert fsq.codebook_size == 64000
    idx = torch.arange(64000)
    codes = fsq.indices_to_codes(idx)
    assert codes.min() >= -1 and codes.max() <= 1
    assert torch.equal(fsq.codes_to_indices(codes), idx)
    # quantizing an already-quantized code is the identity (up to the bound's tiny margin)
    z = torch.randn(1000, 6) * 3
    q = fsq(z)
    assert torch.equal(fsq.codes_to_indices(q), fsq.codes_to_indices(fsq.indices_to_codes(fsq.codes_to_indices(q))))
    assert len(torch.unique(fsq.indices_to_digits(idx)[:, 0])) == 8


def test_fsq_passes_gradients_straight_through():
    fsq = FSQ((8, 5))
    z = torch.randn(10, 2, requires_grad=True)
    fsq(z).sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_tokenizer_maps_a_frame_to_16_tokens_and_back():
    tok = FrameTokenizer(TOKENIZER_SIZES["tiny"])
    frames = torch.rand(3, 3, 64, 64) * 2 - 1
    ids = tok.encode(frames)
    assert ids.shape == (3, 16) and ids.dtype == torch.long
    assert int(ids.min()) >= 0 and int(ids.max()) < 64000
    out = tok.decode(ids)
    assert out.shape == (3, 3, 64, 64) and out.abs().max() <= 1


def test_pixel_ldm_code_h_does_not_see_frames_after_t_plus_h():
    from models.ldm import build_dynamics

    torch.manual_seed(0)
    ldm = build_dynamics(DYNAMICS_SIZES["pixel-tiny"]).eval()
    frames = torch.rand(2, 6, 3, 64, 64) * 2 - 1
    changed = frames.clone()
    changed[:, 4:] = torch.rand(2, 2, 3, 64, 64) * 2 - 1  # frames t+4, t+5
    with torch.no_grad():
        f_a, f_b = ldm.features(frames), ldm.features(changed)
        q_a = ldm.codes(f_a)
        # before quantization: the pre-FSQ values of z_1..z_3 are identical, z_4 differs
        assert torch.allclose(q_a[:, :3], ldm.codes(f_b)[:, :3])
        r_a = ldm.decode(frames[:, 0], f_a[:, 0], q_a)
        z_mod = q_a.clone()
        z_mod[:, 1:] = -z_mod[:, 1:]
        r_b = ldm.decode(frames[:, 0], f_a[:, 0], z_mod)
    assert r_a.shape == (2, 5, 3, 64, 64)
    assert torch.allclose(r_a[:, 0], r_b[:, 0], atol=1e-5)  # frame t+1 depends on z_1 only
    assert not torch.allclose(r_a[:, 1], r_b[:, 1], atol=1e-5)


def test_pixel_ldm_frame_features_are_causal_in_time():
    from models.ldm import build_dynamics

    torch.manual_seed(0)
    ldm = build_dynamics(DYNAMICS_SIZES["pixel-tiny"]).eval()
    frames = torch.rand(1, 6, 3, 64, 64)
    changed = frames.clone()
    changed[:, 3] = 0.0
    with torch.no_grad():
        a, b = ldm.features(frames), ldm.features(changed)
    assert torch.allclose(a[:, :3], b[:, :3])  # frames before t+3 do not see it
    assert not torch.allclose(a[:, 3:5], b[:, 3:5])  # t+3 and t+4 (its temporal difference) do
    assert torch.allclose(a[:, 5], b[:, 5])


def test_code_probe_scores_a_code_that_names_the_change():
    from models.train.dynamics_stage import change_point, code_probe

    b0 = np.zeros((3, 9, 9), np.uint8)
    b1 = b0.copy()
    b1[0, 2, 3] = 1
    b1[1, 0, 0] = 1  # window 2: nothing changes (a pass)
    assert change_point(b0, b1).tolist() == [21, 0, 81]
    train_z, train_c = np.array([5, 5, 7, 9]), np.array([21, 21, 0, 81])
    assert code_probe(train_z, train_c, np.array([5, 7, 9]), np.array([21, 0, 81])) == 1.0
    assert code_probe(train_z, train_c, np.array([7, 5, 4]), np.array([21, 0, 81])) == 0.0  # wrong, wrong, unseen


def test_ldm_code_h_does_not_see_frames_after_t_plus_h():
    torch.manual_seed(0)
    ldm = LatentDynamics(DYNAMICS_SIZES["tiny"]).eval()
    frames = torch.rand(2, 6, 16, 6) * 2 - 1
    changed = frames.clone()
    changed[:, 4:] = torch.rand(2, 2, 16, 6) * 2 - 1  # frames t+4, t+5
    with torch.no_grad():
        z_a = ldm.codes(ldm.features(frames))
        z_b = ldm.codes(ldm.features(changed))
    assert torch.allclose(z_a[:, :3], z_b[:, :3])  # z_1..z_3 see at most t+3
    # and the decoder's frame t+1 depends on z_1 only, not z_2..
    with torch.no_grad():
        f0 = ldm.features(frames)[:, 0]
        r_a = ldm.decode(frames[:, 0], f0, z_a)
        z_mod = z_a.clone()
        z_mod[:, 1:] = -z_mod[:, 1:]
        r_b = ldm.decode(frames[:, 0], f0, z_mod)
    assert torch.allclose(r_a[:, 0], r_b[:, 0], atol=1e-5)
    assert not torch.allclose(r_a[:, 1], r_b[:, 1], atol=1e-5)  # while frame t+2 does depend on z_2


def _digit_model() -> Transformer:
    from models.vocab import CodeVocab

    vocab = CodeVocab(np.array([0, 7, 63999]), np.array([3, 319]))
    table, n = vocab.digit_table((8, 8, 8, 5, 5, 5), (8, 8, 5))
    args = ModelArgs.from_name("tiny", vocab_size=vocab.size, max_seq_len=32, digit_vocab=n, digit_slots=6)
    return Transformer(args, table)


def test_digit_table_gives_each_code_its_fsq_digits():
    from models.vocab import N_SPECIAL, CodeVocab

    vocab = CodeVocab(np.array([0, 7, 63999]), np.array([3, 319]))
    table, n = vocab.digit_table((8, 8, 8, 5, 5, 5), (8, 8, 5))
    assert n == 1 + 39 + 21 and table.shape == (vocab.size, 6)
    assert (table[:N_SPECIAL] == 0).all() and (table[vocab.frame_unk] == 0).all() and (table[vocab.ldm_unk] == 0).all()
    # frame code 7: digits (7, 0, 0, 0, 0, 0); slot bases 1, 9, 17, 25, 30, 35
    assert table[vocab.frame_ids(np.array([7]))[0]].tolist() == [8, 9, 17, 25, 30, 35]
    assert table[vocab.frame_ids(np.array([63999]))[0]].tolist() == [8, 16, 24, 29, 34, 39]
    # LDM code 319 = digits (7, 7, 4), after the 39 frame-digit ids; 3 slots only
    assert table[vocab.ldm_ids(np.array([319]))[0]].tolist() == [40 + 7, 48 + 7, 56 + 4, 0, 0, 0]


@pytest.mark.parametrize("digits", [False, True])
def test_kv_cache_decoding_equals_full_forward(digits):
    torch.manual_seed(0)
    model = (_digit_model() if digits else Transformer(ModelArgs.from_name("tiny", vocab_size=50, max_seq_len=32))).eval()
    tokens = torch.randint(0, model.args.vocab_size, (3, 20))
    with torch.no_grad():
        full = model(tokens)
        caches = model.new_caches(3)
        parts = [model(tokens[:, :9], 0, caches), model(tokens[:, 9:12], 9, caches)]  # 3 new tokens seeing 9 past
        for i in range(12, 20):
            parts.append(model(tokens[:, i:i + 1], i, caches))
        cached = torch.cat(parts, 1)
    assert torch.allclose(full, cached, atol=1e-5)


def test_sequence_layout_puts_the_loss_on_codes_and_next_frame_only():
    layout = Layout(context=1, horizon=5)
    frames = torch.arange(3 * 16).reshape(1, 3, 16) + 100
    z = torch.arange(5).reshape(1, 5) + 1000
    tokens, targets = build_sequences(frames, z, layout)
    assert tokens.shape[1] == layout.length == 2 * 18 + 5 + 3 + 17
    assert tokens[0, 0] == IM_START and tokens[0, 17] == IM_END and tokens[0, layout.act_start] == ACT_START
    assert torch.equal(tokens[0, layout.z_pos(1):layout.z_pos(5) + 1], z[0])
    assert torch.equal(tokens[0, layout.next_frame:layout.next_frame + 16], frames[0, 2])
    predicted = targets[0] != IGNORE
    assert int(predicted.sum()) == 5 + 16
    # every target is the next token
    idx = torch.nonzero(predicted).squeeze(1)
    assert torch.equal(targets[0, idx], tokens[0, idx + 1])


# ---------------------------------------------------------------- learning from video only
VIDEO_LEARNERS = ["models/tokenizer.py", "models/dynamics.py", "models/dynamics_pixel.py", "models/ldm.py",
                  "models/transformer.py", "models/token_cache.py", "models/value.py",
                  "models/train/tokenizer_stage.py", "models/train/dynamics_stage.py",
                  "models/train/transformer_stage.py", "models/train/windows.py", "models/train/code_memo.py"]
# what carries move labels or the rules of Go; only the camera (models/video_data.py) replays games
FORBIDDEN = {"engine.board", "engine.game", "engine.sgf", "engine.coords", "engine.player", "engine.corpus",
             "models.idm", "models.train.idm_stage"}


@pytest.mark.parametrize("path", VIDEO_LEARNERS)
def test_video_learners_never_import_moves_rules_or_labels(path):
    tree = ast.parse((REPO / path).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not imported & FORBIDDEN, f"{path} imports {imported & FORBIDDEN}"


def test_token_cache_and_windows_hold_frame_tokens_only(tiny_bundle):
    from models.token_cache import TokenCache
    from models.train.windows import WindowSampler

    caches = list((tiny_bundle.parent / "cache").glob("*.npz"))
    assert caches
    for path in caches:
        assert set(np.load(path).files) == {"tokens", "game_start", "source", "sources"}
        cache = TokenCache.load(path)
        assert cache.tokens.dtype == np.int32 and cache.tokens.shape[1:] == (8, 2, 16)
        if not cache.games:
            continue
        batch = WindowSampler(cache, 6).sample(np.random.default_rng(0), 4)
        assert batch.shape == (4, 6, 16) and batch.min() >= 0 and batch.max() < 64000


def test_token_cache_built_by_two_processes_equals_the_serial_one(tiny_bundle, monkeypatch):
    from models import token_cache
    from models.token_cache import build_cache
    from models.train.windows import load_tokenizer

    tok = load_tokenizer(str(tiny_bundle.parent / "tok" / "state.pt"))
    data = tiny_bundle.parent / "data"
    serial = build_cache(tok, data, "train", progress=False)
    parallel = build_cache(tok, data, "train", progress=False, workers=2)
    # a long build: fresh worker processes every FRESH_PROCESS_GAMES games (here 20: one chunk per process)
    monkeypatch.setattr(token_cache, "FRESH_PROCESS_GAMES", 20)
    relay = build_cache(tok, data, "train", progress=False, workers=1)
    assert serial.games > 20  # more than one chunk of 20 games: the chunks must join in order
    for other in (parallel, relay):
        assert np.array_equal(serial.tokens, other.tokens)
        assert np.array_equal(serial.game_start, other.game_start)
        assert np.array_equal(serial.source, other.source) and serial.sources == other.sources


def test_padded_batches_give_the_same_ids_as_unpadded_ones():
    """The cache builder pads batches to a multiple of 64 (to bound the backend's memory); the
    player does not. Both must give every board the same ids, or training and play would disagree."""
    from models.token_cache import encode_boards
    from render.frame import RenderConfig

    torch.manual_seed(0)
    tok = FrameTokenizer(TOKENIZER_SIZES["tiny"]).eval()
    boards = np.random.default_rng(0).integers(0, 3, (150, 9, 9)).astype(np.uint8)
    rcfg = RenderConfig(resolution=tok.cfg.resolution)
    plain = encode_boards(tok, boards, rcfg, batch=100)  # batches of 100 and 50
    padded = encode_boards(tok, boards, rcfg, batch=100, pad_multiple=64)  # run as 128 and 64
    alone = encode_boards(tok, boards[:7], rcfg)
    assert plain.shape == padded.shape == (150, 16)
    assert np.array_equal(plain, padded) and np.array_equal(plain[:7], alone)
    assert len(np.unique(plain, axis=0)) > 10  # the random boards do not all map to one code


def test_video_camera_yields_stone_arrays_without_moves(tiny_bundle):
    from models.video_data import game_videos

    for name, stones in game_videos(tiny_bundle.parent / "data", split="train", limit=3):
        assert isinstance(name, str) and stones.dtype == np.uint8 and stones.ndim == 3
        assert (stones[0] == 0).all()  # empty board first


# ---------------------------------------------------------------- the tiny pipeline end to end
def test_tiny_pipeline_trains_every_stage_and_plays_legal_moves(tiny_bundle):
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    player = NeuralPlayer(bundle, top_k=3)
    game = Game(9)
    while not game.is_over() and game.move_number < 20:
        a = player.analyze_many([(game, game.to_play)])[0]
        assert a.probs.shape == (82,) and abs(a.probs.sum() - 1) < 1e-4
        assert game.position.is_legal(a.move, game.to_play)
        assert len(a.z_codes) == bundle.layout.horizon
        assert a.imagined_board.shape == (9, 9) and a.imagined_frame.shape == (64, 64, 3)
        assert a.winrate is not None and 0 <= a.winrate <= 1
        game.play(a.move, game.to_play)
    assert game.move_number >= 2


def test_bf16_precision_runs_the_transformer_in_bf16_and_still_answers_a_distribution(tiny_bundle):
    """``precision="bf16"`` (models/player.py) imagines with the bundle's bf16 copy of the transformer
    (models/low_precision.py): its products take bf16 weights, while the trained transformer stays float32
    and is the one "fp32" uses. The answer is still a move distribution and a legal move; anything but the
    two precisions is refused."""
    import torch

    from engine.game import Game
    from models.bundle import load_bundle
    from models.low_precision import Bf16Linear
    from models.player import NeuralPlayer

    bundle = load_bundle(tiny_bundle)
    game = Game(9)
    game.play((2, 2), game.to_play)
    calls = {"fp32": [], "bf16": []}
    for precision in calls:
        NeuralPlayer(bundle, top_k=2, precision=precision)  # builds the bf16 copy
        layer = bundle.transformer_for(precision).layers[0].ffn.w13
        layer.register_forward_hook(lambda m, i, out, p=precision: calls[p].append((m.weight.dtype, out.dtype)))
    assert bundle.transformer_for("bf16") is bundle.transformer_for("bf16")  # built once, shared
    assert isinstance(bundle.transformer_for("bf16").output, Bf16Linear)
    for precision, weight in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = NeuralPlayer(bundle, top_k=2, precision=precision).analyze_many([(game, game.to_play)])[0]
        assert calls[precision] and set(calls[precision]) == {(weight, torch.float32)}  # float32 comes back
        assert a.probs.shape == (82,) and abs(a.probs.sum() - 1) < 1e-4
        assert game.position.is_legal(a.move, game.to_play)
    assert all(p.dtype == torch.float32 for p in bundle.transformer.parameters())  # the original untouched
    with pytest.raises(ValueError, match="precision"):
        NeuralPlayer(bundle, precision="fp16")
    with pytest.raises(ValueError, match="precision"):
        bundle.transformer_for("fp16")


def test_bf16_copy_rounds_only_the_products():
    """The bf16 copy's logits stay within bf16 rounding of the float32 model's, through the cached path
    too, and it has no parameters an optimiser could pick up (its weights are buffers)."""
    from models.low_precision import bf16_matmuls

    torch.manual_seed(0)
    model = Transformer(ModelArgs.from_name("tiny", vocab_size=50, max_seq_len=32)).eval()
    cast = bf16_matmuls(model)
    assert list(cast.parameters()) and all(p.dtype == torch.float32 for p in cast.parameters())
    assert cast.layers[0].attn.wqkv.weight.dtype == torch.bfloat16 and not cast.layers[0].attn.wqkv.weight.requires_grad
    tokens = torch.randint(0, 50, (3, 20))
    with torch.no_grad():
        ref = model(tokens)
        full = cast(tokens)
        caches = cast.new_caches(3)
        cached = torch.cat([cast(tokens[:, :12], 0, caches)] + [cast(tokens[:, i:i + 1], i, caches) for i in range(12, 20)], 1)
    assert full.dtype == torch.float32
    scale = ref.abs().max()
    assert 0 < (full - ref).abs().max() < 0.02 * scale  # rounded, but only by bf16's ~3 digits
    assert torch.allclose(full, cached, atol=1e-4)


def test_player_takes_its_branches_from_the_bundle_manifest(tiny_bundle, tmp_path):
    import json
    import shutil

    from models.bundle import load_bundle
    from models.player import DEFAULT_BRANCHES, NeuralPlayer

    assert NeuralPlayer(load_bundle(tiny_bundle)).top_k == DEFAULT_BRANCHES
    tuned = tmp_path / "tuned"
    shutil.copytree(tiny_bundle, tuned)
    m = json.loads((tuned / "manifest.json").read_text())
    m["player"] = {"branches": 7, "chosen_on": "a test"}
    (tuned / "manifest.json").write_text(json.dumps(m))
    bundle = load_bundle(tuned)
    assert NeuralPlayer(bundle).top_k == 7 and NeuralPlayer(bundle, top_k=2).top_k == 2
    with pytest.raises(ValueError):
        NeuralPlayer(bundle, top_k=0)


def test_branches_from_one_shared_prefix_cache_equal_each_branch_run_from_scratch(tiny_bundle):
    from models.bundle import load_bundle
    from models.generate import imagine, imagine_branches
    from models.vocab import ACT_START, frame_block

    b = load_bundle(tiny_bundle)
    torch.manual_seed(1)
    frames = b.vocab.frame_ids(torch.from_numpy(b.vocab.frame_codes)[torch.randint(0, len(b.vocab.frame_codes), (3, 16))])
    prefix = torch.cat([frame_block(frames), frames.new_full((3, 1), ACT_START)], 1)  # (3, 19)
    k = 3
    first, top_lp, branches = imagine_branches(b.transformer, b.vocab, prefix, b.layout.horizon, k)
    ref_first = imagine(b.transformer, b.vocab, prefix, b.layout.horizon, prefill_only=True)
    assert torch.allclose(first.z1_logprobs, ref_first.z1_logprobs, atol=1e-5)
    assert torch.allclose(first.outcome, ref_first.outcome, atol=1e-6)
    lp, z1 = ref_first.z1_logprobs.topk(k, -1)
    assert torch.allclose(top_lp, lp, atol=1e-5)
    ref = imagine(b.transformer, b.vocab, prefix.repeat_interleave(k, 0), b.layout.horizon, force_z1=z1.reshape(-1))
    assert torch.equal(branches.z[:, 0], z1.reshape(-1))  # prefix-major rows, one per forced first code
    assert torch.equal(branches.z, ref.z) and torch.equal(branches.frame, ref.frame)


def test_one_model_decodes_in_several_threads_at_once(tiny_bundle):
    """The KV caches belong to each call, not to the model: the batcher's workers share one model."""
    import threading

    from models.bundle import load_bundle
    from models.generate import imagine_branches
    from models.vocab import ACT_START, frame_block

    b = load_bundle(tiny_bundle)
    torch.manual_seed(2)
    prefixes = []
    for rows in (3, 5):  # different batch sizes: a shared cache could not even hold both
        frames = b.vocab.frame_ids(torch.from_numpy(b.vocab.frame_codes)[torch.randint(0, len(b.vocab.frame_codes), (rows, 16))])
        prefixes.append(torch.cat([frame_block(frames), frames.new_full((rows, 1), ACT_START)], 1))
    want = [imagine_branches(b.transformer, b.vocab, p, b.layout.horizon, 2)[2] for p in prefixes]
    got: dict[int, list] = {0: [], 1: []}
    errors = []

    def run(i: int) -> None:
        try:
            for _ in range(20):
                got[i].append(imagine_branches(b.transformer, b.vocab, prefixes[i], b.layout.horizon, 2)[2])
        except Exception as e:  # re-raised below: an exception in a thread would pass silently
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in (0, 1):
        assert len(got[i]) == 20
        assert all(torch.equal(g.z, want[i].z) and torch.equal(g.frame, want[i].frame) for g in got[i])


def test_batched_analysis_equals_one_at_a_time(tiny_bundle):
    from engine.game import Game
    from engine.player import RandomPlayer
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    player = NeuralPlayer(load_bundle(tiny_bundle), top_k=2)
    games = []
    rnd = RandomPlayer(seed=3)
    for n in (0, 3, 6):
        g = Game(9)
        for _ in range(n):
            g.play(rnd.genmove(g, g.to_play), g.to_play)
        games.append((g, g.to_play))
    together = player.analyze_many(games)
    for (g, c), a in zip(games, together):
        alone = player.analyze_many([(g, c)])[0]
        assert np.allclose(alone.probs, a.probs, atol=1e-4)
        assert alone.move == a.move


def assert_a_changed_file_is_refused(bundle, fname: str, tmp_path) -> None:
    """A copy of ``bundle`` with the last byte of ``fname`` flipped fails the hash check on loading."""
    import shutil

    from models.bundle import load_bundle
    from models.checkpoint import WeightsHashMismatch

    copy = tmp_path / f"changed_{fname}"
    shutil.copytree(bundle, copy)
    data = bytearray((copy / fname).read_bytes())
    data[-1] ^= 0xFF
    (copy / fname).write_bytes(bytes(data))
    with pytest.raises(WeightsHashMismatch):
        load_bundle(copy)


def test_bundle_refuses_weights_whose_hash_does_not_match(tiny_bundle, tmp_path):
    assert_a_changed_file_is_refused(tiny_bundle, "idm.safetensors", tmp_path)


def test_outcome_head_is_calibrated_against_a_constant_and_reported(tiny_bundle):
    import json

    report = json.loads((tiny_bundle.parent / "outcome" / "calibration.json").read_text())
    assert report["n"] == 32 and 0 <= report["brier"] <= 1
    assert sum(row["n"] for row in report["reliability"]) == report["n"]
    from PIL import Image

    with Image.open(tiny_bundle.parent / "outcome" / "reliability.png") as im:  # the reliability diagram
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100


def test_sampling_at_a_tiny_temperature_still_plays_a_legal_move(tiny_bundle):
    from engine.game import Game
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    player = NeuralPlayer(load_bundle(tiny_bundle), temperature=1e-4, seed=1)
    game = Game(9)
    move = player.genmove(game, game.to_play)
    assert game.position.is_legal(move, game.to_play)


def test_ldm_inputs_decode_each_distinct_frame_once(tiny_bundle):
    """Overlapping windows (the IDM's pairs) share frames: decoded once, the same pixels come back."""
    from models.bundle import load_bundle
    from models.ldm import ldm_inputs

    b = load_bundle(tiny_bundle)
    rng = np.random.default_rng(0)
    game = torch.from_numpy(rng.integers(0, 64000, size=(12, 16)))  # 12 frames of one "game"
    windows = torch.stack([game[t:t + 6] for t in range(7)])  # (7, 6, 16): 42 frame slots, 12 distinct
    calls = []
    real = b.tokenizer.decode
    b.tokenizer.decode = lambda ids: calls.append(len(ids)) or real(ids)
    try:
        got = ldm_inputs(b.dynamics, b.tokenizer, windows)
    finally:
        b.tokenizer.decode = real
    assert calls == [12]
    want = real(windows.flatten(0, 1)).unflatten(0, (7, 6))
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-5)


def test_greedy_choice_is_argmax_with_ties_going_to_the_first_maximal_index():
    from models.generate import _choose

    logits = torch.randn(64, 300)
    logits[:8, 5] = logits[:8, 250] = logits[:8].max(-1).values + 1.0  # rows 0..7: a tie at 5 and 250
    chosen = _choose(logits, 0.0, None)
    assert torch.equal(chosen, logits.argmax(-1))
    assert (chosen[:8] == 5).all()
