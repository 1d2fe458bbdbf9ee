#!/usr/bin/env bash
# Go on from the shipped bundle with a retrained tokenizer (the recipe of model v4):
#   1. unpack the bundle (weights -> training states), freeze the corpus (snapshot);
#   2. tokenizer fine-tuned from the shipped one (TOKENIZER_STEPS), measured on 10,000 held-out boards;
#   3. the pixel LDM is kept: it reads frames decoded from tokens, not the tokens themselves;
#   4. the IDM (it needs neither token caches nor the transformer) in the background, while
#   5. token caches of the new tokenizer are built (CACHE_WORKERS processes) and the transformer
#      is fine-tuned from the shipped one with its vocabulary remapped to the new codes
#      (remap_vocab: rows follow codes);
#   5b. optional further transformer runs, each from the last: CONTINUE="STEPS:LR ..." (model v4c:
#      TRANSFORMER_STEPS=2000 CONTINUE="1500:3e-4 5000:3e-4");
#   6. outcome head on the last transformer; 7. export to OUT (default: $RUNS/bundle).
# Every stage resumes from its run folder if killed; rerunning the script continues.
#   nohup bash scripts/finetune_9x9.sh > runs/finetune.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-1}
RUNS=${RUNS:-runs/finetune}
SNAP=${SNAPSHOT:-$RUNS/data}
FROM=${FROM:-weights/9x9}
PY=.venv/bin/python
VG="$PY -m engine.cli"
BF16=${BF16:-$(.venv/bin/python -m models.train.precision $T)}
echo "threads=$T bf16=$BF16 runs=$RUNS snapshot=$SNAP from=$FROM"
[ -f "$SNAP/manifest.json" ] || bash scripts/snapshot_data.sh "$SNAP"
[ -f "$RUNS/from/transformer/state.pt" ] || $VG unpack "$FROM" --runs "$RUNS/from"
common="--set loop.bf16=$BF16 --set data_dir=$SNAP"
tok="--set tokenizer_state=$RUNS/tokenizer/state.pt"
dyn="--set dynamics_state=$RUNS/dynamics/state.pt"

$VG train --stage tokenizer $common --set loop.threads=${TOKENIZER_THREADS:-$T} --set loop.run_dir=$RUNS/tokenizer \
  --set loop.init_from=$RUNS/from/tokenizer/state.pt --set loop.lr=1e-3 --set batch=48 \
  --set loop.steps=${TOKENIZER_STEPS:-10000}
[ -f "$RUNS/tokenizer_eval.json" ] || $PY scripts/eval_tokenizer.py --weights "$FROM" --data-dir "$SNAP" \
  --tokenizer-state "$RUNS/tokenizer/state.pt" --out "$RUNS/tokenizer_eval.json"

mkdir -p "$RUNS/dynamics"
[ -f "$RUNS/dynamics/state.pt" ] || cp "$RUNS/from/dynamics/state.pt" "$RUNS/dynamics/state.pt"

# the IDM needs no token cache and no transformer: it runs beside the cache build and the transformer
$VG train --stage idm --set data_dir=$SNAP --set loop.threads=1 $tok $dyn --set loop.run_dir=$RUNS/idm \
  --set loop.steps=${IDM_STEPS:-3000} --set loop.progress=false > "$RUNS/idm.log" 2>&1 &
idm=$!
# token caches: val then train, encoded by CACHE_WORKERS processes
$PY -c "import sys; from models.train.windows import get_cache; \
[get_cache('cache/tokens', s, sys.argv[1], sys.argv[2], workers=int(sys.argv[3])) for s in ('val', 'train')]" \
  "$RUNS/tokenizer/state.pt" "$SNAP" "${CACHE_WORKERS:-$T}"
$VG train --stage transformer $common $tok $dyn --set loop.threads=$T --set loop.run_dir=$RUNS/transformer \
  --set loop.init_from=$RUNS/from/transformer/state.pt --set remap_vocab=true --set loop.lr=${TRANSFORMER_LR:-5e-4} \
  --set loop.steps=${TRANSFORMER_STEPS:-3000} --set size_name=compact
wait $idm
last=$RUNS/transformer
i=0
for spec in ${CONTINUE:-}; do  # each run restarts its cosine schedule from the last one's weights
  i=$((i + 1))
  $VG train --stage transformer $common $tok $dyn --set loop.threads=$T --set loop.run_dir=$RUNS/transformer_c$i \
    --set loop.init_from=$last/state.pt --set loop.lr=${spec##*:} --set loop.steps=${spec%%:*} --set size_name=compact
  last=$RUNS/transformer_c$i
done

$VG train --stage outcome --set data_dir=$SNAP --set loop.threads=$T $tok \
  --set transformer_state=$last/state.pt --set loop.run_dir=$RUNS/outcome --set loop.steps=400
# the bundle's stages: the last transformer run under the name export expects
mkdir -p "$RUNS/final"
for stage in tokenizer dynamics idm outcome; do ln -sfn "$(realpath "$RUNS/$stage")" "$RUNS/final/$stage"; done
ln -sfn "$(realpath "$last")" "$RUNS/final/transformer"
$VG export --runs "$RUNS/final" --out "${OUT:-$RUNS/bundle}"
