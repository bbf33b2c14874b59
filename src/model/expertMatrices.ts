// Tensors read from the checkpoint and widened to f32 on the CPU: for the reference model and the
// weight analyses. Routed experts come out per expert whatever their layout on disk.

import type { TensorEntry } from '../checkpoint/checkpoint.ts';
import type { ComputeDtype } from '../checkpoint/dtypes.ts';
import { readTensorBytes } from '../checkpoint/safetensors.ts';
import { decodeWeights } from '../checkpoint/dtypeCodec.ts';
import type { MoeMlp } from './spec.ts';
import type { MoeWeights, SwiGluWeights } from './weights.ts';

export interface SwiGluMatrices {
  gate: Float32Array; // [I, H]
  up: Float32Array; // [I, H]
  down: Float32Array; // [H, I]
}

export async function tensorF32(t: TensorEntry): Promise<Float32Array> {
  return decodeWeights(await readTensorBytes(t.file, t), t.dtype as ComputeDtype);
}

export async function swigluMatrices(w: SwiGluWeights): Promise<SwiGluMatrices> {
  return { gate: await tensorF32(w.gate), up: await tensorF32(w.up), down: await tensorF32(w.down) };
}

/** Every routed expert's matrices, from per-expert tensors or fused [E, …] tensors in either orientation. */
export async function expertMatrices(mlp: MoeWeights, m: MoeMlp, H: number): Promise<SwiGluMatrices[]> {
  const x = mlp.experts;
  if (x.layout === 'per-expert') return Promise.all(x.experts.map(swigluMatrices));
  const I = m.expertIntermediateSize;
  const gu = await tensorF32(x.gateUp);
  const dn = await tensorF32(x.down);
  return Array.from({ length: m.numExperts }, (_, e) => {
    const gate = new Float32Array(I * H);
    const up = new Float32Array(I * H);
    const down = new Float32Array(H * I);
    const at = (row: number, c: number) => (x.gateUpOrientation === 'out-in' ? e * 2 * I * H + row * H + c : e * 2 * I * H + c * 2 * I + row);
    for (let r = 0; r < I; r++) {
      for (let c = 0; c < H; c++) {
        gate[r * H + c] = gu[at(r, c)]!;
        up[r * H + c] = gu[at(r + I, c)]!;
      }
    }
    for (let h = 0; h < H; h++) for (let i = 0; i < I; i++) down[h * I + i] = dn[x.downOrientation === 'out-in' ? e * H * I + h * I + i : e * H * I + i * H + h]!;
    return { gate, up, down };
  });
}
