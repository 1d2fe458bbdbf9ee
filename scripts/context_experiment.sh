#!/usr/bin/env bash
# Does an earlier frame as context help? Two compact transformers from scratch on the same
# snapshot and frozen tokenizer/LDM, context 0 and 1, side by side (one thread each), STEPS each.
# Resumable: rerunning continues both runs from their checkpoints.
#   SNAPSHOT=runs/snapE TOKENIZER=runs/v4/tokenizer/state.pt DYNAMICS=runs/v4/dynamics/state.pt \
#     nohup bash scripts/context_experiment.sh > runs/ctx/run.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/ctx}
mkdir -p "$OUT"
for c in 0 1; do
  .venv/bin/python -m engine.cli train --stage transformer --set loop.bf16=false --set data_dir=${SNAPSHOT:-runs/snapE} \
    --set tokenizer_state=${TOKENIZER:-runs/v4/tokenizer/state.pt} --set dynamics_state=${DYNAMICS:-runs/v4/dynamics/state.pt} \
    --set loop.threads=1 --set loop.run_dir=$OUT/ctx$c --set context=$c --set loop.steps=${STEPS:-1000} \
    --set eval_every=250 --set size_name=compact --set loop.progress=false > "$OUT/ctx$c.log" 2>&1 &
done
wait
echo CTX-DONE
