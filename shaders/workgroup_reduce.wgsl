// Included by shaders that reduce across a workgroup. The including shader defines
// `WORKGROUP_SIZE: u32` (a const or an override; a power of two) before the #include line. Call from uniform control flow.

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

fn workgroupSum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
  }
  workgroupBarrier();
  let total = partial[0];
  workgroupBarrier();
  return total;
}

fn workgroupMax(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { partial[lid] = max(partial[lid], partial[lid + stride]); }
  }
  workgroupBarrier();
  let total = partial[0];
  workgroupBarrier();
  return total;
}
