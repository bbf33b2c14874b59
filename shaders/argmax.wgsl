// Greedy sampling: ids[r] = argmax over row r of logits (ties → the lower id, as torch.argmax).

struct Params {
  numRows: u32,
  width: u32,      // V
  rowOffset: u32,  // first row of logits to read
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // [R, V] f32
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;  // [R] u32

const WORKGROUP_SIZE: u32 = 256u;
const IN_FLIGHT: u32 = 16u; // loads per thread per round of the scan
var<workgroup> bestValue: array<f32, WORKGROUP_SIZE>;
var<workgroup> bestIndex: array<u32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= params.numRows) { return; }
  var v = -0x1.fffffep+127f;
  var idx = 0xffffffffu;
  let row = (r + params.rowOffset) * params.width;
  let V = params.width;
  var i = lid;
  // sixteen loads in flight per thread, taken in index order so that the first of equal values wins: a
  // vocabulary row is one workgroup's work, so the scan is a chain of waits on memory (H200, Qwen's 151,936
  // logits: 74 → 32 µs with four loads in flight → sixteen, profiled)
  for (; i + (IN_FLIGHT - 1u) * WORKGROUP_SIZE < V; i += IN_FLIGHT * WORKGROUP_SIZE) {
    var x: array<f32, IN_FLIGHT>;
    for (var u = 0u; u < IN_FLIGHT; u++) { x[u] = logits[row + i + u * WORKGROUP_SIZE]; }
    for (var u = 0u; u < IN_FLIGHT; u++) {
      if (x[u] > v) { v = x[u]; idx = i + u * WORKGROUP_SIZE; }
    }
  }
  for (; i < V; i += WORKGROUP_SIZE) {
    let x = logits[row + i];
    if (x > v) { v = x; idx = i; }
  }
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
  if (lid == 0u) { ids[r] = bestIndex[0]; }
}
