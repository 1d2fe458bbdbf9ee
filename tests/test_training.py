"""Training infrastructure: resume after SIGKILL, DDP on 2 CPU processes, config overrides."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from models.train.cli import apply_overrides
from models.train.tokenizer_stage import TokenizerTrainConfig

REPO = Path(__file__).resolve().parent.parent
TINY = ["--set", "model.channels=[8,16,32]", "--set", "model.res_blocks=0", "--set", "batch=4",
        "--set", "loop.checkpoint_every_s=0", "--set", "loop.threads=1", "--set", "eval_every=1000000",
        "--set", "loop.progress=false"]


def _train_cmd(run_dir: Path, data_dir: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "train", "--stage", "tokenizer", *TINY,
            "--set", f"loop.run_dir={run_dir}", "--set", f"data_dir={data_dir}", "--set", f"loop.steps={steps}"]


def _steps_logged(run_dir: Path) -> list[int]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()]


def test_overrides_reach_nested_frozen_configs():
    cfg = apply_overrides(TokenizerTrainConfig(), ["loop.steps=7", "model.channels=[8,16,32]", "batch=3",
                                                   "loop.lr=0.5", "loop.bf16=true"])
    assert cfg.loop.steps == 7 and cfg.model.channels == (8, 16, 32) and cfg.batch == 3
    assert cfg.loop.lr == 0.5 and cfg.loop.bf16 is True
    with pytest.raises(ValueError, match="no field"):
        apply_overrides(cfg, ["loop.stepz=1"])
    # a string field takes any text, even one that starts like JSON; a number field refuses text
    from models.train.transformer_stage import TransformerTrainConfig

    tr = apply_overrides(TransformerTrainConfig(), ["size_name=tiny4", "data_dir=2026", "loop.init_from=null"])
    assert (tr.size_name, tr.data_dir, tr.loop.init_from) == ("tiny4", "2026", "null")
    with pytest.raises(ValueError, match="not a value"):
        apply_overrides(cfg, ["loop.steps=ten"])


def test_a_bad_override_on_the_command_line_is_a_clear_error_not_a_traceback():
    done = subprocess.run([sys.executable, "-m", "engine.cli", "train", "--stage", "transformer", "--set",
                           "loop.lr=fast", "--print-config"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert "--set" in done.stderr and "'fast'" in done.stderr and "Traceback" not in done.stderr


def test_training_killed_with_sigkill_resumes_and_ends_where_an_unbroken_run_ends(tmp_path):
    steps = 40
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    data = tmp_path / "data"
    data.mkdir()
    # an unbroken reference run
    subprocess.run(_train_cmd(tmp_path / "ref", data, steps), cwd=REPO, env=env, check=True, capture_output=True,
                   timeout=600)
    # the same run, killed with SIGKILL part-way, then started again
    run = tmp_path / "run"
    proc = subprocess.Popen(_train_cmd(run, data, steps), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (not _steps_logged(run) or max(_steps_logged(run)) < 15):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = max(_steps_logged(run))
    assert 15 <= killed_at < steps - 1, "the run must be killed part-way"
    state = torch.load(run / "state.pt", weights_only=True)
    assert state["step"] >= killed_at  # checkpoint every step: at most the step in flight is lost
    subprocess.run(_train_cmd(run, data, steps), cwd=REPO, env=env, check=True, capture_output=True, timeout=600)
    final = torch.load(run / "state.pt", weights_only=True)
    ref = torch.load(tmp_path / "ref" / "state.pt", weights_only=True)
    assert final["step"] == ref["step"] == steps
    # batches are a pure function of (seed, step): the resumed run ends with the reference weights
    for k, v in ref["model"].items():
        assert torch.allclose(v.float(), final["model"][k].float(), atol=1e-5), k


def test_ddp_on_two_cpu_processes_keeps_ranks_identical(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                    str(REPO / "tests" / "ddp_check.py"), str(tmp_path)], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=600)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=True)
    assert state["step"] == 4
    # the ranks moved together, away from the shared seeded initialisation
    from models.tokenizer import TOKENIZER_SIZES, FrameTokenizer

    torch.manual_seed(0)
    init = FrameTokenizer(TOKENIZER_SIZES["tiny"]).state_dict()
    assert any(not torch.equal(init[k], a[k]) for k in init if init[k].is_floating_point())
