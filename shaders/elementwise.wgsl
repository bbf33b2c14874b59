// Small f32 element-wise steps, chosen by the OP override (residual adds live in norm.wgsl, the shared
// expert gate's sigmoid in the combine kernels):
//   OP 0  clamp:     a[i] = clamp(a[i], −scale, scale)  (OLMoE's clip_qkv)
//   OP 1  scale:     a[i] = a[i] · scale                (logit scaling)
// for i in offset … offset + count − 1.

struct Params {
  count: u32,   // elements
  scale: f32,
  offset: u32,  // first element
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;   // [count] f32

override OP: u32 = 0;
override WORKGROUP_SIZE: u32 = 64;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let j = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (j >= params.count) { return; }
  let i = params.offset + j;
  let v = a[i];
  switch OP {
    case 0u: { a[i] = clamp(v, -params.scale, params.scale); }
    default: { a[i] = v * params.scale; }
  }
}
