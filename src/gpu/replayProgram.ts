// How a decode step's recording becomes a Program that Recorder.replay re-issues (see recorder.ts): the
// commands and Params words of a step as recorded (an Observation), and the Program three recordings
// agree on, each word and copy offset an affine function of the step's position. A RecordingCache learns
// from its own recordings; a SlopeLearner from those of the caches of sibling slots (steps in flight),
// so that each of them needs one recording of its own, not three.

import type { StepTimer } from './timers.ts';

/** One command of a recorded step, as replay re-issues it. */
export type Command =
  | { kind: 'dispatch'; slot: number; pipeline: GPUComputePipeline; group: GPUBindGroup; grid: readonly [number, number, number]; label: string }
  | { kind: 'copy'; source: GPUBuffer; sourceOffset: number; destination: GPUBuffer; destinationOffset: number; size: number }
  | { kind: 'clear'; buffer: GPUBuffer }
  | { kind: 'resolve'; timer: StepTimer; passes: number };

/** A step as recorded at one position: its commands and every dispatch's Params words. */
export interface Observation {
  pos: number;
  key: string; // what else the caller's recording depended on (its options)
  family: string; // the key without what only this cache's recordings share (see SlopeLearner)
  commands: Command[];
  words: Uint32Array[]; // per dispatch slot
  memo: unknown; // what the caller stored with it
}

/** A command as replay re-issues it: a copy's offsets are at `pos` and move by their slopes per position. */
export type ReplayCommand = Exclude<Command, { kind: 'copy' }> | (Extract<Command, { kind: 'copy' }> & { sourceSlope: number; destinationSlope: number });

/** A step that replays: its commands, and per Params word a value at `pos` and a slope. */
export interface Program {
  pos: number;
  key: string;
  commands: ReplayCommand[];
  words: { at: Uint32Array; slope: Int32Array }[];
  /** What the caller stored with the step (its output buffers, its readback). */
  memo: unknown;
}

/**
 * Slopes learned across the caches of one step shape (the slots that steps in flight rotate over): their
 * recordings differ in the buffers they bind, not in their commands' kinds, pipelines, grids and sizes,
 * nor in their Params words and copy offsets at a position. Three recordings of one family, by any of
 * the caches, give each word's slope; a cache with one recording of its own that agrees with them (its
 * words and offsets where the slopes put them) replays from its next step.
 */
export class SlopeLearner {
  private observations: Observation[] = [];
  private learned: Program | null = null;

  observe(observation: Observation): void {
    this.observations = latestThree(this.observations, observation, (o) => o.family);
    if (this.observations.length < 3) return;
    const program = learnProgram(this.observations as [Observation, Observation, Observation], false);
    if (program) this.learned = program;
  }

  /** A Program of `own`'s commands at its position with the learned slopes, if its recording agrees with them. */
  programFor(own: Observation): Program | null {
    const ref = this.learned;
    if (!ref || ref.key !== own.family || ref.commands.length !== own.commands.length || ref.words.length !== own.words.length) return null;
    const delta = own.pos - ref.pos;
    const commands: ReplayCommand[] = [];
    for (let i = 0; i < own.commands.length; i++) {
      const [r, c] = [ref.commands[i]!, own.commands[i]!];
      if (!sameShape(r, c)) return null;
      if (c.kind === 'copy' && r.kind === 'copy') {
        if (c.sourceOffset !== r.sourceOffset + r.sourceSlope * delta || c.destinationOffset !== r.destinationOffset + r.destinationSlope * delta) return null;
        commands.push({ ...c, sourceSlope: r.sourceSlope, destinationSlope: r.destinationSlope });
      } else {
        commands.push(c as ReplayCommand);
      }
    }
    const words: Program['words'] = [];
    for (let slot = 0; slot < own.words.length; slot++) {
      const { at, slope } = ref.words[slot]!;
      const mine = own.words[slot]!;
      if (mine.length !== at.length) return null;
      for (let j = 0; j < at.length; j++) if (mine[j] !== (at[j]! + slope[j]! * delta) >>> 0) return null;
      words.push({ at: mine.slice(), slope });
    }
    return { pos: own.pos, key: own.key, commands, words, memo: own.memo };
  }
}

/** `kept` with `next` added, the latest three at most; restarted where the key changes or the position does not grow. */
export function latestThree(kept: Observation[], next: Observation, keyOf: (o: Observation) => string): Observation[] {
  const last = kept.at(-1);
  const out = last && (last.pos >= next.pos || keyOf(last) !== keyOf(next)) ? [] : [...kept];
  out.push(next);
  return out.slice(-3);
}

/** Whether two commands of one kind do the same work, whatever buffers and bind groups they use. */
function sameShape(a: Command | ReplayCommand, b: Command | ReplayCommand): boolean {
  if (a.kind === 'dispatch' && b.kind === 'dispatch') return a.slot === b.slot && a.pipeline === b.pipeline && a.grid.every((g, j) => g === b.grid[j]);
  if (a.kind === 'copy' && b.kind === 'copy') return a.size === b.size;
  if (a.kind === 'resolve' && b.kind === 'resolve') return a.timer === b.timer && a.passes === b.passes;
  return a.kind === b.kind;
}

/** Integer slope of values a → b → c at positions pa → pb → pc, or null if they are not on one line. */
function affineSlope(a: number, b: number, c: number, pa: number, pb: number, pc: number): number | null {
  const s1 = (b - a) / (pb - pa);
  const s2 = (c - b) / (pc - pb);
  return s1 === s2 && Number.isInteger(s1) ? s1 : null;
}

/**
 * The Program three recordings agree on (same commands; words and copy offsets affine), or null. With
 * `sameCache` false (a SlopeLearner's: recordings by sibling caches) the commands' buffers and bind
 * groups may differ, and the Program serves for its slopes only.
 */
export function learnProgram([o0, o1, o2]: [Observation, Observation, Observation], sameCache: boolean): Program | null {
  const n = o2.commands.length;
  if (o0.commands.length !== n || o1.commands.length !== n || o0.words.length !== o2.words.length || o1.words.length !== o2.words.length) return null;
  const commands: ReplayCommand[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [o0.commands[i]!, o1.commands[i]!, o2.commands[i]!];
    if (!sameShape(a, c) || !sameShape(b, c)) return null;
    if (c.kind === 'dispatch' && a.kind === 'dispatch' && b.kind === 'dispatch') {
      if (sameCache && (a.group !== c.group || b.group !== c.group)) return null;
      commands.push(c);
    } else if (c.kind === 'copy' && a.kind === 'copy' && b.kind === 'copy') {
      if (sameCache && (a.source !== c.source || b.source !== c.source || a.destination !== c.destination || b.destination !== c.destination)) return null;
      const sourceSlope = affineSlope(a.sourceOffset, b.sourceOffset, c.sourceOffset, o0.pos, o1.pos, o2.pos);
      const destinationSlope = affineSlope(a.destinationOffset, b.destinationOffset, c.destinationOffset, o0.pos, o1.pos, o2.pos);
      if (sourceSlope === null || destinationSlope === null) return null;
      commands.push({ ...c, sourceSlope, destinationSlope });
    } else if (c.kind === 'clear' && a.kind === 'clear' && b.kind === 'clear') {
      if (sameCache && (a.buffer !== c.buffer || b.buffer !== c.buffer)) return null;
      commands.push(c);
    } else if (c.kind === 'resolve') {
      commands.push(c); // sameShape compared its timer and passes
    }
  }
  const words: Program['words'] = [];
  for (let slot = 0; slot < o2.words.length; slot++) {
    const [a, b, c] = [o0.words[slot]!, o1.words[slot]!, o2.words[slot]!];
    if (a.length !== c.length || b.length !== c.length) return null;
    const slope = new Int32Array(c.length);
    for (let j = 0; j < c.length; j++) {
      const s = affineSlope(a[j]!, b[j]!, c[j]!, o0.pos, o1.pos, o2.pos);
      if (s === null) return null;
      slope[j] = s;
    }
    words.push({ at: c.slice(), slope });
  }
  // observe() keeps only observations of one key (a SlopeLearner: of one family) together
  return { pos: o2.pos, key: sameCache ? o2.key : o2.family, commands, words, memo: o2.memo };
}
