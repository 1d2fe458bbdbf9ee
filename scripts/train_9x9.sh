#!/usr/bin/env bash
# The shipped 9x9 recipe, stage by stage; every stage resumes from runs/<stage>/state.pt if killed.
# Run in the background: nohup bash scripts/train_9x9.sh > runs/train_9x9.log 2>&1 &
# THREADS=1 (default) because self-play shares the cores: spinning OpenMP threads on busy cores
# made torch ~20x slower here (docs/training.md).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-1}
VG=".venv/bin/python -m engine.cli"
common="--set loop.threads=$T --set loop.bf16=true"
$VG train --stage tokenizer   $common --set loop.steps=4000 --set batch=48
$VG train --stage dynamics    $common --set loop.steps=2500
$VG train --stage transformer $common --set loop.steps=${TRANSFORMER_STEPS:-2500} --set size_name=compact
$VG train --stage idm         --set loop.threads=$T --set loop.steps=1500
$VG train --stage outcome     --set loop.threads=$T --set loop.steps=400
$VG export --runs runs --out weights/9x9
