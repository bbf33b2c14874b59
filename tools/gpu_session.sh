#!/usr/bin/env bash
# Everything MoEScope needs from one GPU-machine lease, in one command (the device tool's `run`, with
# `.gpu` carried: build it here first with `node scripts/gpu-bundle.mjs`). Writes results under $OUT:
#   fixtures.tar.gz   HF-written fixtures + reference outputs (tools/make_fixtures.py)  → test/fixtures/hf
#   bench.jsonl       MoEScope's bench on each shape (real GPU through Dawn/Vulkan)
#   bench_hf.jsonl    transformers on the same shapes, same machine, same session
# Usage on the device: bash tools/gpu_session.sh [shapes…]   (default: all three real shapes)
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
shapes=("${@:-olmoe-1b-7b granite-3.0-1b-a400m qwen1.5-moe-a2.7b}")
read -r -a shapes <<<"${shapes[*]}"
export PYTHONUNBUFFERED=1

echo "== fixtures"
python3 tools/make_fixtures.py --out /tmp/fixtures/hf 2>&1 | tee "$OUT/fixtures.log"
tar -czf "$OUT/fixtures.tar.gz" -C /tmp/fixtures hf

echo "== MoEScope bench"
source .gpu/setup.sh
for shape in tiny "${shapes[@]}"; do
  "$NODE" .gpu/app/moescope.mjs bench --shape "$shape" --cache /tmp/moescope-bench 2>>"$OUT/bench.err" | tail -n 1 | tee -a "$OUT/bench.jsonl"
done

echo "== transformers bench"
python3 tools/bench_hf.py --shapes "${shapes[@]}" --cache /tmp/moescope-bench 2>>"$OUT/bench_hf.err" | tee "$OUT/bench_hf.jsonl"
