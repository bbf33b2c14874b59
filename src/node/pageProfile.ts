// Where a page's thread spent a run: a CPU profile from Chromium's sampling profiler (the DevTools
// protocol's Profiler domain, the format DevTools opens as .cpuprofile), summed per function. `bench --app
// --cpu-profile FILE` writes the last run's profile and prints the functions that took the most time.

/** The parts of a DevTools Profiler.Profile read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** The function's name ("(anonymous)" when it has none; "(program)" for native work, "(idle)"…). */
  name: string;
  /** file:line where it is defined (1-based), or "" for the profiler's own entries. */
  where: string;
  /** Sampled time in the function itself, and in it with everything it called, ms. */
  selfMs: number;
  totalMs: number;
}

/** Every function's self and total time, the most total first (then self, then name); a function seen twice
 * in a stack counts once. */
export function timeByFunction(profile: CpuProfile): FunctionTime[] {
  const sampledUs = new Map<number, number>(); // node id → µs of samples that ended there
  (profile.samples ?? []).forEach((id, i) => sampledUs.set(id, (sampledUs.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const keyOf = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    return `${functionName || '(anonymous)'}\t${url ? `${url.split('/').pop()!.split('?')[0]}:${lineNumber + 1}` : ''}`;
  };
  const times = new Map<string, { selfUs: number; totalUs: number }>();
  const at = (key: string) => times.get(key) ?? times.set(key, { selfUs: 0, totalUs: 0 }).get(key)!;
  for (const [id, us] of sampledUs) {
    at(keyOf(id)).selfUs += us;
    const counted = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const key = keyOf(node);
      if (counted.has(key)) continue; // recursion: the sample is the function's once
      counted.add(key);
      at(key).totalUs += us;
    }
  }
  return [...times]
    .filter(([key]) => !key.startsWith('(root)'))
    .map(([key, t]) => {
      const [name, where] = key.split('\t') as [string, string];
      return { name, where, selfMs: t.selfUs / 1000, totalMs: t.totalUs / 1000 };
    })
    .sort((a, b) => b.totalMs - a.totalMs || b.selfMs - a.selfMs || a.name.localeCompare(b.name));
}
