// Included by the expert shaders: where element (row, column) of expert e sits in a packed expert bank.
// The including shader's Params has `hidden` (H), `width` (I) and `transposed` (0: rows are outputs, as
// [E, 2I, H] and [E, H, I]; 1: the transposes [E, H, 2I] and [E, I, H]).

/** gate|up bank: row r of 2I (gate rows 0..I−1, up rows I..2I−1), column c of H. */
fn gateUpIndex(e: u32, r: u32, c: u32) -> u32 {
  let I2 = 2u * params.width;
  let H = params.hidden;
  return select(e * I2 * H + r * H + c, e * I2 * H + c * I2 + r, params.transposed == 1u);
}

/** down bank: row h of H, column i of I. */
fn downIndex(e: u32, h: u32, i: u32) -> u32 {
  let H = params.hidden;
  let I = params.width;
  return select(e * H * I + h * I + i, e * H * I + i * H + h, params.transposed == 1u);
}
