#!/usr/bin/env bash
# Go on training the shipped transformer, tokenizer / LDM / IDM kept (the recipe of model v5):
#   1. unpack the bundle FROM (weights -> training states), freeze the corpus (snapshot);
#   2. the transformer from the bundle's (loop.init_from), optionally grown to a deeper SIZE
#      (DEEPEN=true: the trained blocks spread through the stack, the new ones identities,
#      models/deepen.py), STEPS at LR with warm-up and cosine decay;
#   3. outcome head on it; 4. export to OUT (default: $RUNS/bundle).
# Model v5 (from v4c's bundle): SIZE=compact8 DEEPEN=true STEPS=4500 LR=3e-4 THREADS=2.
# SCRATCH=true: a new transformer of SIZE from random weights instead (the bundle's vocabulary, so
# the bundle's tokenizer / LDM / IDM read it), e.g. v16base: SIZE=base SCRATCH=true STEPS=16000
# LR=6e-4 THREADS=2 SNAPSHOT=runs/snapL EXTRA="--set loop.warmup=300".
# Tests: PY (the interpreter, default .venv/bin/python), CACHE_DIR (token caches, default
# cache/tokens), OUTCOME_STEPS (400), EXTRA (more --set options for the transformer run).
# Every stage resumes from its run folder if killed; rerunning the script continues.
#   nohup bash scripts/continue_9x9.sh > runs/continue.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-1}
RUNS=${RUNS:-runs/continue}
SNAP=${SNAPSHOT:-$RUNS/data}
FROM=${FROM:-weights/9x9}
PY=${PY:-.venv/bin/python}
VG="$PY -m engine.cli"
BF16=${BF16:-$($PY -m models.train.precision $T)}
echo "threads=$T bf16=$BF16 runs=$RUNS snapshot=$SNAP from=$FROM size=${SIZE:-compact} deepen=${DEEPEN:-false} scratch=${SCRATCH:-false}"
[ -f "$SNAP/manifest.json" ] || bash scripts/snapshot_data.sh "$SNAP"
[ -f "$RUNS/from/transformer/state.pt" ] || $VG unpack "$FROM" --runs "$RUNS/from"
if [ "${SCRATCH:-false}" = true ]; then start="--set vocab_from=$RUNS/from/transformer/vocab.npz"
else start="--set loop.init_from=$RUNS/from/transformer/state.pt"; fi
tok="--set tokenizer_state=$RUNS/from/tokenizer/state.pt --set cache_dir=${CACHE_DIR:-cache/tokens}"

$VG train --stage transformer --set loop.bf16=$BF16 --set data_dir=$SNAP --set loop.threads=$T $tok \
  --set dynamics_state=$RUNS/from/dynamics/state.pt --set loop.run_dir=$RUNS/transformer \
  $start --set size_name=${SIZE:-compact} \
  --set deepen=${DEEPEN:-false} --set loop.lr=${LR:-3e-4} --set loop.steps=${STEPS:-3000} ${EXTRA:-}
$VG train --stage outcome --set data_dir=$SNAP --set loop.threads=$T $tok \
  --set transformer_state=$RUNS/transformer/state.pt --set loop.run_dir=$RUNS/outcome --set loop.steps=${OUTCOME_STEPS:-400}
# the bundle's stages under the names export expects
mkdir -p "$RUNS/final"
for stage in tokenizer dynamics idm; do ln -sfn "$(realpath "$RUNS/from/$stage")" "$RUNS/final/$stage"; done
# the value model reads frames only: it goes on unchanged when the bundle has one
if [ -d "$RUNS/from/value" ]; then ln -sfn "$(realpath "$RUNS/from/value")" "$RUNS/final/value"; fi
for stage in transformer outcome; do ln -sfn "$(realpath "$RUNS/$stage")" "$RUNS/final/$stage"; done
# provenance: the snapshot the transformer read, and the bundle the other stages came from
$VG export --runs "$RUNS/final" --out "${OUT:-$RUNS/bundle}" --data-dir "$SNAP" --stages-from "$FROM"
