// Included by the linear-layer kernels (matvec, matvec_rows, matmul): their Params and where output row n
// of the weight goes. One weight can hold several projections stacked (q, k and v of an attention block,
// uploaded as one buffer so that one dispatch computes all three): rows before split1 go to y0, rows from
// split1 to y1, rows from split2 to y2, each at its own row stride and column offset. One projection:
// split1 = split2 = N, and y1, y2 are placeholders.
//   y_p[t, offset_p + n − first_p] = x[t, :] · W[n, :] (+ b[n])

struct Params {
  numTokens: u32,   // T
  numOutputs: u32,  // N, rows of W (all parts)
  inputs: u32,      // K
  hasBias: u32,
  split1: u32,      // first row of part 1
  split2: u32,      // first row of part 2
  stride0: u32,     // elements per row of y0, y1, y2
  stride1: u32,
  stride2: u32,
  offset0: u32,     // column of y0, y1, y2 for the part's first row
  offset1: u32,
  offset2: u32,
  // matvec_rows.wgsl only (one token): the block norm before this layer, and the residual add around it
  eps: f32,              // NORM: the norm's epsilon
  hasPending: u32,       // 1: a residual branch r not yet added to the stream (binding 8)
  residualScale: f32,    // r's multiplier
  writeNormed: u32,      // NORM: 1 = also write the normed row to y2 (two projections at most)
  accumulate: u32,       // 1: y0[n] += residualScale · (value + r[n]): a projection that is a residual branch
  // matmul.wgsl only (many tokens): the inputs split into chunks, one per workgroup z (see there)
  kChunk: u32,           // inputs per chunk (K when not split)
  splits: u32,           // S, chunks
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> y0: array<f32>;    // [T, stride0] f32
@group(0) @binding(5) var<storage, read_write> y1: array<f32>;    // [T, stride1] f32
@group(0) @binding(6) var<storage, read_write> y2: array<f32>;    // [T, stride2] f32

fn storeOutput(t: u32, n: u32, value: f32) {
  if (n < params.split1) {
    y0[t * params.stride0 + params.offset0 + n] = value;
  } else if (n < params.split2) {
    y1[t * params.stride1 + params.offset1 + n - params.split1] = value;
  } else {
    y2[t * params.stride2 + params.offset2 + n - params.split2] = value;
  }
}
