// What the subgroup kernel variants assume, checked once per device (src/gpu/subgroups.ts): one workgroup
// of 256 invocations writes, per invocation, its subgroup size, its id inside the subgroup, the subgroup's
// invocation count (subgroupAdd of 1) and the lowest local index in its subgroup.

enable subgroups;

@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>; // [256]

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) size: u32,
        @builtin(subgroup_invocation_id) id: u32) {
  out[lid] = vec4<u32>(size, id, subgroupAdd(1u), subgroupMin(lid));
}
