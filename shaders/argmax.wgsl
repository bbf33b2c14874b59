// Greedy sampling: ids[r] = argmax over row r of logits (ties → the lower id, as torch.argmax).

struct Params {
  numRows: u32,
  width: u32,      // V
  rowOffset: u32,  // first row of logits to read
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;     // [R, V] f32
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;  // [R] u32

const WORKGROUP_SIZE: u32 = 64u;
var<workgroup> bestValue: array<f32, WORKGROUP_SIZE>;
var<workgroup> bestIndex: array<u32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  if (r >= params.numRows) { return; }
  var v = -0x1.fffffep+127f;
  var idx = 0xffffffffu;
  for (var i = lid; i < params.width; i += WORKGROUP_SIZE) {
    let x = logits[(r + params.rowOffset) * params.width + i];
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
