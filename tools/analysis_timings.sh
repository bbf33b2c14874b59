#!/bin/bash
# Times the analyses on the demo model and on one synthetic OLMoE-1B-7B-sized layer (64 experts × 2048 ×
# 1024) through `moescope analyze`: weight analyses on the CPU, the others on whatever GPU Node gets.
# Usage: bash tools/analysis_timings.sh [weights|forward|all]   (one line per analysis: what, seconds)
#   MOESCOPE="$NODE .gpu/app/moescope.mjs" on a GPU host; OUT=… for the outputs (default /tmp/analysis-timings)
set -u
which=${1:-all}
OUT=${OUT:-/tmp/analysis-timings}
MOESCOPE=${MOESCOPE:-node bin/moescope.mjs}
DEMO=${DEMO:-public/models/moescope-demo-16x}
mkdir -p "$OUT"
# the bench writes the synthetic layer (streamed, random bf16) and runs it once
$MOESCOPE bench --shape olmoe-layer --cache "$OUT/shapes" --prompt-tokens 8 --new-tokens 2 >/dev/null 2>&1
LAYER="$OUT/shapes/olmoe-layer"
IDS=$(seq -s, 1 15 960)   # 64 token ids
TEXT='def read_config(path):
    with open(path) as f:
        return json.load(f)'
run() { # label, then analyze arguments
  local label=$1; shift
  local line
  line=$($MOESCOPE analyze "$@" --out "$OUT/$label.json" 2>/dev/null | head -1)
  echo "$label: ${line:-FAILED}"
}
if [ "$which" != forward ]; then
  for a in expert-similarity neuron-similarity router-similarity expert-pca neuron-pca reordered-similarity; do
    [ -d $DEMO ] && run "demo-$a" $DEMO --analysis $a --layer 0
  done
  for a in expert-similarity neuron-similarity router-similarity expert-pca neuron-pca; do
    run "olmoe-layer-$a" "$LAYER" --analysis $a
  done
  run olmoe-layer-reordered-similarity-experts-0-15 "$LAYER" --analysis reordered-similarity --experts 0-15
fi
if [ "$which" != weights ]; then
  for a in output-similarity norm-score-ranks intermediate-states vocabulary; do
    [ -d $DEMO ] && run "demo-$a" $DEMO --analysis $a --prompt "$TEXT"
    run "olmoe-layer-$a" "$LAYER" --analysis $a --ids "$IDS"
  done
fi
