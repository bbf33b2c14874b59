// Lists the user types: layer and expert indices ("0-3, 7") and token ids ("5, 9, 1"). Empty parts (a
// trailing comma) are ignored; anything else that is not a non-negative integer makes the list invalid.

const parts = (text: string) => text.split(',').map((p) => p.trim()).filter(Boolean);

/** "0-3, 7" → [0, 1, 2, 3, 7]; null when a part is neither n nor n-m. */
export function parseIndexList(text: string): number[] | null {
  const out: number[] = [];
  for (const part of parts(text)) {
    const m = /^(\d+)\s*(?:-\s*(\d+))?$/.exec(part);
    if (!m) return null;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

/** "5, 9, 1" → [5, 9, 1]; null when empty or when a part is not a token id. */
export function parseTokenIds(text: string): number[] | null {
  const ids = parts(text);
  return ids.length > 0 && ids.every((p) => /^\d+$/.test(p)) ? ids.map(Number) : null;
}
