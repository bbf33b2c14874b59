// Included by argmax.wgsl and argmax_slices.wgsl: the best (value, id) pair of a workgroup's threads, where
// the best is the larger value and, of equal values, the lower id (as torch.argmax).

const WORKGROUP_SIZE: u32 = 256u;
var<workgroup> bestValue: array<f32, WORKGROUP_SIZE>;
var<workgroup> bestIndex: array<u32, WORKGROUP_SIZE>;

/** Thread lid's (v, idx) → the workgroup's best, in bestValue[0], bestIndex[0] once every thread returns. */
fn reduceBest(lid: u32, v: f32, idx: u32) {
  bestValue[lid] = v;
  bestIndex[lid] = idx;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let ov = bestValue[lid + stride];
      let oi = bestIndex[lid + stride];
      if (ov > bestValue[lid] || (ov == bestValue[lid] && oi < bestIndex[lid])) {
        bestValue[lid] = ov;
        bestIndex[lid] = oi;
      }
    }
  }
  workgroupBarrier();
}
