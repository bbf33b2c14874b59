// Included by the kernels that stream weight rows 16 bytes per load (matvec_rows, expert_gate_up_rows,
// expert_down_combine_rows): a workgroup of 256 invocations holds ROWS rows, LANES consecutive invocations
// per row. rowSum returns the sum of `value` over the invocation's row to every lane of that row.
// Call from uniform control flow. row_reduce.subgroups.wgsl is the same with subgroup operations.

const LANES: u32 = 32u;
const ROWS: u32 = 8u;

var<workgroup> rowPartials: array<f32, 256>; // LANES × ROWS

fn rowSum(lid: u32, value: f32) -> f32 {
  rowPartials[lid] = value;
  workgroupBarrier();
  let first = lid - lid % LANES;
  var total = 0.0;
  for (var l = first; l < first + LANES; l++) { total += rowPartials[l]; }
  workgroupBarrier();
  return total;
}
