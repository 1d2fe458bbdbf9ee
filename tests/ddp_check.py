"""Run under torchrun: a few DDP steps of the tiny tokenizer stage; each rank saves its weights.

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/ddp_check.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.tokenizer import TOKENIZER_SIZES, FrameTokenizer  # noqa: E402
from models.train.loop import LoopConfig, Trainer  # noqa: E402
from models.train.tokenizer_stage import TokenizerTrainConfig, frames_tensor, make_batch  # noqa: E402
from models.tokenizer import reconstruction_loss  # noqa: E402
from render.frame import RenderConfig  # noqa: E402

import numpy as np  # noqa: E402


def main(out: Path) -> None:
    cfg = TokenizerTrainConfig(model=TOKENIZER_SIZES["tiny"], batch=4,
                               loop=LoopConfig(run_dir=str(out / "run"), steps=4, progress=False, threads=1))
    trainer = Trainer(cfg.loop, FrameTokenizer(cfg.model), {"stage": "ddp-check"})
    empty = np.zeros((0, 9, 9), np.uint8)
    for step in trainer.steps():
        x = frames_tensor(make_batch(step, cfg, empty, trainer.rank), RenderConfig(), trainer.device)
        trainer.backward_step(reconstruction_loss(trainer.wrapped(x), x))
    torch.save(trainer.model.state_dict(), out / f"rank{trainer.rank}.pt")
    trainer.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
