// Tests use the engine's own seeded generator for their data (it is not what they check).
export { randomInt, randomLogits, seededRandom } from '../../src/util/random.ts';
