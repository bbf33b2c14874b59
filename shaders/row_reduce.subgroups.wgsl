// row_reduce.wgsl with subgroup operations: subgroups (≤ 32 invocations, consecutive local indices: see
// src/gpu/subgroups.ts) sum in registers, so a row adds LANES / subgroup size partials (one on NVIDIA)
// instead of LANES values.

enable subgroups;

const LANES: u32 = 32u;
const ROWS: u32 = 8u;

var<workgroup> rowPartials: array<f32, 256>; // one partial per subgroup, at its first lane

fn rowSum(lid: u32, value: f32) -> f32 {
  rowPartials[lid] = subgroupAdd(value);
  workgroupBarrier();
  let size = subgroupAdd(1u);
  let first = lid - lid % LANES;
  var total = 0.0;
  for (var l = first; l < first + LANES; l += size) { total += rowPartials[l]; }
  workgroupBarrier();
  return total;
}
