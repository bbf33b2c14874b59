// Writes the random-weight checkpoint the analysis fixtures are computed on (the unit test rebuilds the
// same bytes in memory from the same seed). Usage: npx tsx tools/write_analysis_checkpoint.ts DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCheckpoint, SYNTHETIC } from '../test/helpers/syntheticCheckpoints.ts';

const ANALYSIS_SEED = 21; // test/unit/analysis.test.ts rebuilds the checkpoint from the same seed
const dir = process.argv[2];
if (!dir) throw new Error('usage: tools/write_analysis_checkpoint.ts DIR');
mkdirSync(dir, { recursive: true });
for (const f of buildCheckpoint(SYNTHETIC['MixtralForCausalLM']!, { randomSeed: ANALYSIS_SEED })) {
  writeFileSync(join(dir, f.name), await f.read(0, f.size));
}
console.log(`wrote ${dir}`);
