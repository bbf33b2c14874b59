// Co-activation (../shared/ANALYSES.md §10, OLMoE's routing analysis): P(b | a) = how often b is chosen
// for the same token as a, over the tokens that chose a. Row a, column b of an E×E matrix; the diagonal
// is 1 for every expert chosen at least once.

export function coactivation(experts: readonly number[][], numExperts: number): Float64Array {
  const E = numExperts;
  const together = new Float64Array(E * E);
  const chosen = new Float64Array(E);
  for (const row of experts) {
    const set = [...new Set(row)];
    for (const a of set) {
      chosen[a] = chosen[a]! + 1;
      for (const b of set) together[a * E + b] = together[a * E + b]! + 1;
    }
  }
  for (let a = 0; a < E; a++) for (let b = 0; b < E; b++) together[a * E + b] = chosen[a] ? together[a * E + b]! / chosen[a]! : 0;
  return together;
}
