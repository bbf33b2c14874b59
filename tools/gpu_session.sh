#!/usr/bin/env bash
# What MoEScope needs from a GPU-machine lease, in two calls of the device tool's `run` (each under its
# 10-minute limit), with `.gpu` (node scripts/gpu-bundle.mjs) and `.demo` (tools/demo/build_corpus.py) carried:
#   bash tools/gpu_session.sh train   HF fixtures (CPU, in the background) + demo-model training (GPU), then
#                                     MoEScope on the trained model on the real GPU.
#       → $OUT/fixtures.tar.gz (→ test/fixtures/hf), $OUT/demo.tar.gz (model, stats.json, reference.json), logs
#   bash tools/gpu_session.sh bench [shapes…]   MoEScope's bench (with a per-kernel profile), then
#       transformers' on the same shapes (SKIP_HF=1 skips it). → $OUT/bench.jsonl, $OUT/bench_hf.jsonl, logs
#   bash tools/gpu_session.sh ab [shapes…]   an A/B in one lease: the bench of commit REV (here first:
#       node scripts/gpu-bundle.mjs --ref REV) and of the working tree, alternating per shape, ROUNDS times
#       (default 1), with the profile (PROFILE=0: without, for decode as it runs; PROFILE=in-place: each
#       decode kernel's cost as the step runs, which kernels a change moved). → $OUT/ab.txt (a line per
#       run: prefill, decode, the slowest prefill kernels or each decode kernel's µs per dispatch in place),
#       $OUT/ab.jsonl (the bench's JSON with "variant": "ref" or "new")
#   bash tools/gpu_session.sh browser [shapes…]   per shape, the bench in Node and in headless Chromium
#       (`bench --browser`: the page's Web Worker, as users run it), back to back; with .gpu/ref (node
#       scripts/gpu-bundle.mjs --ref REV), REV's and the working tree's alternate, ROUNDS times (RUNTIMES:
#       default "node browser"). Needs the Chromium of
#       tools/pack_chromium.sh: .chromium-1 and .chromium-2 carried (in two calls: each part is kept in
#       /tmp/moescope-chromium-parts as it comes), or already unpacked. NODE_APP picks the Node CLI
#       (default .gpu/app/moescope.mjs). → $OUT/browser.txt (a line per run), $OUT/browser.jsonl
#   bash tools/gpu_session.sh load [shapes…]   per shape, the load in Node and in Chromium with each
#       --upload-writes (mapped, queued), short prefill and decode. Chromium as for browser.
#       → $OUT/load.txt, $OUT/load.jsonl
#   bash tools/gpu_session.sh app [model dirs or shapes…]   the app page itself (bench --app: files picked,
#       a prompt run, views drawing) in Chromium. With .gpu/ref (node scripts/gpu-bundle.mjs --ref REV),
#       REV's page and the working tree's alternate, ROUNDS times. CPU_PROFILE=1: the page thread's CPU
#       profile of each last run too. → $OUT/app.txt (tables), $OUT/app.jsonl (the report with "variant":
#       "ref" or "new"), $OUT/app-*.cpuprofile
set -uo pipefail
export OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
mode=${1:-train}
shift || true
source .gpu/setup.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"

if [ "$mode" = train ]; then
  echo "== fixtures (background, CPU)"
  OMP_NUM_THREADS=4 CUDA_VISIBLE_DEVICES= python3 tools/make_fixtures.py --out /tmp/fixtures/hf >"$OUT/fixtures.log" 2>&1 &
  fixtures=$!
  echo "== demo model"
  python3 tools/demo/train_demo.py --corpus .demo/corpus --out /tmp/demo --seconds "${TRAIN_SECONDS:-270}" 2>&1 | tee "$OUT/train.log"
  wait $fixtures
  tail -n 12 "$OUT/fixtures.log"
  tar -czf "$OUT/fixtures.tar.gz" -C /tmp/fixtures hf
  tar -czf "$OUT/demo.tar.gz" -C /tmp demo
  echo "== MoEScope on the demo model (real GPU)"
  model=/tmp/demo/moescope-demo-16x
  timeout 60 "$NODE" .gpu/app/moescope.mjs generate "$model" --prompt "def read_config(path):" --max-new-tokens 64 2>&1 | tail -n 20 | tee "$OUT/demo_generate.log"
  timeout 90 "$NODE" .gpu/app/moescope.mjs bench --model "$model" 2>&1 | tail -n 30 | tee "$OUT/demo_bench.log"
  exit 0
fi

shapes=("$@")
REF_CLI=.gpu/ref/bundle/app/moescope.mjs # commit REV's CLI, from node scripts/gpu-bundle.mjs --ref REV
[ ${#shapes[@]} -eq 0 ] && shapes=(granite-3.0-1b-a400m olmoe-1b-7b qwen1.5-moe-a2.7b)

if [ "$mode" = ab ]; then
  [ -f "$REF_CLI" ] || { echo "ab: no $REF_CLI (here: node scripts/gpu-bundle.mjs --ref REV)" >&2; exit 1; }
  profile=--profile
  [ "${PROFILE:-1}" = 0 ] && profile= # PROFILE=0: decode as it runs (the profile times one step at a time)
  [ "${PROFILE:-1}" = in-place ] && profile=--profile-in-place
  echo "ref = $(cat .gpu/ref/COMMIT), new = the working tree${profile:+, $profile}" | tee -a "$OUT/ab.txt"
  for shape in "${shapes[@]}"; do
    for round in $(seq "${ROUNDS:-1}"); do
      for variant in ref new; do
        app=.gpu/app/moescope.mjs
        [ "$variant" = ref ] && app=$REF_CLI
        timeout "${SHAPE_SECONDS:-150}" "$NODE" "$app" bench $profile --shape "$shape" --new-tokens "${NEW_TOKENS:-128}" --cache /tmp/moescope-bench 2>>"$OUT/ab.err" | tail -n 1 >/tmp/ab.json
        VARIANT=$variant "$NODE" -e '
          const r = { variant: process.env.VARIANT, ...JSON.parse(require("fs").readFileSync("/tmp/ab.json", "utf8")) };
          require("fs").appendFileSync(process.env.OUT + "/ab.jsonl", JSON.stringify(r) + "\n");
          const top = r.inPlace
            ? r.inPlace.kernels.map((k) => `${k.kernel} ${(k.microsecondsPerStep / k.dispatchesPerStep).toFixed(1)} µs`)
            : Object.entries(r.profile?.prefill ?? {}).slice(0, 6).map(([k, v]) => `${k} ${(v.microsecondsPerStep / 1000).toFixed(2)} ms`);
          console.log(`${r.shape} ${r.variant}: prefill ${r.prefillTokS.toFixed(0)} tok/s, GPU ${r.prefillGpuMs?.toFixed(2)} ms; decode ${r.decodeTokS.toFixed(1)} tok/s, GPU ${r.decodeGpuUs?.toFixed(0)} µs, idle ${r.decodeGpuGapUs?.toFixed(0)} µs before each (${r.decodeGpuReplayedGapUs?.toFixed(0)} before a replayed one), record ${r.decodeRecordUs?.toFixed(0)} µs | ${top.join(", ")}`);
        ' 2>>"$OUT/ab.err" | tee -a "$OUT/ab.txt"
      done
    done
  done
  exit 0
fi

# Chromium for the browser modes: unpacked from the parts carried so far (exits when one is missing)
chromium_ready() {
  parts=/tmp/moescope-chromium-parts
  mkdir -p "$parts"
  cp .chromium-*/part-* "$parts/" 2>/dev/null
  if [ ! -x /tmp/moescope-chromium/chromium ]; then
    [ -f "$parts/part-00" ] && [ -f "$parts/part-01" ] || { echo "$mode: Chromium parts so far: $(ls "$parts")"; exit 0; }
    cat "$parts"/part-* | xz -dc | tar -x -C /tmp
  fi
  [ -d .gpu/node_modules/playwright-core ] || tar -xJf .gpu/playwright-core.tar.xz -C .gpu/node_modules
  /tmp/moescope-chromium/chromium.sh --version
}
CHROMIUM_ARGS=(--chromium /tmp/moescope-chromium/chromium.sh)

if [ "$mode" = load ]; then
  chromium_ready
  for shape in "${shapes[@]}"; do
    for variant in "node mapped" "node queued" "browser mapped" "browser queued"; do
      read -r runtime writes <<<"$variant"
      args=(bench --shape "$shape" --prompt-tokens 64 --new-tokens 16 --cache /tmp/moescope-bench --upload-writes "$writes")
      [ "$runtime" = browser ] && args+=(--browser "${CHROMIUM_ARGS[@]}")
      timeout "${SHAPE_SECONDS:-200}" "$NODE" .gpu/app/moescope.mjs "${args[@]}" 2>>"$OUT/load.err" | tail -n 1 >/tmp/run.json
      "$NODE" -e '
        const r = JSON.parse(require("fs").readFileSync("/tmp/run.json", "utf8"));
        require("fs").appendFileSync(process.env.OUT + "/load.jsonl", JSON.stringify(r) + "\n");
        console.log(`${r.shape} | ${r.runtime} | ${r.uploadWrites} writes | load ${r.loadSeconds.toFixed(2)} s, ${r.loadMBs.toFixed(0)} MB/s | decode ${r.decodeTokS.toFixed(1)} tok/s | ids ${(r.decodedIds ?? []).slice(0, 6).join(",")}`);
      ' 2>>"$OUT/load.err" | tee -a "$OUT/load.txt"
    done
  done
  tail -n 20 "$OUT/load.err"
  exit 0
fi

if [ "$mode" = app ]; then
  chromium_ready
  variants=(new)
  [ -f "$(dirname "$REF_CLI")/app-page/index.html" ] && variants=(ref new) && echo "ref = $(cat .gpu/ref/COMMIT), new = the working tree" | tee -a "$OUT/app.txt"
  for target in "${shapes[@]}"; do
    source_args=(--shape "$target" --cache /tmp/moescope-bench)
    [ -d "$target" ] && source_args=(--model "$target")
    for round in $(seq "${ROUNDS:-1}"); do
      for variant in "${variants[@]}"; do
        app=.gpu/app/moescope.mjs
        [ "$variant" = ref ] && app=$REF_CLI
        echo "== $target, $variant, round $round" | tee -a "$OUT/app.txt"
        profile_args=()
        [ "${CPU_PROFILE:-0}" = 1 ] && profile_args=(--cpu-profile "$OUT/app-$(basename "$target")-$variant-$round.cpuprofile")
        timeout "${SHAPE_SECONDS:-300}" "$NODE" "$app" bench --app "${source_args[@]}" --new-tokens "${NEW_TOKENS:-128}" --runs "${RUNS:-2}" "${CHROMIUM_ARGS[@]}" "${profile_args[@]}" 2>>"$OUT/app.err" >/tmp/app.out
        head -n -1 /tmp/app.out | tee -a "$OUT/app.txt"
        tail -n 1 /tmp/app.out | VARIANT=$variant "$NODE" -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => s.trim() && console.log(JSON.stringify({ ...JSON.parse(s), variant: process.env.VARIANT })))' >>"$OUT/app.jsonl"
      done
    done
  done
  tail -n 20 "$OUT/app.err"
  exit 0
fi

if [ "$mode" = browser ]; then
  chromium_ready
  node_app=${NODE_APP:-.gpu/app/moescope.mjs}
  variants=(new)
  [ -f "$(dirname "$REF_CLI")/bench-page/bench.html" ] && variants=(ref new) && echo "ref = $(cat .gpu/ref/COMMIT), new = the working tree" | tee -a "$OUT/browser.txt"
  for shape in "${shapes[@]}"; do
    for round in $(seq "${ROUNDS:-1}"); do
      for runtime in ${RUNTIMES:-node browser}; do
        for variant in "${variants[@]}"; do
          args=(bench --shape "$shape" --new-tokens "${NEW_TOKENS:-128}" --cache /tmp/moescope-bench)
          app=$node_app
          [ "$runtime" = browser ] && app=.gpu/app/moescope.mjs && args+=(--browser "${CHROMIUM_ARGS[@]}")
          [ "$variant" = ref ] && app=$REF_CLI
          timeout "${SHAPE_SECONDS:-200}" "$NODE" "$app" "${args[@]}" 2>>"$OUT/browser.err" | tail -n 1 >/tmp/run.json
          VARIANT=$variant "$NODE" -e '
            const r = { variant: process.env.VARIANT, ...JSON.parse(require("fs").readFileSync("/tmp/run.json", "utf8")) };
            require("fs").appendFileSync(process.env.OUT + "/browser.jsonl", JSON.stringify(r) + "\n");
            console.log(`${r.shape} | ${r.variant} | ${r.runtime ?? "Node"} | ${r.adapter} | load ${r.loadMBs.toFixed(0)} MB/s | prefill ${r.prefillTokS.toFixed(0)} tok/s, GPU ${r.prefillGpuMs?.toFixed(2)} ms | decode ${r.decodeTokS.toFixed(1)} tok/s, GPU ${r.decodeGpuUs?.toFixed(0)} µs, idle ${r.decodeGpuGapUs?.toFixed(0)} µs before each (${r.decodeGpuReplayedGapUs?.toFixed(0)} before a replayed one), record ${r.decodeRecordUs?.toFixed(0)} µs, ${r.decodeReplayedSteps} replayed | ids ${(r.decodedIds ?? []).slice(0, 6).join(",")}`);
          ' 2>>"$OUT/browser.err" | tee -a "$OUT/browser.txt"
        done
      done
    done
  done
  tail -n 20 "$OUT/browser.err"
  exit 0
fi

echo "== MoEScope bench"
for shape in tiny "${shapes[@]}"; do
  timeout "${SHAPE_SECONDS:-150}" "$NODE" .gpu/app/moescope.mjs bench --profile --shape "$shape" --cache /tmp/moescope-bench 2>>"$OUT/bench.err" | tee "$OUT/bench_$shape.log" | tail -n 1 | tee -a "$OUT/bench.jsonl"
done
if [ -d public/models/moescope-demo-16x ]; then
  timeout 90 "$NODE" .gpu/app/moescope.mjs bench --profile --model public/models/moescope-demo-16x 2>>"$OUT/bench.err" | tee "$OUT/bench_demo.log" | tail -n 1 | tee -a "$OUT/bench.jsonl"
fi
[ "${SKIP_HF:-0}" = 1 ] && exit 0
echo "== transformers bench"
timeout "${HF_SECONDS:-240}" python3 tools/bench_hf.py --shapes "${shapes[@]}" --cache /tmp/moescope-bench 2>>"$OUT/bench_hf.err" | tee "$OUT/bench_hf.jsonl"
