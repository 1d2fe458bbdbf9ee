#!/usr/bin/env bash
# Freeze the growing corpora for a training run: copy data/ (complete lines only: the self-play
# jobs append while we copy) to DEST and write DEST's own manifest, so every stage of one run
# sees the same games and token caches are not rebuilt when self-play updates data/manifest.json.
# Usage: bash scripts/snapshot_data.sh runs/data_snapshot
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:?destination folder}
rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp"
cp -r data/. "$DEST.tmp/"
for f in "$DEST.tmp"/*/games.sgf; do
  # drop a trailing partial line (a game being appended right now)
  if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
    head -n "$(wc -l < "$f")" "$f" > "$f.tmp" && mv "$f.tmp" "$f"
  fi
done
.venv/bin/python -c "import sys; from engine.corpus import update_manifest; update_manifest(sys.argv[1])" "$DEST.tmp"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
.venv/bin/python -c "import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json')); print({k: v['games'] for k, v in m['corpora'].items()})" "$DEST"
