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
  // four loads in flight per thread (a vocabulary row is one workgroup's work), taken in index order so
  // that the first of equal values wins
  for (; i + 3u * WORKGROUP_SIZE < V; i += 4u * WORKGROUP_SIZE) {
    let x0 = logits[row + i];
    let x1 = logits[row + i + WORKGROUP_SIZE];
    let x2 = logits[row + i + 2u * WORKGROUP_SIZE];
    let x3 = logits[row + i + 3u * WORKGROUP_SIZE];
    if (x0 > v) { v = x0; idx = i; }
    if (x1 > v) { v = x1; idx = i + WORKGROUP_SIZE; }
    if (x2 > v) { v = x2; idx = i + 2u * WORKGROUP_SIZE; }
    if (x3 > v) { v = x3; idx = i + 3u * WORKGROUP_SIZE; }
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
