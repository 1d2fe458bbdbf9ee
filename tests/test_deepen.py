"""Growing a trained transformer deeper (models/deepen.py) keeps what it computes at step 0."""

from __future__ import annotations

import json

import pytest
import torch

from models.checkpoint import load_training_state
from models.deepen import deepen_state, old_layer_positions
from models.train.cli import apply_overrides
from models.train.unpack import unpack_bundle
from models.transformer import ModelArgs, Transformer


def test_trained_blocks_are_spread_evenly():
    assert old_layer_positions(4, 8) == [0, 2, 4, 6]
    assert old_layer_positions(2, 3) == [0, 1]
    assert old_layer_positions(3, 3) == [0, 1, 2]
    with pytest.raises(ValueError):
        old_layer_positions(4, 2)


def test_deepened_model_computes_the_same_logits_and_kv_cache_decoding():
    torch.manual_seed(0)
    small = Transformer(ModelArgs(vocab_size=50, dim=32, n_layers=2, n_heads=2, max_seq_len=12))
    for p in small.parameters():  # trained-looking weights: no zero output projections anywhere
        torch.nn.init.normal_(p, std=0.3)
    deep = Transformer(ModelArgs(vocab_size=50, dim=32, n_layers=5, n_heads=2, max_seq_len=12))
    deep.load_state_dict(deepen_state(small.state_dict(), deep.state_dict()))
    tokens = torch.randint(0, 50, (3, 12))
    with torch.no_grad():
        want, got = small(tokens), deep(tokens)
        assert torch.allclose(want, got, atol=1e-5)
        caches = deep.new_caches(3)  # and the cached path, token by token
        steps = [deep(tokens[:, i:i + 1], pos=i, caches=caches) for i in range(12)]
    assert torch.allclose(torch.cat(steps, 1), want, atol=1e-4)
    # the new blocks are not copies: their inputs are random, their outputs zero
    assert torch.count_nonzero(deep.layers[1].attn.wo.weight) == 0
    assert torch.count_nonzero(deep.layers[1].attn.wqkv.weight) > 0
    assert old_layer_positions(2, 5) == [0, 2]  # trained block 1 is block 2 of the five
    assert torch.equal(deep.layers[2].ffn.w13.weight, small.layers[1].ffn.w13.weight)


def test_deepen_stage_starts_where_the_init_model_ended(tiny_bundle, tmp_path):
    """The transformer stage with deepen=true: step 0's validation loss is the init model's."""
    import models.train.transformer_stage as trs

    root = tiny_bundle.parent
    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")

    def first_eval(size: str, run: str, extra: list[str]) -> tuple[dict, dict]:
        cfg = apply_overrides(trs.TransformerTrainConfig(size_name=size), [
            "loop.progress=false", f"data_dir={root / 'data'}", "loop.steps=1", "eval_every=5", "loop.lr=0",
            f"cache_dir={tmp_path / 'cache'}", f"tokenizer_state={paths['tokenizer']}",
            f"dynamics_state={paths['dynamics']}", f"loop.run_dir={tmp_path / run}", "batch=4",
            "eval_windows=8", f"loop.init_from={paths['transformer']}", *extra])
        state = load_training_state(trs.train(cfg))["model"]
        records = [json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        return next(r for r in records if r.get("eval")), state

    same, _ = first_eval("tiny", "same", [])
    grown, state = first_eval("tiny4", "grown", ["deepen=true"])
    assert grown["step"] == same["step"] == 0
    assert grown["val_loss"] == pytest.approx(same["val_loss"], abs=1e-4)
    assert sum(k.endswith("attn.wo.weight") for k in state) == 4
    assert torch.count_nonzero(state["layers.1.attn.wo.weight"]) == 0  # lr 0: still the identity block
    start = load_training_state(paths["transformer"])["model"]
    assert torch.equal(state["layers.2.ffn.w2.weight"], start["layers.1.ffn.w2.weight"])


def test_deepen_without_a_model_to_grow_is_a_clear_error(tiny_bundle, tmp_path):
    import models.train.transformer_stage as trs

    paths = unpack_bundle(tiny_bundle, tmp_path / "runs")
    cfg = apply_overrides(trs.TransformerTrainConfig(size_name="tiny4"), [
        "loop.progress=false", f"data_dir={tiny_bundle.parent / 'data'}", "loop.steps=1",
        f"cache_dir={tmp_path / 'cache'}", f"tokenizer_state={paths['tokenizer']}",
        f"dynamics_state={paths['dynamics']}", f"loop.run_dir={tmp_path / 'run'}", "batch=4", "eval_windows=8",
        "vocab_windows=50", "deepen=true"])
    with pytest.raises(ValueError, match="init_from"):
        trs.train(cfg)
