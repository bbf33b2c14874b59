// The expert FFN (gate/up + SwiGLU, then down + weighted combine) against the loop in transformers'
// sparse MoE blocks, for both packed orientations, every dtype, and ids chosen on the GPU side.
import { describe, expect, it } from 'vitest';
import type { ComputeDtype } from '../../src/checkpoint/dtypes.ts';
import { chooseFusable, downParts, expertFfn, expertFfnGrouped, expertHiddenFloats, routeFusable, sharedFusable, type ExpertBank } from '../../src/kernels/experts.ts';
import { storageBuffer } from '../../src/gpu/buffers.ts';
import { linear } from '../../src/kernels/layers.ts';
import { foldRouter } from '../../src/kernels/routerFold.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { expertFfnRef, linearRef, normRef } from '../../src/reference/layers.ts';
import { softmaxTopKReference } from '../../src/reference/softmaxTopK.ts';
import { KERNEL_VARIANTS, variantGpu } from '../helpers/gpu.ts';
import { emptyBuffer, f32Buffer, randomValues, readF32, readU32, relativeError, run, u32Buffer, weight } from '../helpers/gpuData.ts';
import { randomInt, seededRandom } from '../helpers/random.ts';

/** Pack per-expert [I,H]/[I,H]/[H,I] matrices as [E,2I,H] + [E,H,I], or transposed [E,H,2I] + [E,I,H]. */
function pack(experts: { gate: Float32Array; up: Float32Array; down: Float32Array }[], H: number, I: number, transposed: boolean) {
  const E = experts.length;
  const gateUp = new Float32Array(E * 2 * I * H);
  const down = new Float32Array(E * H * I);
  experts.forEach((x, e) => {
    for (let r = 0; r < 2 * I; r++) {
      for (let c = 0; c < H; c++) {
        const v = r < I ? x.gate[r * H + c]! : x.up[(r - I) * H + c]!;
        gateUp[transposed ? e * 2 * I * H + c * 2 * I + r : e * 2 * I * H + r * H + c] = v;
      }
    }
    for (let h = 0; h < H; h++) for (let i = 0; i < I; i++) down[transposed ? e * H * I + i * H + h : e * H * I + h * I + i] = x.down[h * I + i]!;
  });
  return { gateUp, down };
}

type ExpertValues = { gate: Float32Array; up: Float32Array; down: Float32Array };

/** One expert's random SwiGLU weights: gate and up [width, H], down [H, width]. */
function randomExpert(rand: () => number, H: number, width: number): ExpertValues {
  return { gate: randomValues(rand, width * H, 0.5), up: randomValues(rand, width * H, 0.5), down: randomValues(rand, H * width, 0.5) };
}

/** Experts uploaded row-wise as a bank in `dtype`, with the values as stored (per expert) for the reference. */
function storedBank(gpu: GpuContext, experts: ExpertValues[], H: number, width: number, dtype: ComputeDtype) {
  const packed = pack(experts, H, width, false);
  const gateUp = weight(gpu, packed.gateUp, dtype);
  const down = weight(gpu, packed.down, dtype);
  const bank: ExpertBank = { gateUp: gateUp.ref, down: down.ref, gateUpTransposed: false, downTransposed: false, numExperts: experts.length, width };
  const asStored = experts.map((_, e) => ({
    gate: gateUp.values.slice(e * 2 * width * H, e * 2 * width * H + width * H),
    up: gateUp.values.slice(e * 2 * width * H + width * H, (e + 1) * 2 * width * H),
    down: down.values.slice(e * H * width, (e + 1) * H * width),
  }));
  return { bank, asStored };
}

for (const variant of KERNEL_VARIANTS) describe(`expert FFN kernels vs the reference MoE loop (${variant} kernels)`, () => {
  for (const grouped of [false, true]) it(`${grouped ? 'grouped (prefill)' : 'per pair (decode)'}: random shapes, both orientations, every dtype, accumulate, sigmoid of the weights`, async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(grouped ? 12 : 11);
    // aligned: rows a multiple of 8 values (the decode *_rows kernels stream them 16 bytes per load);
    // 'h': only H aligned (gate/up streamed, down not); 'long': aligned rows long enough for the decode
    // kernels' several-words-per-lane loops and their remainders
    // 'experts': more experts than the grouping's scan has threads (each sums several experts' counts);
    // 'pairs': two experts, ~50–100 pairs each (a 64-pair tile part filled with 33–63), rows long enough
    // that the 32-pair tiles split over the inputs (so does 'long')
    const cases: [ComputeDtype, boolean, boolean | 'h' | 'long' | 'experts' | 'pairs'][] = [
      ['BF16', false, false], ['F16', true, false], ['F32', false, false], ['BF16', true, true],
      ['BF16', false, true], ['F16', false, true], ['F32', false, true], ['BF16', false, 'h'], ['BF16', false, 'long'],
      ['F32', false, 'experts'], ['F16', true, 'pairs'],
    ];
    for (const [ci, [dtype, transposed, aligned]] of cases.entries()) {
      // every other case combines with sigmoid(weights), as a shared expert's gate does
      const sigmoidWeights = ci % 2 === 1;
      // few experts, many tokens, so that an expert's pairs span several tiles
      const many = grouped && (aligned === 'h' || aligned === 'pairs');
      const [E, T] = many ? [2, aligned === 'h' ? 140 : 100] : aligned === 'experts' ? [150, grouped ? 30 : 5] : [randomInt(rand, 1, 16), randomInt(rand, 1, grouped ? 40 : 9)];
      const long = aligned === 'long';
      const H = long || aligned === 'pairs' ? 8 * randomInt(rand, 66, 90) : aligned ? 8 * randomInt(rand, 1, 9) : randomInt(rand, 4, 70);
      const I = long ? 8 * randomInt(rand, 130, 170) : aligned === true ? 8 * randomInt(rand, 1, 10) : 8 * randomInt(rand, 1, 10) + randomInt(rand, 1, 7);
      const k = randomInt(rand, 1, Math.min(E, 8));
      // values a bf16 round trip keeps exactly, so the reference sees the stored weights
      const experts = Array.from({ length: E }, () => ({ gate: randomValues(rand, I * H, 0.5), up: randomValues(rand, I * H, 0.5), down: randomValues(rand, H * I, 0.5) }));
      const packed = pack(experts, H, I, transposed);
      const gateUp = weight(gpu, packed.gateUp, dtype);
      const down = weight(gpu, packed.down, dtype);
      const decoded = pack(experts, H, I, transposed); // same layout, values as stored:
      decoded.gateUp.set(gateUp.values);
      decoded.down.set(down.values);
      const asStored = experts.map((_, e) => {
        const g = new Float32Array(I * H), u = new Float32Array(I * H), dn = new Float32Array(H * I);
        for (let r = 0; r < I; r++) for (let c = 0; c < H; c++) {
          const at = (row: number) => (transposed ? e * 2 * I * H + c * 2 * I + row : e * 2 * I * H + row * H + c);
          g[r * H + c] = decoded.gateUp[at(r)]!;
          u[r * H + c] = decoded.gateUp[at(r + I)]!;
        }
        for (let h = 0; h < H; h++) for (let i = 0; i < I; i++) dn[h * I + i] = decoded.down[transposed ? e * H * I + i * H + h : e * H * I + h * I + i]!;
        return { gate: g, up: u, down: dn };
      });
      const x = randomValues(rand, T * H);
      const ids = Array.from({ length: T }, () => {
        const pool = Array.from({ length: E }, (_, e) => e).sort(() => rand() - 0.5);
        return pool.slice(0, k);
      }).flat();
      const weights = Float32Array.from({ length: T * k }, () => rand());
      const initial = randomValues(rand, T * H);
      const out = f32Buffer(gpu, initial);
      const bank: ExpertBank = { gateUp: gateUp.ref, down: down.ref, gateUpTransposed: transposed, downTransposed: transposed, numExperts: E, width: I };
      const common = { bank, x: f32Buffer(gpu, x), expertIds: u32Buffer(gpu, ids), weights: f32Buffer(gpu, weights), out, numTokens: T, topK: k, hiddenSize: H, accumulate: true, sigmoidWeights };
      await run(gpu, (enc) =>
        grouped
          ? expertFfnGrouped(gpu, enc, { ...common, alloc: (bytes, label) => storageBuffer(gpu.device, bytes, label) })
          : expertFfn(gpu, enc, { ...common, hidden: emptyBuffer(gpu, T * k * I) }),
      );
      const combine = sigmoidWeights ? weights.map((w) => 1 / (1 + Math.exp(-w))) : weights;
      const want = expertFfnRef(x, ids, combine, k, H, asStored).map((v, i) => v + initial[i]!);
      expect(relativeError(await readF32(gpu, out, T * H), want), `${dtype} transposed=${transposed} E=${E} k=${k} H=${H} I=${I} T=${T} sigmoid=${sigmoidWeights}`).toBeLessThan(1e-5);
    }
  });
});

// Qwen2-MoE / DeepSeek decode: the shared expert inside the routed experts' two dispatches
for (const variant of KERNEL_VARIANTS) describe(`shared expert fused into the decode expert kernels (${variant} kernels)`, () => {
  it('routed experts + a shared expert of another width, gated by sigmoid or not, against the reference loop twice', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(21);
    const cases: [ComputeDtype, boolean, number, number][] = [
      // dtype, sigmoid gate, tokens, shared width in units of 8
      ['BF16', true, 1, 4 * 16], ['F32', false, 3, 5], ['F16', true, 2, 170], ['BF16', false, 1, 1],
    ];
    for (const [dtype, sigmoid, T, sharedUnits] of cases) {
      const E = randomInt(rand, 2, 12);
      const k = randomInt(rand, 1, Math.min(E, 8));
      const H = 8 * randomInt(rand, 1, 70);
      const I = 8 * randomInt(rand, 1, 20);
      const Is = 8 * sharedUnits;
      const r = storedBank(gpu, Array.from({ length: E }, () => randomExpert(rand, H, I)), H, I, dtype);
      const s = storedBank(gpu, [randomExpert(rand, H, Is)], H, Is, dtype);
      expect(sharedFusable(r.bank, s.bank, H)).toBe(true);
      const x = randomValues(rand, T * H);
      const ids = Array.from({ length: T }, () => Array.from({ length: E }, (_, e) => e).sort(() => rand() - 0.5).slice(0, k)).flat();
      const weights = Float32Array.from({ length: T * k }, () => rand());
      const gate = randomValues(rand, T, 2);
      const out = emptyBuffer(gpu, T * H);
      await run(gpu, (enc) =>
        expertFfn(gpu, enc, {
          bank: r.bank, x: f32Buffer(gpu, x), expertIds: u32Buffer(gpu, ids), weights: f32Buffer(gpu, weights), out, numTokens: T, topK: k, hiddenSize: H, accumulate: false,
          hidden: emptyBuffer(gpu, expertHiddenFloats(r.bank, T, k, s.bank)),
          shared: { bank: s.bank, weights: sigmoid ? f32Buffer(gpu, gate) : f32Buffer(gpu, new Float32Array(T).fill(1)), sigmoid },
        }),
      );
      const sharedWeights = sigmoid ? gate.map((g) => 1 / (1 + Math.exp(-g))) : new Float32Array(T).fill(1);
      const routedOut = expertFfnRef(x, ids, weights, k, H, r.asStored);
      const sharedOut = expertFfnRef(x, new Array(T).fill(0), sharedWeights, 1, H, s.asStored);
      const want = routedOut.map((v, i) => v + sharedOut[i]!);
      expect(relativeError(await readF32(gpu, out, T * H), want), `${dtype} sigmoid=${sigmoid} E=${E} k=${k} H=${H} I=${I} Is=${Is} T=${T}`).toBeLessThan(1e-5);
    }
  });

  it('the down rows in parts (each chosen expert, each slice of I of the shared expert) where k + Is / I divides the row block', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(22);
    // dtype, k, I in units of 8, Is / I, tokens: Qwen1.5-MoE's 4 + 4 parts, DeepSeek-V2-Lite's 6 + 2, 2 + 6, 1 + 1
    const cases: [ComputeDtype, number, number, number, number][] = [['BF16', 4, 22, 4, 1], ['F32', 6, 5, 2, 2], ['F16', 2, 9, 6, 1], ['BF16', 1, 3, 1, 3]];
    for (const [dtype, k, units, m, T] of cases) {
      const [E, H, I] = [k + 3, 8 * randomInt(rand, 4, 40), 8 * units];
      const Is = m * I;
      expect(downParts(k, I, Is)).toBe(k + m);
      const r = storedBank(gpu, Array.from({ length: E }, () => randomExpert(rand, H, I)), H, I, dtype);
      const s = storedBank(gpu, [randomExpert(rand, H, Is)], H, Is, dtype);
      const x = randomValues(rand, T * H);
      const ids = Array.from({ length: T }, () => Array.from({ length: E }, (_, e) => e).sort(() => rand() - 0.5).slice(0, k)).flat();
      const weights = Float32Array.from({ length: T * k }, () => rand());
      const gate = randomValues(rand, T, 2);
      const out = f32Buffer(gpu, new Float32Array(T * H).fill(0.5)); // accumulated into
      await run(gpu, (enc) =>
        expertFfn(gpu, enc, {
          bank: r.bank, x: f32Buffer(gpu, x), expertIds: u32Buffer(gpu, ids), weights: f32Buffer(gpu, weights), out, numTokens: T, topK: k, hiddenSize: H, accumulate: true,
          hidden: emptyBuffer(gpu, expertHiddenFloats(r.bank, T, k, s.bank)),
          shared: { bank: s.bank, weights: f32Buffer(gpu, gate), sigmoid: true },
        }),
      );
      const routedOut = expertFfnRef(x, ids, weights, k, H, r.asStored);
      const sharedOut = expertFfnRef(x, new Array(T).fill(0), gate.map((g) => 1 / (1 + Math.exp(-g))), 1, H, s.asStored);
      const want = routedOut.map((v, i) => 0.5 + v + sharedOut[i]!);
      expect(relativeError(await readF32(gpu, out, T * H), want), `${dtype} k=${k} H=${H} I=${I} Is=${Is} T=${T}`).toBeLessThan(1e-5);
    }
  });
});

// Decode with softmax routing: the gate/up dispatch runs the router's softmax and top-k itself
for (const variant of KERNEL_VARIANTS) describe(`decode experts choosing from the router logits (${variant} kernels)`, () => {
  it('expert ids (ranked by logit), combine weights and output match softmax + top-k and the reference loop, with ties, renormalised or not, with a shared expert', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(31);
    const cases: [ComputeDtype, number, number, boolean, boolean][] = [
      // dtype, experts, tokens, renormalise, shared expert
      ['BF16', 64, 1, false, false], ['F32', 7, 3, true, false], ['F16', 256, 1, true, true], ['BF16', 40, 2, false, true], ['BF16', 1, 1, true, false],
    ];
    for (const [dtype, E, T, renormalize, withShared] of cases) {
      const k = Math.min(E, randomInt(rand, 1, 8));
      const H = 8 * randomInt(rand, 1, 40);
      const I = 8 * randomInt(rand, 1, 12);
      const r = storedBank(gpu, Array.from({ length: E }, () => randomExpert(rand, H, I)), H, I, dtype);
      const s = withShared ? storedBank(gpu, [randomExpert(rand, H, 16)], H, 16, dtype) : null;
      expect(chooseFusable(r.bank, H, k)).toBe(true);
      // logits with ties: each token repeats some of its values, so the lower expert id must win
      const logits = randomValues(rand, T * E, 3);
      for (let t = 0; t < T; t++) for (let e = 1; e < E; e += 3) logits[t * E + e] = logits[t * E + e - 1]!;
      const want = softmaxTopKReference(logits, { numTokens: T, numExperts: E, topK: k, renormalize });
      const x = randomValues(rand, T * H);
      const ids = u32Buffer(gpu, new Uint32Array(T * k).fill(9999));
      const weights = emptyBuffer(gpu, T * k);
      const out = emptyBuffer(gpu, T * H);
      await run(gpu, (enc) =>
        expertFfn(gpu, enc, {
          bank: r.bank, x: f32Buffer(gpu, x), expertIds: ids, weights, out, numTokens: T, topK: k, hiddenSize: H, accumulate: false,
          hidden: emptyBuffer(gpu, expertHiddenFloats(r.bank, T, k, s?.bank ?? null)),
          choose: { logits: f32Buffer(gpu, logits), numExperts: E, renormalize },
          ...(s ? { shared: { bank: s.bank, weights: f32Buffer(gpu, new Float32Array(T).fill(1)), sigmoid: false } } : {}),
        }),
      );
      const label = `${dtype} E=${E} k=${k} T=${T} renormalize=${renormalize} shared=${withShared}`;
      expect([...(await readU32(gpu, ids, T * k))], label).toEqual([...want.expertIds]);
      expect(relativeError(await readF32(gpu, weights, T * k), want.weights), label).toBeLessThan(1e-6);
      const routedOut = expertFfnRef(x, [...want.expertIds], want.weights, k, H, r.asStored);
      const sharedOut = s ? expertFfnRef(x, new Array(T).fill(0), new Float32Array(T).fill(1), 1, H, s.asStored) : null;
      expect(relativeError(await readF32(gpu, out, T * H), routedOut.map((v, i) => v + (sharedOut?.[i] ?? 0))), label).toBeLessThan(1e-5);
    }
  });

  it('with the router and its norm on read: logits, expert ids, weights and output match RMSNorm → router → softmax + top-k → the reference loop', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(37);
    // dtype, experts (one expert per thread group of 256 / E rounded up to a power of two), hidden size,
    // renormalise: 1 (256 threads), 7 (32 each), 32 (8), 64 (4) and 256 (one each) experts; H not a multiple of
    // the threads' 16-byte words
    // and the largest hidden size routeFusable admits on this device: the normed row fills workgroup
    // memory beside the kernel's own arrays, and the pipeline must still compile
    const smallWeight = weight(gpu, new Float32Array(8), 'BF16').ref;
    const oneExpert: ExpertBank = { gateUp: smallWeight, down: smallWeight, gateUpTransposed: false, downTransposed: false, numExperts: 1, width: 8 };
    let widest = 8 * Math.floor(gpu.device.limits.maxComputeWorkgroupStorageSize / 32);
    while (!routeFusable(gpu, oneExpert, { router: smallWeight, normWeight: smallWeight, eps: 0 }, { numTokens: 1, topK: 1, hiddenSize: widest })) widest -= 8;
    const cases: [ComputeDtype, number, number, boolean][] = [
      ['BF16', 32, 512, true], ['F32', 7, 100, false], ['F16', 256, 72, true], ['BF16', 64, 264, false], ['BF16', 1, 8, true], ['BF16', 1, widest, true],
    ];
    for (const [dtype, E, H, renormalize] of cases) {
      const k = Math.min(E, randomInt(rand, 1, 8));
      const I = 8 * randomInt(rand, 1, 12);
      const r = storedBank(gpu, Array.from({ length: E }, () => randomExpert(rand, H, I)), H, I, dtype);
      const router = weight(gpu, randomValues(rand, E * H, 0.5), dtype);
      const g = weight(gpu, randomValues(rand, H, 1), dtype);
      const eps = 1e-5;
      const route = { router: router.ref, normWeight: g.ref, eps };
      const shape = { numTokens: 1, topK: k, hiddenSize: H };
      expect(routeFusable(gpu, r.bank, route, shape), `${dtype} E=${E} H=${H}`).toBe(true);
      const x = randomValues(rand, H, 2);
      const h = normRef(x, H, g.values, null, eps, false);
      const wantLogits = linearRef(h, router.values, null, H);
      const want = softmaxTopKReference(wantLogits, { numTokens: 1, numExperts: E, topK: k, renormalize });
      const ids = u32Buffer(gpu, new Uint32Array(k).fill(9999));
      const weights = emptyBuffer(gpu, k);
      const logits = emptyBuffer(gpu, E);
      const out = emptyBuffer(gpu, H);
      await run(gpu, (enc) =>
        expertFfn(gpu, enc, {
          bank: r.bank, x: f32Buffer(gpu, x), expertIds: ids, weights, out, numTokens: 1, topK: k, hiddenSize: H, accumulate: false,
          hidden: emptyBuffer(gpu, expertHiddenFloats(r.bank, 1, k, null)),
          choose: { logits, numExperts: E, renormalize, route },
        }),
      );
      const label = `${dtype} E=${E} k=${k} H=${H} I=${I} renormalize=${renormalize}`;
      expect(relativeError(await readF32(gpu, logits, E), wantLogits), label).toBeLessThan(1e-5);
      expect([...(await readU32(gpu, ids, k))], label).toEqual([...want.expertIds]);
      expect(relativeError(await readF32(gpu, weights, k), want.weights), label).toBeLessThan(1e-5);
      const wantOut = expertFfnRef(h, [...want.expertIds], want.weights, k, H, r.asStored);
      expect(relativeError(await readF32(gpu, out, H), wantOut), label).toBeLessThan(1e-5);
    }
  });

  it('with the router folded through o_proj: the stream, logits, expert ids, weights and output match o_proj + residual → RMSNorm → router → softmax + top-k → the reference loop', async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(41);
    // dtype, experts (7: the raw logits' buffer rounded up to 8), hidden size H, o_proj's inputs K (≠ H),
    // residual multiplier, a pending branch (the previous layer's MoE output), renormalise
    const cases: [ComputeDtype, number, number, number, number, boolean, boolean][] = [
      ['BF16', 32, 256, 128, 0.22, true, true], ['F32', 7, 64, 96, 1, false, false], ['F16', 64, 128, 192, 1, true, false], ['BF16', 8, 1032, 512, 0.5, true, true],
    ];
    for (const [dtype, E, H, K, rs, withPending, renormalize] of cases) {
      const k = Math.min(E, randomInt(rand, 1, 8));
      const I = 8 * randomInt(rand, 1, 12);
      const r = storedBank(gpu, Array.from({ length: E }, () => randomExpert(rand, H, I)), H, I, dtype);
      const router = weight(gpu, randomValues(rand, E * H, 0.5), dtype);
      const g = weight(gpu, randomValues(rand, H, 1), dtype);
      const oProj = weight(gpu, randomValues(rand, H * K, 0.3), dtype);
      const eps = 1e-5;
      const stream = randomValues(rand, H, 2);
      const pending = withPending ? randomValues(rand, H, 1) : null;
      const attended = randomValues(rand, K, 1);
      // the reference: x' = x + rs · (W_o · attn + pending); h = RMSNorm(x') · g; logits = W_router · h
      const branch = linearRef(attended, oProj.values, null, K);
      const wantStream = stream.map((v, i) => v + rs * (branch[i]! + (pending?.[i] ?? 0)));
      const h = normRef(wantStream, H, g.values, null, eps, false);
      const wantLogits = linearRef(h, router.values, null, H);
      const want = softmaxTopKReference(wantLogits, { numTokens: 1, numExperts: E, topK: k, renormalize });

      const fold = await foldRouter(gpu, { router: router.ref, normWeight: g.ref, oProj: oProj.ref, numExperts: E, hidden: H, inputs: K }, 'fold');
      const [from, next] = [f32Buffer(gpu, stream), emptyBuffer(gpu, H)];
      const rawLogits = emptyBuffer(gpu, Math.ceil(E / 4) * 4);
      const ids = u32Buffer(gpu, new Uint32Array(k).fill(9999));
      const weights = emptyBuffer(gpu, k);
      const logits = emptyBuffer(gpu, E);
      const out = emptyBuffer(gpu, H);
      const route = { rawLogits, normWeight: g.ref, eps };
      expect(routeFusable(gpu, r.bank, route, { numTokens: 1, topK: k, hiddenSize: H })).toBe(true);
      await run(gpu, async (enc) => {
        await linear(gpu, enc, {
          x: f32Buffer(gpu, attended), weight: oProj.ref, bias: null, y: next, numTokens: 1, outputs: H, inputs: K,
          residual: { scale: rs, pending: pending ? f32Buffer(gpu, pending) : undefined, router: { fold, numExperts: E, logits: rawLogits, from } },
        });
        await expertFfn(gpu, enc, {
          bank: r.bank, x: next, expertIds: ids, weights, out, numTokens: 1, topK: k, hiddenSize: H, accumulate: false,
          hidden: emptyBuffer(gpu, expertHiddenFloats(r.bank, 1, k, null)),
          choose: { logits, numExperts: E, renormalize, route },
        });
      });
      const label = `${dtype} E=${E} k=${k} H=${H} K=${K} rs=${rs} pending=${withPending} renormalize=${renormalize}`;
      expect(relativeError(await readF32(gpu, next, H), wantStream), label).toBeLessThan(1e-5);
      expect(relativeError(await readF32(gpu, from, H), stream), `${label}: the stream before, unchanged`).toBe(0);
      expect(relativeError(await readF32(gpu, logits, E), wantLogits), label).toBeLessThan(1e-5);
      expect([...(await readU32(gpu, ids, k))], label).toEqual([...want.expertIds]);
      expect(relativeError(await readF32(gpu, weights, k), want.weights), label).toBeLessThan(1e-5);
      const wantOut = expertFfnRef(h, [...want.expertIds], want.weights, k, H, r.asStored);
      expect(relativeError(await readF32(gpu, out, H), wantOut), label).toBeLessThan(1e-5);
    }
  });

  it('runs the router on read only where its weights are small, of the bank\'s dtype, and without a shared expert', async () => {
    const gpu = await variantGpu(variant);
    // routeFusable looks at shapes and dtypes only: one small buffer stands for every weight
    const w = (dtype: ComputeDtype) => weight(gpu, new Float32Array(8), dtype).ref;
    const bank = (E: number, I: number): ExpertBank => ({ gateUp: w('BF16'), down: w('BF16'), gateUpTransposed: false, downTransposed: false, numExperts: E, width: I });
    const route = (dtype: ComputeDtype = 'BF16') => ({ router: w(dtype), normWeight: w('BF16'), eps: 1e-6 });
    // the demo model: 16 experts of 256 inputs, top-2, I 192 → 48 workgroups × 8 KB = 384 KB
    expect(routeFusable(gpu, bank(16, 192), route(), { numTokens: 1, topK: 2, hiddenSize: 256 })).toBe(true);
    // granite-3.0-1b-a400m: 32 experts of 1,024 inputs, top-8, I 512 → 512 workgroups × 64 KB = 32 MiB
    expect(routeFusable(gpu, bank(32, 512), route(), { numTokens: 1, topK: 8, hiddenSize: 1024 })).toBe(false);
    expect(routeFusable(gpu, bank(16, 192), route(), { numTokens: 2, topK: 2, hiddenSize: 256 })).toBe(false);
    expect(routeFusable(gpu, bank(16, 192), route('F32'), { numTokens: 1, topK: 2, hiddenSize: 256 })).toBe(false);
    await expect(run(gpu, (enc) =>
      expertFfn(gpu, enc, {
        bank: bank(8, 8), x: emptyBuffer(gpu, 8), expertIds: emptyBuffer(gpu, 2), weights: emptyBuffer(gpu, 2), out: emptyBuffer(gpu, 8), numTokens: 1, topK: 2, hiddenSize: 8,
        accumulate: false, hidden: emptyBuffer(gpu, 24), choose: { logits: emptyBuffer(gpu, 8), numExperts: 8, renormalize: false, route: route() },
        shared: { bank: bank(1, 8), weights: emptyBuffer(gpu, 1), sigmoid: false },
      }),
    )).rejects.toThrow(/cannot run this router inside gate\/up/);
  });

  it('refuses to choose inside gate/up where the kernel cannot (transposed bank, over 256 experts)', async () => {
    const gpu = await variantGpu(variant);
    const bank = (E: number, transposed: boolean): ExpertBank => {
      const w = weight(gpu, new Float32Array(16), 'F32').ref;
      return { gateUp: w, down: w, gateUpTransposed: transposed, downTransposed: transposed, numExperts: E, width: 8 };
    };
    expect(chooseFusable(bank(8, true), 8, 2)).toBe(false);
    expect(chooseFusable(bank(257, false), 8, 2)).toBe(false);
    expect(chooseFusable(bank(8, false), 8, 9)).toBe(false);
    const b = bank(8, true);
    await expect(run(gpu, (enc) =>
      expertFfn(gpu, enc, {
        bank: b, x: emptyBuffer(gpu, 8), expertIds: emptyBuffer(gpu, 2), weights: emptyBuffer(gpu, 2), out: emptyBuffer(gpu, 8), numTokens: 1, topK: 2, hiddenSize: 8,
        accumulate: false, hidden: emptyBuffer(gpu, 16), choose: { logits: emptyBuffer(gpu, 8), numExperts: 8, renormalize: false },
      }),
    )).rejects.toThrow(/cannot choose 2 of 8 experts/);
  });
});
