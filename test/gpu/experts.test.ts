// The expert FFN (gate/up + SwiGLU, then down + weighted combine) against the loop in transformers'
// sparse MoE blocks, for both packed orientations, every dtype, and ids chosen on the GPU side.
import { describe, expect, it } from 'vitest';
import type { ComputeDtype } from '../../src/checkpoint/dtypes.ts';
import { expertFfn, expertFfnGrouped, type ExpertBank } from '../../src/kernels/experts.ts';
import { storageBuffer } from '../../src/gpu/buffers.ts';
import { expertFfnRef } from '../../src/reference/layers.ts';
import { KERNEL_VARIANTS, variantGpu } from '../helpers/gpu.ts';
import { emptyBuffer, f32Buffer, randomValues, readF32, relativeError, run, u32Buffer, weight } from '../helpers/gpuData.ts';
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

for (const variant of KERNEL_VARIANTS) describe(`expert FFN kernels vs the reference MoE loop (${variant} kernels)`, () => {
  for (const grouped of [false, true]) it(`${grouped ? 'grouped (prefill)' : 'per pair (decode)'}: random shapes, both orientations, every dtype, accumulate, sigmoid of the weights`, async () => {
    const gpu = await variantGpu(variant);
    const rand = seededRandom(grouped ? 12 : 11);
    // aligned: rows a multiple of 8 values (the decode *_rows kernels stream them 16 bytes per load);
    // 'h': only H aligned (gate/up streamed, down not); 'long': aligned rows long enough for the decode
    // kernels' several-words-per-lane loops and their remainders
    const cases: [ComputeDtype, boolean, boolean | 'h' | 'long'][] = [
      ['BF16', false, false], ['F16', true, false], ['F32', false, false], ['BF16', true, true],
      ['BF16', false, true], ['F16', false, true], ['F32', false, true], ['BF16', false, 'h'], ['BF16', false, 'long'],
    ];
    for (const [ci, [dtype, transposed, aligned]] of cases.entries()) {
      // every other case combines with sigmoid(weights), as a shared expert's gate does
      const sigmoidWeights = ci % 2 === 1;
      // the last case: few experts, many tokens, so that an expert's pairs span several 32-pair tiles
      const many = grouped && aligned === 'h';
      const [E, T] = many ? [2, 140] : [randomInt(rand, 1, 16), randomInt(rand, 1, grouped ? 40 : 9)];
      const long = aligned === 'long';
      const H = long ? 8 * randomInt(rand, 66, 90) : aligned ? 8 * randomInt(rand, 1, 9) : randomInt(rand, 4, 70);
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
