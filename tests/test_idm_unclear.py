"""``imagined_filter="unclear"``: the IDM's imagined pairs narrowed to the frames that picture no move cleanly
(models.idm.clean_move), where at play the IDM reads the codes alone (docs/model.md, session 48)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import torch

from models.idm import clean_move


def _board(**stones: int) -> np.ndarray:
    """A 9x9 board from point names like a1=1 (row a..i, column 1..9): 1 the mover, 2 the opponent."""
    b = np.zeros((9, 9), np.int64)
    for name, colour in stones.items():
        b["abcdefghi".index(name[0]), int(name[1]) - 1] = colour
    return b


def test_clean_move_names_one_new_mover_stone_and_nothing_else():
    before = _board(e5=2, d5=1, f5=1, e4=1)
    one = before.copy()
    one[2, 2] = 1
    assert clean_move(before, one) == 2 * 9 + 2
    capture = before.copy()
    capture[4, 5] = 1  # e6 fills the last liberty: the opponent's e5 goes
    capture[4, 4] = 0
    assert clean_move(before, capture) == 4 * 9 + 5
    assert clean_move(before, before) == -1  # nothing new: the codes alone name the move
    two = one.copy()
    two[0, 0] = 1
    assert clean_move(before, two) == -1  # two new stones
    flipped = one.copy()
    flipped[4, 4] = 1  # the opponent's stone turned the mover's
    assert clean_move(before, flipped) == -1
    lost = one.copy()
    lost[3, 4] = 0  # a mover stone vanished
    assert clean_move(before, lost) == -1
    theirs = before.copy()
    theirs[2, 2] = 2  # the new stone is the opponent's
    assert clean_move(before, theirs) == -1


def test_clean_moves_read_decoded_frames():
    """models.train.idm_stage._clean_moves on rendered frames (the tokenizer's decoder stubbed by the renderer)."""
    from models.train.idm_stage import _clean_moves
    from render.frame import RenderConfig, render_many

    rcfg = RenderConfig(resolution=64)
    now = _board(e5=2, d5=1)
    move, same, two = now.copy(), now.copy(), now.copy()
    move[2, 2] = 1
    two[2, 2] = two[7, 7] = 1
    imagined = [move, same, two]

    class Decoder:
        def decode(self, ids):  # frame "ids": an index into ``imagined`` in the first slot
            return torch.from_numpy(render_many(np.stack([imagined[int(i)] for i in ids[:, 0]]), rcfg)).permute(0, 3, 1, 2)

    player = SimpleNamespace(bundle=SimpleNamespace(tokenizer=Decoder()), rcfg=rcfg)
    views = np.stack([np.stack([now, now])] * 2)  # (2 positions, x_{t-1} and x_t)
    nxt = np.zeros((2, 2, 16), np.int64)
    nxt[0, :, 0] = [0, 1]
    nxt[1, :, 0] = [2, 0]
    assert _clean_moves(views, nxt, player).tolist() == [[20, -1], [-1, 20]]


def test_the_unclear_filter_keeps_the_positions_with_an_unclear_branch(tiny_bundle, monkeypatch):
    import models.train.idm_stage as ids
    from models.idm import IDM_SIZES
    from models.train.cli import apply_overrides

    cfg = apply_overrides(ids.IdmTrainConfig(model=IDM_SIZES["tiny"]),
                          [f"data_dir={tiny_bundle.parent / 'data'}", "label_share=0.3", f"imagined_from={tiny_bundle}"])
    full = ids.imagined_transitions(cfg, str(tiny_bundle))
    m, k = len(full["move"]), full["k"]
    assert m > 4

    def every_third_unclear(views, nxt, player):  # (M, k): position i's last branch unclear when i % 3 == 0
        out = np.zeros(nxt.shape[:2], np.int64)
        out[::3, -1] = -1
        return out

    monkeypatch.setattr(ids, "_clean_moves", every_third_unclear)
    kept = ids.imagined_transitions(dataclasses.replace(cfg, imagined_filter="unclear"), str(tiny_bundle))
    for name in ("x", "prev", "move", "emptied"):
        assert (kept[name] == full[name][::3]).all(), name
    for name in ("nxt", "z", "w"):
        want = full[name].reshape(m, k, *full[name].shape[1:])[::3].reshape(-1, *full[name].shape[1:])
        assert (kept[name] == want).all(), name
