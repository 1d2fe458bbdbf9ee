#!/usr/bin/env bash
# The shipped 9x9 recipe, stage by stage; every stage resumes from its run folder if killed.
# Run in the background: nohup bash scripts/train_9x9.sh > runs/train_9x9.log 2>&1 &
# THREADS=1 (default) because self-play shares the cores: spinning OpenMP threads on busy cores
# made torch ~20x slower here (docs/training.md).
# The corpora keep growing while we train: every stage reads one frozen copy (SNAPSHOT), made
# once by scripts/snapshot_data.sh, so all stages see the same games.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-1}
RUNS=${RUNS:-runs}
SNAP=${SNAPSHOT:-$RUNS/data_snapshot}
VG=".venv/bin/python -m engine.cli"
[ -f "$SNAP/manifest.json" ] || bash scripts/snapshot_data.sh "$SNAP"
# bf16 autocast only where this machine's bf16 matmuls are faster (60x slower on some CPUs here)
BF16=${BF16:-$(.venv/bin/python -m models.train.precision $T)}
echo "threads=$T bf16=$BF16"
common="--set loop.threads=$T --set loop.bf16=$BF16 --set data_dir=$SNAP"
tok="--set tokenizer_state=$RUNS/tokenizer/state.pt"
dyn="--set dynamics_state=$RUNS/dynamics/state.pt"
[ -f "$RUNS/tokenizer/state.pt" ] && [ -z "${RETRAIN_TOKENIZER:-}" ] || \
  $VG train --stage tokenizer $common --set loop.run_dir=$RUNS/tokenizer --set loop.steps=4000 --set batch=48
$VG train --stage dynamics    $common $tok --set loop.run_dir=$RUNS/dynamics --set model=pixel \
  --set loop.steps=${DYNAMICS_STEPS:-2500} --set batch=32 --set eval_windows=256
$VG train --stage transformer $common $tok $dyn --set loop.run_dir=$RUNS/transformer \
  --set loop.steps=${TRANSFORMER_STEPS:-6000} --set size_name=${TRANSFORMER_SIZE:-compact}
$VG train --stage idm         --set loop.threads=$T --set data_dir=$SNAP $tok $dyn --set loop.run_dir=$RUNS/idm \
  --set loop.steps=${IDM_STEPS:-3000}
$VG train --stage outcome     --set loop.threads=$T --set data_dir=$SNAP $tok \
  --set transformer_state=$RUNS/transformer/state.pt --set loop.run_dir=$RUNS/outcome --set loop.steps=400
$VG export --runs $RUNS --out ${OUT:-weights/9x9} --data-dir $SNAP
