"""What every training stage shares: device, threads, DDP, resume, checkpoints, metrics.

A stage builds its model, optimizer and a ``batch(step)`` function that is a pure
function of (seed, step, rank), then iterates ``for step in trainer.steps():``. The
trainer resumes from ``run_dir/state.pt`` (a kill loses at most the steps since the
last checkpoint, written every ``checkpoint_every_s`` seconds), logs JSONL metrics and
a tqdm bar (rank 0 only), and under torchrun wraps the model in DDP (gloo on the CPU,
nccl on CUDA).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import torch
import torch.distributed as dist

from models.checkpoint import atomic_torch_save, load_training_state


@dataclass(frozen=True)
class LoopConfig:
    run_dir: str = "runs/train"
    steps: int = 1000
    lr: float = 1e-3
    warmup: int = 50
    min_lr_ratio: float = 0.1  # cosine decay to lr * this
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    checkpoint_every_s: float = 180.0  # "every few minutes"
    log_every: int = 10
    seed: int = 0
    threads: int = 0  # torch.set_num_threads; 0 leaves torch's default
    device: str = "auto"  # auto: CUDA when present, else CPU
    bf16: bool = False  # autocast; measured per stage, see docs/training.md
    # torch.compile the training forward (the stage's loss calls ``Trainer.wrapped``): fuses the
    # norms and activations that bound a small model's step on the CPU (RoPE's complex product
    # stays an eager kernel: inductor has no code for complex ops). The first step pays
    # the compilation (~30 s for ``base`` on 2 threads); evaluation and checkpoints use the plain
    # module, so state dicts keep their names. Measured in docs/training.md.
    compile: bool = False
    # AdamW's fused kernel (one pass over the parameters instead of a loop of small ops); not
    # bit-identical to the default loop, so off unless asked.
    fused_optimizer: bool = False
    progress: bool = True
    # a state.pt (a run's, or one written by `videoworld-go unpack`) whose weights start a new
    # run: fine-tuning. Ignored once the run has its own state (resume wins).
    init_from: str = ""


def configure_torch(cfg: LoopConfig) -> None:
    """Threads first: cache building before the trainer exists must already honour them
    (on busy cores, OpenMP threads that spin-wait make torch many times slower)."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def init_distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if world > 1:
        return dist.get_rank(), world
    return 0, 1


def lr_at(step: int, cfg: LoopConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


class Trainer:
    """Owns the loop bookkeeping for one stage; the stage owns model, data and loss."""

    def __init__(self, cfg: LoopConfig, model: torch.nn.Module | Callable[[], torch.nn.Module], config_record: dict,
                 params: Optional[list] = None,
                 init_transform: Optional[Callable[[dict], dict]] = None) -> None:
        """``model``: a module, or a factory called after seeding (same initial weights on every run and rank).
        ``init_transform``: applied to the ``loop.init_from`` weights before their strict load (the
        transformer stage uses it to carry embeddings over to a new vocabulary)."""
        self.cfg = cfg
        self.init_transform = init_transform
        configure_torch(cfg)
        self.device = pick_device(cfg.device)
        self.rank, self.world = init_distributed(self.device)
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank and every run
        self.model = (model if isinstance(model, torch.nn.Module) else model()).to(self.device)
        trainable = params if params is not None else [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95),
                                           fused=True if cfg.fused_optimizer else None)
        self.wrapped: torch.nn.Module = self.model
        if self.world > 1:
            self.wrapped = torch.nn.parallel.DistributedDataParallel(self.model)
        if cfg.compile:
            self.wrapped = torch.compile(self.wrapped)  # shares self.model's parameters
        self.run_dir = Path(cfg.run_dir)
        self.state_path = self.run_dir / "state.pt"
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self.config_record = config_record
        self.step = 0
        self.elapsed = 0.0
        self._last_ckpt = time.monotonic()
        self._resume()

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16)

    def _resume(self) -> None:
        state = load_training_state(self.state_path)
        if state is None:
            if self.cfg.init_from:
                init = load_training_state(Path(self.cfg.init_from))
                if init is None:
                    raise FileNotFoundError(f"loop.init_from: no state at {self.cfg.init_from}")
                weights = init["model"] if self.init_transform is None else self.init_transform(init["model"])
                self.model.load_state_dict(weights)  # strict: the architecture must match
            if self.is_main:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                (self.run_dir / "config.json").write_text(json.dumps(self.config_record, indent=2) + "\n")
            return
        self.model.load_state_dict(state["model"])
        if state.get("optimizer") is not None:  # unpacked bundles carry weights only
            self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))

    def save(self) -> None:
        if self.is_main:
            atomic_torch_save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                               "step": self.step, "elapsed": self.elapsed, "config": json.dumps(self.config_record)},
                              self.state_path)
        self._last_ckpt = time.monotonic()

    def steps(self) -> Iterator[int]:
        """Yields the remaining step numbers; checkpoints on time and at the end."""
        from tqdm import tqdm

        bar = tqdm(total=self.cfg.steps, initial=self.step, disable=not (self.cfg.progress and self.is_main),
                   desc=self.run_dir.name, dynamic_ncols=True)
        t_last = time.monotonic()
        try:
            while self.step < self.cfg.steps:
                for group in self.optimizer.param_groups:
                    group["lr"] = lr_at(self.step, self.cfg)
                yield self.step
                self.step += 1
                now = time.monotonic()
                self.elapsed += now - t_last
                t_last = now
                bar.update(1)
                if now - self._last_ckpt >= self.cfg.checkpoint_every_s:
                    self.save()
            self.save()
        finally:
            bar.close()

    def backward_step(self, loss: torch.Tensor) -> float:
        """Backward, clip, step; returns the gradient norm."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return float(norm)

    def log(self, **metrics: float) -> None:
        """Append one JSONL record (rank 0, every log_every steps, and always for eval records)."""
        if not self.is_main:
            return
        if "eval" not in metrics and self.step % self.cfg.log_every:
            return
        rec = {"step": self.step, "time": round(self.elapsed, 2), "lr": self.optimizer.param_groups[0]["lr"], **metrics}
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def close(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
