// workgroup_reduce.wgsl with subgroup operations (the shader library picks this file when the device's
// subgroups pass src/gpu/subgroups.ts): each subgroup sums in registers, then every invocation adds the
// subgroups' partials in the same order, so all get the same value. Two barriers instead of log2(size) + 2.
// Needs WORKGROUP_SIZE a multiple of the subgroup size (a power of two ≤ 32: any WORKGROUP_SIZE ≥ 32).

enable subgroups;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

fn workgroupSum(lid: u32, value: f32) -> f32 {
  partial[lid] = subgroupAdd(value);
  workgroupBarrier();
  let size = subgroupAdd(1u);
  var total = 0.0;
  for (var i = 0u; i < WORKGROUP_SIZE; i += size) { total += partial[i]; }
  workgroupBarrier();
  return total;
}

fn workgroupMax(lid: u32, value: f32) -> f32 {
  partial[lid] = subgroupMax(value);
  workgroupBarrier();
  let size = subgroupAdd(1u);
  var total = partial[0];
  for (var i = size; i < WORKGROUP_SIZE; i += size) { total = max(total, partial[i]); }
  workgroupBarrier();
  return total;
}
