#!/usr/bin/env bash
# What the data tricks bring (issue: "measure what each brings on the validation split"):
# compact transformers from scratch on one snapshot with frozen tokenizer/LDM, 1 thread each,
# STEPS each, all with one shared vocabulary (VOCAB: the baseline run's), against the baseline
# BASE (all corpora, 8 symmetries; runs/ctx/ctx0 from scripts/context_experiment.sh):
#   nosym      symmetries=1: no augmentation
#   katago     corpora=katago9: KataGo video only (no GNU Go)
#   gnugo_ft   corpora=gnugo9 for STEPS/2, then corpora=katago9 for STEPS/2 from it (pre-train, fine-tune)
# Resumable: rerunning continues every run from its checkpoint. Then each run is exported with the
# LDM/IDM/tokenizer of IDM_RUNS and played on the validation labels (eval run --split val).
#   SNAPSHOT=runs/snapE nohup bash scripts/data_ablations.sh > runs/abl/run.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/abl}
STEPS=${STEPS:-1000}
TOK=${TOKENIZER:-runs/v4/tokenizer/state.pt}
DYN=${DYNAMICS:-runs/v4/dynamics/state.pt}
VOCAB=${VOCAB:-runs/ctx/ctx0/vocab.npz}
BASE=${BASE:-runs/ctx/ctx0}
IDM_RUNS=${IDM_RUNS:-runs/v4}
mkdir -p "$OUT"
train() {  # run_dir steps extra-sets...
  local dir=$1 steps=$2; shift 2
  .venv/bin/python -m engine.cli train --stage transformer --set loop.bf16=false --set data_dir=${SNAPSHOT:-runs/snapE} \
    --set tokenizer_state=$TOK --set dynamics_state=$DYN --set loop.threads=1 --set loop.run_dir=$dir \
    --set loop.steps=$steps --set eval_every=250 --set size_name=compact --set loop.progress=false "$@" > "$dir.log" 2>&1
}
train $OUT/nosym $STEPS --set symmetries=1 --set vocab_from=$VOCAB &
train $OUT/katago $STEPS --set corpora=katago9 --set vocab_from=$VOCAB &
wait
train $OUT/gnugo_pre $((STEPS / 2)) --set corpora=gnugo9 --set vocab_from=$VOCAB
train $OUT/gnugo_ft $((STEPS / 2)) --set corpora=katago9 --set loop.init_from=$OUT/gnugo_pre/state.pt
for arm in base nosym katago gnugo_ft; do
  src=$OUT/$arm; [ $arm = base ] && src=$BASE
  d=$OUT/bundle_runs/$arm; mkdir -p $d
  for s in tokenizer dynamics idm; do ln -sfn "$(realpath $IDM_RUNS/$s)" $d/$s; done
  ln -sfn "$(realpath $src)" $d/transformer
  .venv/bin/python -m engine.cli export --runs $d --out $OUT/bundle_$arm --data-dir ${SNAPSHOT:-runs/snapE} --branches 4
done
.venv/bin/python -m engine.cli eval run --split val --out $OUT/eval_val.json \
  --player py:models.player:shipped:weights=$OUT/bundle_base --player py:models.player:shipped:weights=$OUT/bundle_nosym \
  --player py:models.player:shipped:weights=$OUT/bundle_katago --player py:models.player:shipped:weights=$OUT/bundle_gnugo_ft
echo ABL-DONE
