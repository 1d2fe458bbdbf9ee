"""``loop.compile`` and ``loop.fused_optimizer``: the same training, faster kernels.

A compiled forward must train the very parameters of ``Trainer.model`` (the module that is
checkpointed and evaluated), keep the state dict's names, and follow the plain run's weights
up to float rounding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.checkpoint import load_training_state
from models.train.loop import LoopConfig, Trainer
from models.transformer import ModelArgs, Transformer

ARGS = ModelArgs.from_name("tiny", vocab_size=50, max_seq_len=16)


def _run(tmp_path, name: str, **loop) -> Trainer:
    cfg = LoopConfig(run_dir=str(tmp_path / name), steps=4, lr=1e-2, warmup=1, progress=False, threads=1,
                     checkpoint_every_s=1e9, **loop)
    trainer = Trainer(cfg, lambda: Transformer(ARGS), {"test": name})
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 50, (4, 12), generator=g)  # (B, T) ids; targets: the next id
    select = torch.arange(0, 11)
    for _ in trainer.steps():
        logits = trainer.wrapped(tokens, select=select)  # (B, 11, V)
        trainer.backward_step(F.cross_entropy(logits.reshape(-1, 50), tokens[:, 1:].reshape(-1)))
    return trainer


def test_a_compiled_run_with_the_fused_optimizer_trains_the_checkpointed_weights_like_a_plain_run(tmp_path):
    plain = _run(tmp_path, "plain")
    fast = _run(tmp_path, "fast", compile=True, fused_optimizer=True)
    assert fast.wrapped is not fast.model  # the forward really went through torch.compile
    a, b = plain.model.state_dict(), fast.model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=2e-4, rtol=1e-3), k
    # the weights did move: 4 steps at lr 1e-2 from the same seed
    torch.manual_seed(0)
    init = Transformer(ARGS).state_dict()
    moved = sum(not torch.equal(init[k], b[k]) for k in b if k != "rope")
    assert moved > len(b) // 2
    saved = load_training_state(tmp_path / "fast" / "state.pt")
    assert saved["step"] == 4 and saved["model"].keys() == a.keys()
    fresh = Transformer(ARGS)
    fresh.load_state_dict(saved["model"])  # strict: a plain module reads the compiled run's checkpoint
