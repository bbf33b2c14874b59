// files → checkpoint → spec → weights → card: everything loading does before the GPU is touched.

import type { ByteSource } from '../checkpoint/byteSource.ts';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.ts';
import { specFromConfig } from './architectures.ts';
import { modelCard, type ModelCard } from './card.ts';
import type { ModelSpec } from './spec.ts';
import { resolveWeights, type ModelWeights } from './weights.ts';

export interface OpenedModel {
  checkpoint: Checkpoint;
  spec: ModelSpec;
  weights: ModelWeights;
  card: ModelCard;
}

export async function openModel(sources: readonly ByteSource[]): Promise<OpenedModel> {
  const checkpoint = await openCheckpoint(sources);
  const spec = specFromConfig(checkpoint.config);
  const weights = resolveWeights(spec, checkpoint.tensors);
  return { checkpoint, spec, weights, card: modelCard(spec, weights, checkpoint) };
}
