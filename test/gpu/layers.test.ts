// Each per-token kernel against its plain-TS reference on random shapes, for every stored dtype.
import { describe, expect, it } from 'vitest';
import type { ComputeDtype } from '../../src/checkpoint/dtypes.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { argmax, attention, elementwise, embed, linear, norm, qkvProjection, qkvProjectionFits, rope, ropeTables, tiledSplit } from '../../src/kernels/layers.ts';
import { argmaxRef, attentionRef, embedRef, linearRef, normRef, ropeRef } from '../../src/reference/layers.ts';
import { KERNEL_VARIANTS, variantGpu } from '../helpers/gpu.ts';
import { emptyBuffer, f32Buffer, randomValues, readF32, readU32, relativeError, run, u32Buffer, weight } from '../helpers/gpuData.ts';
import { randomInt, seededRandom } from '../helpers/random.ts';

const DTYPES: ComputeDtype[] = ['BF16', 'F16', 'F32'];
const TOL = 1e-5;

/**
 * linear() over a weight of three stacked parts (rows[i] rows each, with a bias) writes part i into its
 * own output, at row stride rows[i] + 2i from column i, as linearRef computes it.
 */
async function expectStackedParts(gpu: GpuContext, rand: () => number, dtype: ComputeDtype, T: number, K: number, rows: readonly number[]) {
  const N = rows.reduce((n, r) => n + r, 0);
  const x = randomValues(rand, T * K);
  const w = weight(gpu, randomValues(rand, N * K), dtype);
  const b = weight(gpu, randomValues(rand, N), dtype);
  const layout = rows.map((r, i) => ({ rows: r, stride: r + 2 * i, offset: i }));
  const ys = layout.map((l) => emptyBuffer(gpu, T * l.stride));
  const [p0, p1, p2] = layout;
  await run(gpu, (enc) => linear(gpu, enc, {
    x: f32Buffer(gpu, x), weight: w.ref, bias: b.ref, y: ys[0]!, numTokens: T, outputs: p0!.rows, inputs: K, outStride: p0!.stride, outOffset: p0!.offset,
    more: [{ y: ys[1]!, rows: p1!.rows, outStride: p1!.stride, outOffset: p1!.offset }, { y: ys[2]!, rows: p2!.rows, outStride: p2!.stride, outOffset: p2!.offset }],
  }));
  let first = 0;
  for (const [i, l] of layout.entries()) {
    const got = await readF32(gpu, ys[i]!, T * l.stride);
    const picked = Float32Array.from({ length: T * l.rows }, (_, j) => got[Math.floor(j / l.rows) * l.stride + l.offset + (j % l.rows)]!);
    const want = linearRef(x, w.values.subarray(first * K, (first + l.rows) * K), b.values.subarray(first, first + l.rows), K);
    expect(relativeError(picked, want), `${dtype} ${T}×${N}×${K} part ${i}`).toBeLessThan(TOL);
    first += l.rows;
  }
}

for (const variant of KERNEL_VARIANTS) describe(`per-token kernels vs plain-TS references (${variant} kernels)`, () => {
  it('embedding gather with scale', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(1);
    for (const dtype of DTYPES) {
      const [V, H, T] = [37, randomInt(rand, 1, 70), randomInt(rand, 1, 9)];
      const table = weight(gpu, randomValues(rand, V * H), dtype);
      const ids = Array.from({ length: T }, () => randomInt(rand, 0, V - 1));
      const out = emptyBuffer(gpu, T * H);
      await run(gpu, (enc) => embed(gpu, enc, { ids: u32Buffer(gpu, ids), table: table.ref, out, numTokens: T, hidden: H, vocab: V, scale: 12 }));
      expect(relativeError(await readF32(gpu, out, T * H), embedRef(ids, table.values, H, 12)), dtype).toBeLessThan(TOL);
    }
  });

  it('RMSNorm and LayerNorm (with bias), rows of any width, the residual add before them', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(2);
    for (const dtype of DTYPES) {
      for (const layerNorm of [false, true]) {
        const [R, N] = [randomInt(rand, 1, 12), randomInt(rand, 1, 300)];
        const x = randomValues(rand, R * N, 3);
        // RMSNorm: its weight after another's in one buffer (k_norm after q_norm), from an odd element
        const weightOffset = layerNorm ? 0 : 2 * randomInt(rand, 0, 20) + 1;
        const w = weight(gpu, randomValues(rand, weightOffset + N), dtype);
        const b = layerNorm ? weight(gpu, randomValues(rand, N), dtype) : null;
        const outOffset = layerNorm ? 0 : 2 * N + 1; // RMSNorm writes inside a wider buffer (a cache's rows)
        const y = emptyBuffer(gpu, outOffset + R * N);
        await run(gpu, (enc) => norm(gpu, enc, { x: f32Buffer(gpu, x), y, outOffset, weight: w.ref, weightOffset, bias: b?.ref ?? null, numRows: R, width: N, eps: 1e-5, layerNorm }));
        const want = normRef(x, N, w.values.subarray(weightOffset), b?.values ?? null, 1e-5, layerNorm);
        const got = await readF32(gpu, y, outOffset + R * N);
        expect(relativeError(got.subarray(outOffset), want), `${dtype} layerNorm=${layerNorm}`).toBeLessThan(TOL);
        expect(got.subarray(0, outOffset).every((v) => v === 0)).toBe(true);
      }
    }
    // the residual add before a block norm, x += r · scale (written back); rows wider than the workgroup;
    // the output scaled where asked (the final norm: 1 / logits_scaling)
    for (const [R, N, layerNorm, outScale] of [[3, 200, false, 1], [2, 520, true, 1 / 6], [2, 9000, false, 1 / 6]] as const) {
      const x = randomValues(rand, R * N, 3);
      const r = randomValues(rand, R * N);
      const w = weight(gpu, randomValues(rand, N), 'F32');
      const b = layerNorm ? weight(gpu, randomValues(rand, N), 'F32') : null;
      const stream = f32Buffer(gpu, x);
      const y = emptyBuffer(gpu, R * N);
      await run(gpu, (enc) => norm(gpu, enc, { x: stream, y, weight: w.ref, bias: b?.ref ?? null, numRows: R, width: N, eps: 1e-5, layerNorm, residual: f32Buffer(gpu, r), residualScale: 0.7, outScale }));
      const added = x.map((v, i) => v + r[i]! * 0.7);
      const label = `residual add, N=${N}`;
      expect(relativeError(await readF32(gpu, stream, R * N), added), label).toBeLessThan(TOL);
      const normed = normRef(added, N, w.values, b?.values ?? null, 1e-5, layerNorm).map((v) => v * outScale);
      expect(relativeError(await readF32(gpu, y, R * N), normed), label).toBeLessThan(TOL);
    }
  });

  it('linear layers with bias, writing into a column range of a wider output (matvec ≤ 8 tokens: rows 16-byte aligned or not; above: matvec_rows over token blocks for ≤ 128 aligned rows, else matmul)', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(3);
    for (const dtype of DTYPES) {
      for (const [i, T] of [1, 6, 12, 40, 1, 3, 1, 5].entries()) {
        const aligned = i >= 4 || rand() < 0.5; // K a multiple of 8: matvec_rows.wgsl
        const long = i >= 6; // rows long enough for matvec_rows' four-words-per-lane loop, plus a remainder
        const [N, K] = [randomInt(rand, 1, 150), long ? 8 * randomInt(rand, 97, 300) : aligned ? 8 * randomInt(rand, 1, 40) : randomInt(rand, 1, 130)];
        const x = randomValues(rand, T * K);
        const w = weight(gpu, randomValues(rand, N * K), dtype);
        const b = i === 0 ? null : weight(gpu, randomValues(rand, N), dtype);
        const [stride, offset] = [N + 5, 3];
        const y = emptyBuffer(gpu, T * stride);
        await run(gpu, (enc) => linear(gpu, enc, { x: f32Buffer(gpu, x), weight: w.ref, bias: b?.ref ?? null, y, numTokens: T, outputs: N, inputs: K, outStride: stride, outOffset: offset }));
        const got = await readF32(gpu, y, T * stride);
        const picked = Float32Array.from({ length: T * N }, (_, j) => got[Math.floor(j / N) * stride + offset + (j % N)]!);
        expect(relativeError(picked, linearRef(x, w.values, b?.values ?? null, K)), `${dtype} ${T}×${N}×${K}`).toBeLessThan(TOL);
      }
    }
  });

  it('prefill matmul over several 64 × 128 tiles each way: K a multiple of 8 (16-byte staging loads) or not, and not of the 16-input step', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(21);
    for (const dtype of DTYPES) {
      // K: 8-aligned ones below and above one step, one that ends mid-step, unaligned ones
      for (const K of [40, 8, 264, 8 * randomInt(rand, 5, 60), 37, randomInt(rand, 65, 140)]) {
        const [T, N] = [randomInt(rand, 65, 200), randomInt(rand, 129, 300)];
        const x = randomValues(rand, T * K);
        const w = weight(gpu, randomValues(rand, N * K), dtype);
        const y = emptyBuffer(gpu, T * N);
        await run(gpu, (enc) => linear(gpu, enc, { x: f32Buffer(gpu, x), weight: w.ref, bias: null, y, numTokens: T, outputs: N, inputs: K }));
        expect(relativeError(await readF32(gpu, y, T * N), linearRef(x, w.values, null, K)), `${dtype} ${T}×${N}×${K}`).toBeLessThan(TOL);
      }
    }
  });

  it('prefill matmul split over chunks of the inputs where the tiles are few (partial sums, then their sum with the bias), stacked parts', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(23);
    for (const dtype of DTYPES) {
      // K 8-aligned (16-byte loads) in three chunks; K unaligned, its last chunk ending mid-step
      for (const [T, K, wantSplits] of [[100, 1000, 3], [40, 4100, 16]] as const) {
        // the partial sums are vec4s: N a multiple of 4 splits, one part's rows not of 4 themselves
        const rows = [randomInt(rand, 100, 150), randomInt(rand, 1, 40), 0];
        rows[2] = 4 * randomInt(rand, 1, 10) - ((rows[0]! + rows[1]!) % 4);
        const N = rows[0]! + rows[1]! + rows[2]!;
        expect(tiledSplit(T, K, N).splits, `${T}×${N}×${K} splits`).toBe(wantSplits);
        await expectStackedParts(gpu, rand, dtype, T, K, rows);
        // N not a multiple of 4: not split
        expect(tiledSplit(T, K, N + 1).splits).toBe(1);
        await expectStackedParts(gpu, rand, dtype, T, K, [rows[0]! + 1, rows[1]!, rows[2]!]);
      }
    }
  });

  it('a router over many tokens (≤ 128 outputs: matvec_rows, 8 tokens per workgroup) with a stacked gate row, into a range of a wider buffer', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(29);
    for (const dtype of DTYPES) {
      // token counts that are and are not multiples of 8; the most outputs this path takes; a long row
      for (const [T, E, K] of [[9, 60, 64], [40, 127, 8 * randomInt(rand, 1, 20)], [517, 31, 2048], [16, 3, 8]] as const) {
        const x = randomValues(rand, T * K);
        const w = weight(gpu, randomValues(rand, (E + 1) * K), dtype); // E router rows, then a shared-expert gate row
        const offset = 5; // the layer's range starts mid-buffer, as in the routing arena
        const logits = emptyBuffer(gpu, offset + T * E + 3);
        const gate = emptyBuffer(gpu, T);
        await run(gpu, (enc) => linear(gpu, enc, { x: f32Buffer(gpu, x), weight: w.ref, bias: null, y: logits, outOffset: offset, numTokens: T, outputs: E, inputs: K, more: [{ y: gate, rows: 1 }] }));
        const got = await readF32(gpu, logits, offset + T * E + 3);
        const want = linearRef(x, w.values, null, K); // [T, E + 1]
        const wantLogits = Float32Array.from({ length: T * E }, (_, j) => want[Math.floor(j / E) * (E + 1) + (j % E)]!);
        const wantGate = Float32Array.from({ length: T }, (_, t) => want[t * (E + 1) + E]!);
        expect(relativeError(got.subarray(offset, offset + T * E), wantLogits), `${dtype} ${T}×${E}×${K} logits`).toBeLessThan(TOL);
        expect(relativeError(await readF32(gpu, gate, T), wantGate), `${dtype} ${T}×${E}×${K} gate`).toBeLessThan(TOL);
        expect([...got.subarray(0, offset), ...got.subarray(offset + T * E)], 'bytes around the range').toEqual(Array(offset + 3).fill(0));
      }
    }
  });

  it('a stacked weight (q, k, v in one) writes each part to its own output, in one dispatch', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(14);
    for (const dtype of DTYPES) {
      for (const [T, K] of [[1, 64], [3, 27], [20, 48], [20, 27]] as const) { // matvec_rows, matvec, matvec_rows over token blocks (N ≤ 128) or matmul, matmul
        await expectStackedParts(gpu, rand, dtype, T, K, [randomInt(rand, 1, 90), randomInt(rand, 1, 40), randomInt(rand, 1, 40)]);
      }
    }
  });

  it('one token: the block norm folded into a linear layer (pending residual, normed row written out), and a layer that adds itself to the residual stream', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(15);
    for (const dtype of DTYPES) {
      for (const [K, withPending, writeNormed] of [[64, false, true], [8 * randomInt(rand, 97, 260), true, false], [8 * randomInt(rand, 2, 30), true, true]] as const) {
        const N = randomInt(rand, 1, 200);
        const [stream, branch] = [randomValues(rand, K, 3), randomValues(rand, K)];
        const g = weight(gpu, randomValues(rand, K), dtype);
        // with writeNormed, a second part of one row too (the router with the shared expert's gate stacked)
        const extra = writeNormed ? 1 : 0;
        const w = weight(gpu, randomValues(rand, (N + extra) * K), dtype);
        const b = weight(gpu, randomValues(rand, N + extra), dtype);
        const scale = withPending ? 0.37 : 1;
        const summed = stream.map((v, i) => v + (withPending ? branch[i]! * scale : 0));
        const h = normRef(summed, K, g.values, null, 1e-6, false);
        const [y, gate, normedOut] = [emptyBuffer(gpu, N + 3), emptyBuffer(gpu, 1), emptyBuffer(gpu, K)];
        await run(gpu, (enc) => linear(gpu, enc, {
          x: f32Buffer(gpu, stream), weight: w.ref, bias: b.ref, y, numTokens: 1, outputs: N, inputs: K, outOffset: 3,
          ...(extra ? { more: [{ y: gate, rows: 1 }] } : {}),
          norm: { weight: g.ref, eps: 1e-6, pending: withPending ? { r: f32Buffer(gpu, branch), scale } : undefined, writeNormed: writeNormed ? normedOut : undefined },
        }));
        const label = `${dtype} K=${K} pending=${withPending}`;
        const wantY = linearRef(h, w.values, b.values, K);
        const got = new Float32Array(N + extra);
        got.set((await readF32(gpu, y, N + 3)).subarray(3));
        if (extra) got.set(await readF32(gpu, gate, 1), N);
        expect(relativeError(got, wantY), `${label} (both parts)`).toBeLessThan(TOL);
        if (writeNormed) expect(relativeError(await readF32(gpu, normedOut, K), h), `${label} normed row`).toBeLessThan(TOL);

        // a residual branch: stream += scale · (x · Wᵀ + pending), W [K, M] back to the stream's width
        const M = 8 * randomInt(rand, 1, 40);
        const inputs = randomValues(rand, M);
        const back = weight(gpu, randomValues(rand, K * M), dtype);
        const streamBuf = f32Buffer(gpu, stream);
        await run(gpu, (enc) => linear(gpu, enc, {
          x: f32Buffer(gpu, inputs), weight: back.ref, bias: null, y: streamBuf, numTokens: 1, outputs: K, inputs: M,
          residual: { scale, pending: withPending ? f32Buffer(gpu, branch) : undefined },
        }));
        const projected = linearRef(inputs, back.values, null, M);
        const want = stream.map((v, i) => v + scale * (projected[i]! + (withPending ? branch[i]! : 0)));
        expect(relativeError(await readF32(gpu, streamBuf, K), want), `${label} residual branch`).toBeLessThan(TOL);
      }
    }
  });

  it('a prefill\'s q/k/v projection finished in one pass: partial sums (+ bias), q/k norms (whole or per head), clip, RoPE, k and v into cache rows', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(41);
    const cases = [
      // OLMoE-like: norms over the whole projection, clip after them, a multiply split in two
      { T: 40, K: 512, heads: 8, kvHeads: 4, d: 16, rotaryDim: 16, pos0: 0, bias: false, norm: 'whole', clip: 0.5, dtype: 'BF16', splits: 2 },
      // Qwen-like: bias, no norms, no clip; partial rotary; a later position; one chunk
      { T: 33, K: 40, heads: 2, kvHeads: 2, d: 32, rotaryDim: 16, pos0: 7, bias: true, norm: null, clip: null, dtype: 'F16', splits: 1 },
      // Qwen3-like: per-head norms, grouped heads, f32
      { T: 17, K: 24, heads: 6, kvHeads: 2, d: 16, rotaryDim: 16, pos0: 3, bias: true, norm: 'head', clip: 0.3, dtype: 'F32', splits: 1 },
    ] as const;
    for (const c of cases) {
      const [qw, kvw] = [c.heads * c.d, c.kvHeads * c.d];
      const N = qw + 2 * kvw;
      const x = randomValues(rand, c.T * c.K);
      const w = weight(gpu, randomValues(rand, N * c.K), c.dtype);
      const b = c.bias ? weight(gpu, randomValues(rand, N), c.dtype) : null;
      const normWidth = c.norm === 'head' ? c.d : qw;
      const kOffset = normWidth + 3; // k's norm weights start past q's, not right after them
      const nw = weight(gpu, Float32Array.from(randomValues(rand, kOffset + (c.norm === 'head' ? c.d : kvw)), (v) => 1 + v / 2), c.dtype);
      const invFreq = Float32Array.from({ length: c.rotaryDim / 2 }, (_, i) => 10000 ** ((-2 * i) / c.rotaryDim));
      const rows = c.pos0 + c.T + 2;
      const tables = ropeTables(invFreq, rows, 1);
      const [q, kCache, vCache] = [emptyBuffer(gpu, c.T * qw), f32Buffer(gpu, new Float32Array(rows * kvw).fill(7)), f32Buffer(gpu, new Float32Array(rows * kvw).fill(7))];
      const args = {
        x: f32Buffer(gpu, x), weight: w.ref, bias: b?.ref ?? null, numTokens: c.T, inputs: c.K, numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.d,
        q, kCache, vCache, pos0: c.pos0, cos: f32Buffer(gpu, tables.cos), sin: f32Buffer(gpu, tables.sin), rotaryDim: c.rotaryDim, clip: c.clip,
        norms: c.norm ? { weight: nw.ref, kOffset, perHead: c.norm === 'head', eps: 1e-5 } : null,
      };
      expect(qkvProjectionFits(args), JSON.stringify(c)).toBe(true);
      expect(tiledSplit(c.T, c.K, N).splits, JSON.stringify(c)).toBe(c.splits);
      await run(gpu, (enc) => qkvProjection(gpu, enc, args));
      // reference: y = x Wᵀ + b; q, k = norm(q), norm(k); clip q, k, v; RoPE q and k
      const y = linearRef(x, w.values, b?.values ?? null, c.K);
      const part = (from: number, width: number) => Float32Array.from({ length: c.T * width }, (_, j) => y[Math.floor(j / width) * N + from + (j % width)]!);
      let wantQ: Float32Array = part(0, qw);
      let wantK: Float32Array = part(qw, kvw);
      const wantV = part(qw + kvw, kvw);
      if (c.norm) {
        wantQ = normRef(wantQ, normWidth, nw.values.subarray(0, normWidth), null, 1e-5, false);
        wantK = normRef(wantK, c.norm === 'head' ? c.d : kvw, nw.values.subarray(kOffset), null, 1e-5, false);
      }
      if (c.clip !== null) for (const t of [wantQ, wantK, wantV]) t.forEach((v, i) => (t[i] = Math.min(c.clip, Math.max(-c.clip, v))));
      wantQ = ropeRef(wantQ, c.heads, c.d, c.rotaryDim, c.pos0, invFreq, 1);
      wantK = ropeRef(wantK, c.kvHeads, c.d, c.rotaryDim, c.pos0, invFreq, 1);
      expect(relativeError(await readF32(gpu, q, c.T * qw), wantQ), `${JSON.stringify(c)} q`).toBeLessThan(TOL);
      const [gotK, gotV] = [await readF32(gpu, kCache, rows * kvw), await readF32(gpu, vCache, rows * kvw)];
      const rowsOf = (a: Float32Array) => a.subarray(c.pos0 * kvw, (c.pos0 + c.T) * kvw);
      expect(relativeError(rowsOf(gotK), wantK), `${JSON.stringify(c)} k`).toBeLessThan(TOL);
      // v is not normalised: sums of 512 products, clamped to ±0.5, leave f32 rounding against a max of 0.5
      expect(relativeError(rowsOf(gotV), wantV), `${JSON.stringify(c)} v`).toBeLessThan(c.clip === 0.5 ? 1e-4 : TOL);
      const around = (a: Float32Array) => [...a.subarray(0, c.pos0 * kvw), ...a.subarray((c.pos0 + c.T) * kvw)];
      expect([...around(gotK), ...around(gotV)].every((v) => v === 7), 'cache rows around the written ones').toBe(true);
    }
  });

  it('RoPE, full and partial rotary dims, at an offset position', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(4);
    for (const [heads, d, rotaryDim, pos0] of [[4, 16, 16, 0], [2, 32, 16, 7], [3, 8, 8, 1000]] as const) {
      const T = 5;
      const x = randomValues(rand, T * heads * d);
      const invFreq = Float32Array.from({ length: rotaryDim / 2 }, (_, i) => 10000 ** ((-2 * i) / rotaryDim));
      const buf = f32Buffer(gpu, x);
      const tables = ropeTables(invFreq, pos0 + T, 1.25);
      await run(gpu, (enc) => rope(gpu, enc, { tensors: [{ x: buf, numHeads: heads, headStride: d }], cos: f32Buffer(gpu, tables.cos), sin: f32Buffer(gpu, tables.sin), numTokens: T, rotaryDim, pos0 }));
      expect(relativeError(await readF32(gpu, buf, x.length), ropeRef(x, heads, d, rotaryDim, pos0, invFreq, 1.25))).toBeLessThan(TOL);
      // q and k in one dispatch, k rotated inside a cache at row pos0 (rows of kvHeads · d, untouched around it)
      const kvHeads = Math.max(1, heads - 1);
      const qx = randomValues(rand, T * heads * d);
      const cacheRows = pos0 + T + 2;
      const cache = randomValues(rand, cacheRows * kvHeads * d);
      const [qBuf, cacheBuf] = [f32Buffer(gpu, qx), f32Buffer(gpu, cache)];
      await run(gpu, (enc) =>
        rope(gpu, enc, {
          tensors: [{ x: qBuf, numHeads: heads, headStride: d }, { x: cacheBuf, numHeads: kvHeads, headStride: d, headOffset: pos0 * kvHeads * d }],
          cos: f32Buffer(gpu, tables.cos), sin: f32Buffer(gpu, tables.sin), numTokens: T, rotaryDim, pos0,
        }),
      );
      expect(relativeError(await readF32(gpu, qBuf, qx.length), ropeRef(qx, heads, d, rotaryDim, pos0, invFreq, 1.25))).toBeLessThan(TOL);
      const rows = pos0 * kvHeads * d;
      const wantCache = Float32Array.from(cache);
      wantCache.set(ropeRef(cache.subarray(rows, rows + T * kvHeads * d), kvHeads, d, rotaryDim, pos0, invFreq, 1.25), rows);
      expect(relativeError(await readF32(gpu, cacheBuf, cache.length), wantCache)).toBeLessThan(TOL);
    }
  });

  it('interleaved RoPE inside wider heads (DeepSeek-V3 MLA: rope dims after the nope dims)', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(14);
    const [T, heads, stride, offset, rotaryDim, pos0] = [4, 3, 24, 16, 8, 5];
    const x = randomValues(rand, T * heads * stride);
    const invFreq = Float32Array.from({ length: rotaryDim / 2 }, (_, i) => 10000 ** ((-2 * i) / rotaryDim));
    const tables = ropeTables(invFreq, pos0 + T, 1);
    const buf = f32Buffer(gpu, x);
    await run(gpu, (enc) => rope(gpu, enc, { tensors: [{ x: buf, numHeads: heads, headStride: stride, headOffset: offset }], cos: f32Buffer(gpu, tables.cos), sin: f32Buffer(gpu, tables.sin), numTokens: T, rotaryDim, pos0, interleaved: true }));
    expect(relativeError(await readF32(gpu, buf, x.length), ropeRef(x, heads, stride, rotaryDim, pos0, invFreq, 1, offset, true))).toBeLessThan(TOL);
  });

  it('causal GQA attention over a cache: prefill, decode, sliding window, long context', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(5);
    const cases = [
      { T: 7, pos0: 0, NH: 4, NKV: 2, d: 16, dv: 16, window: null },
      { T: 1, pos0: 9, NH: 4, NKV: 1, d: 8, dv: 8, window: null },
      { T: 6, pos0: 3, NH: 2, NKV: 2, d: 24, dv: 12, window: 4 },
      { T: 2, pos0: 150, NH: 2, NKV: 1, d: 64, dv: 130, window: null }, // blocks of 64 positions, dv > 64
      // tiled kernel (many queries, dims ≤ 128): several query and key blocks, partial blocks, windows
      { T: 40, pos0: 5, NH: 4, NKV: 2, d: 128, dv: 128, window: null },
      { T: 37, pos0: 0, NH: 2, NKV: 1, d: 32, dv: 48, window: 9 },
      { T: 20, pos0: 70, NH: 3, NKV: 3, d: 80, dv: 100, window: 50 },
      { T: 70, pos0: 0, NH: 2, NKV: 2, d: 64, dv: 64, window: 20 }, // five query blocks, a window shorter than a key block
      { T: 33, pos0: 31, NH: 8, NKV: 2, d: 128, dv: 4, window: null }, // one row of the last block; dv of one vec4
      { T: 9, pos0: 0, NH: 2, NKV: 1, d: 18, dv: 16, window: null }, // d not a multiple of 4: the per-query kernel
      // decode split over several workgroups per head, partial softmaxes merged by attention_combine
      { T: 1, pos0: 700, NH: 4, NKV: 2, d: 64, dv: 64, window: null, splits: 4 },
      { T: 1, pos0: 130, NH: 2, NKV: 1, d: 32, dv: 32, window: null, splits: 8 }, // 3 blocks: five splits empty
      { T: 1, pos0: 500, NH: 3, NKV: 3, d: 40, dv: 130, window: 300, splits: 3 }, // window; dv > 128
      { T: 1, pos0: 1000, NH: 16, NKV: 16, d: 128, dv: 128, window: null, splits: undefined }, // attentionSplits' choice
    ];
    for (const c of cases) {
      const P = c.pos0 + c.T;
      const q = randomValues(rand, c.T * c.NH * c.d);
      const k = randomValues(rand, P * c.NKV * c.d);
      const v = randomValues(rand, P * c.NKV * c.dv);
      const out = emptyBuffer(gpu, c.T * c.NH * c.dv);
      const s = { numHeads: c.NH, numKvHeads: c.NKV, headDim: c.d, valueDim: c.dv, pos0: c.pos0, scale: 1 / Math.sqrt(c.d), window: c.window };
      const split = 'splits' in c && c.splits ? { splits: c.splits } : {};
      await run(gpu, (enc) => attention(gpu, enc, { q: f32Buffer(gpu, q), kCache: f32Buffer(gpu, k), vCache: f32Buffer(gpu, v), out, numTokens: c.T, ...s, ...split }));
      expect(relativeError(await readF32(gpu, out, c.T * c.NH * c.dv), attentionRef(q, k, v, s)), JSON.stringify(c)).toBeLessThan(TOL);
    }
  });

  it('decode attention applying RoPE itself: q and the new key (RMS-normed first, per head or whole) rotated, the key written to its cache row', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(16);
    const cases = [
      { pos0: 9, NH: 4, NKV: 2, d: 16, rotaryDim: 16, dv: 16, window: null, qkNorm: 'none', dtype: 'BF16' },
      { pos0: 70, NH: 3, NKV: 1, d: 32, rotaryDim: 16, dv: 24, window: null, qkNorm: 'full', dtype: 'F16' }, // partial rotary dims
      { pos0: 100, NH: 2, NKV: 2, d: 64, rotaryDim: 64, dv: 64, window: 30, qkNorm: 'per-head', dtype: 'BF16' },
      { pos0: 5, NH: 16, NKV: 16, d: 128, rotaryDim: 128, dv: 128, window: null, qkNorm: 'full', dtype: 'F32' }, // OLMoE's heads
      { pos0: 3, NH: 18, NKV: 6, d: 128, rotaryDim: 64, dv: 128, window: null, qkNorm: 'full', dtype: 'BF16' }, // q's row: a round of eight loads per thread and a tail
      { pos0: 600, NH: 16, NKV: 16, d: 128, rotaryDim: 128, dv: 128, window: null, qkNorm: 'full', dtype: 'BF16' }, // split in 4
      { pos0: 900, NH: 4, NKV: 2, d: 64, rotaryDim: 32, dv: 64, window: 700, qkNorm: 'per-head', dtype: 'BF16' }, // split, window
    ] as const;
    for (const c of cases) {
      const P = c.pos0 + 1;
      const invFreq = Float32Array.from({ length: c.rotaryDim / 2 }, (_, i) => 10000 ** ((-2 * i) / c.rotaryDim));
      const tables = ropeTables(invFreq, P, 1.1);
      const q = randomValues(rand, c.NH * c.d, 2);
      const kNew = randomValues(rand, c.NKV * c.d, 2);
      const kPast = randomValues(rand, P * c.NKV * c.d); // rows < pos0: already rotated; row pos0: overwritten
      const v = randomValues(rand, P * c.NKV * c.dv);
      const kCache = f32Buffer(gpu, kPast);
      const out = emptyBuffer(gpu, c.NH * c.dv);
      const s = { numHeads: c.NH, numKvHeads: c.NKV, headDim: c.d, valueDim: c.dv, pos0: c.pos0, scale: 1 / Math.sqrt(c.d), window: c.window };
      // q_norm's weight then k_norm's, in one buffer
      const perHead = c.qkNorm === 'per-head';
      const [qWidth, kWidth] = perHead ? [c.d, c.d] : [c.NH * c.d, c.NKV * c.d];
      const norms = c.qkNorm === 'none' ? null : weight(gpu, randomValues(rand, qWidth + kWidth), c.dtype);
      await run(gpu, (enc) => attention(gpu, enc, {
        q: f32Buffer(gpu, q), kCache, vCache: f32Buffer(gpu, v), out, numTokens: 1, ...s,
        rope: {
          cos: f32Buffer(gpu, tables.cos), sin: f32Buffer(gpu, tables.sin), rotaryDim: c.rotaryDim, kNew: f32Buffer(gpu, kNew),
          qkNorm: norms ? { weight: norms.ref, kOffset: qWidth, perHead, eps: 1e-6 } : undefined,
        },
      }));
      const normed = (x: Float32Array, width: number, w: Float32Array) => (norms ? normRef(x, width, w, null, 1e-6, false) : x);
      const qNormed = normed(q, qWidth, norms?.values.subarray(0, qWidth) ?? new Float32Array());
      const kNormed = normed(kNew, kWidth, norms?.values.subarray(qWidth) ?? new Float32Array());
      const kRotated = ropeRef(kNormed, c.NKV, c.d, c.rotaryDim, c.pos0, invFreq, 1.1);
      const kWant = kPast.slice();
      kWant.set(kRotated, c.pos0 * c.NKV * c.d);
      expect(relativeError(await readF32(gpu, kCache, kWant.length), kWant), `cache ${JSON.stringify(c)}`).toBeLessThan(TOL);
      const want = attentionRef(ropeRef(qNormed, c.NH, c.d, c.rotaryDim, c.pos0, invFreq, 1.1), kWant, v, s);
      expect(relativeError(await readF32(gpu, out, c.NH * c.dv), want), JSON.stringify(c)).toBeLessThan(TOL);
    }
  });

  it('element-wise steps and greedy argmax', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(6);
    const n = 1000;
    const a = randomValues(rand, n, 5);
    const bufs = [f32Buffer(gpu, a), f32Buffer(gpu, a)] as const;
    await run(gpu, async (enc) => {
      await elementwise(gpu, enc, { op: 'clamp', a: bufs[0], count: n - 10, scale: 2, offset: 10 });
      await elementwise(gpu, enc, { op: 'scale', a: bufs[1], count: n, scale: 1 / 6 });
    });
    expect(relativeError(await readF32(gpu, bufs[0], n), a.map((x, i) => (i < 10 ? x : Math.min(2, Math.max(-2, x)))))).toBeLessThan(TOL);
    expect(relativeError(await readF32(gpu, bufs[1], n), a.map((x) => x / 6))).toBeLessThan(TOL);

    const [R, V] = [5, 333];
    const logits = randomValues(rand, R * V);
    logits[2 * V + 7] = 9;
    logits[2 * V + 300] = 9; // a tie: the lower id wins
    const ids = emptyBuffer(gpu, R);
    await run(gpu, (enc) => argmax(gpu, enc, { logits: f32Buffer(gpu, logits), ids, numRows: R, width: V }));
    expect(Array.from(await readU32(gpu, ids, R))).toEqual(argmaxRef(logits, V));

    // vocabulary-sized rows, scanned in slices of 4,096 logits (16 per thread): ties inside one thread's loads,
    // across threads, across slices, and the tail of the last slice
    const W = 9003;
    const wide = randomValues(rand, 2 * W);
    for (const i of [300, 300 + 256, 300 + 3840, 300 + 4096, 8999]) wide[i] = 7;
    for (const i of [W + 4100, W + 8200, W + 9002]) wide[i] = 8;
    const wideIds = emptyBuffer(gpu, 2);
    await run(gpu, (enc) => argmax(gpu, enc, { logits: f32Buffer(gpu, wide), ids: wideIds, numRows: 2, width: W }));
    expect(Array.from(await readU32(gpu, wideIds, 2))).toEqual([300, 4100]);
    expect(argmaxRef(wide, W)).toEqual([300, 4100]);
  });
});
