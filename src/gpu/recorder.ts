// Records one step of GPU work (a forward pass, its sampling, its readback) into one command buffer.
//
// What it saves over plain encoder use, all of which a decode step otherwise pays per dispatch:
// - dispatches share one compute pass (WebGPU orders and synchronises dispatches inside a pass); copies
//   and clears close it;
// - the Params uniform, the bind group and every scratch buffer of the n-th dispatch/allocation come from
//   a RecordingCache keyed by that position, so a step recorded again allocates nothing and rewrites only
//   the uniforms whose bytes changed;
// - everything the host reads goes into one staging buffer: one map per step.
// With a Profiler, each dispatch gets its own pass with timestamp writes instead (for per-kernel timings).
//
// Replay (decode steps): recording a step in JS costs more host time than Dawn's own calls (a decode
// step is host-bound on every shape), yet steps of one shape differ only in where they are: every
// command is the same and each Params word and copy offset is an affine function of the step's position
// (cache rows, attention lengths). After three recordings at three positions agree on that, the cache
// holds a Program and replay(pos) re-issues it, computing the words for the new position, with no kernel
// code run at all. Anything else that changes (a random draw, a dynamic RoPE table) fails the check and
// keeps the step recorded in full.
// Steps in flight rotate over several caches (one per slot), which record the same commands on buffers of
// their own: a SlopeLearner shared by them learns the slopes from three recordings by any of them, and
// then a cache needs one recording of its own, not three (with four slots, 5 of a run's first steps are
// recorded in full instead of 16). How a Program is learned: replayProgram.ts.

import { bindingResource, storageBuffer, storageSize, type Binding } from './buffers.ts';
import type { GpuContext } from './context.ts';
import { learnProgram, latestThree, type Command, type Observation, type Program, type SlopeLearner } from './replayProgram.ts';
import { StepTimer, type Profiler } from './timers.ts';

/**
 * Bytes per dispatch slot in a step's Params buffer: no more than any adapter's
 * minUniformBufferOffsetAlignment (at most 256) requires, and the most Params a dispatch packs.
 */
const PARAMS_STRIDE = 256;

interface DispatchSlot {
  /** Its Params (at PARAMS_STRIDE · slot in the cache's params buffer, once written). */
  bytes: Uint8Array<ArrayBuffer>;
  written: boolean;
  pipeline: GPUComputePipeline | null;
  buffers: readonly Binding[];
  group: GPUBindGroup | null;
  /** The params buffer `group` binds: a cache that grew its buffer rebinds. */
  paramsBuffer: GPUBuffer | null;
}

/** What a repeated step reuses: one slot per dispatch and per allocation, in recording order. */
export class RecordingCache {
  readonly dispatches: DispatchSlot[] = [];
  readonly allocations: GPUBuffer[] = [];
  staging: GPUBuffer | null = null;
  /** Staging buffers of readBackNow, by slot: kept, since a fresh mappable buffer per read cost ~0.5 ms. */
  readonly earlyStaging: GPUBuffer[] = [];
  /** Scratch that the step's dispatches share (see Recorder.shared), by purpose and size. */
  readonly shared = new Map<string, GPUBuffer>();
  /**
   * Every dispatch's Params in one uniform buffer, slot i at PARAMS_STRIDE · i, and what it holds: a
   * replayed step writes the words that moved in one call rather than one per dispatch (~4 µs each).
   */
  params: GPUBuffer | null = null;
  paramsMirror = new Uint8Array(0);
  /** Params buffers outgrown while steps that bind them may still be recorded or running. */
  private readonly retired: GPUBuffer[] = [];
  /** The latest recordings (for learning a Program), and the Program once learned. */
  observations: Observation[] = [];
  program: Program | null = null;

  /** The params buffer, grown (doubling) to hold `slots` dispatches. */
  paramsFor(device: GPUDevice, slots: number): GPUBuffer {
    const need = slots * PARAMS_STRIDE;
    if (this.params && this.params.size >= need) return this.params;
    const size = Math.max(need, 2 * (this.params?.size ?? 0), 64 * PARAMS_STRIDE);
    if (this.params) {
      this.retired.push(this.params);
      this.forgetProgram(); // its bind groups bind the old buffer
    }
    this.params = device.createBuffer({ label: 'step params', size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const mirror = new Uint8Array(size);
    mirror.set(this.paramsMirror);
    this.paramsMirror = mirror;
    return this.params;
  }

  destroy(): void {
    for (const b of this.allocations) b.destroy();
    for (const b of this.retired) b.destroy();
    this.params?.destroy();
    this.staging?.destroy();
    for (const b of this.earlyStaging) b.destroy();
    for (const b of this.shared.values()) b.destroy();
    this.shared.clear();
    this.dispatches.length = 0;
    this.allocations.length = 0;
    this.retired.length = 0;
    this.params = null;
    this.paramsMirror = new Uint8Array(0);
    this.staging = null;
    this.forgetProgram();
  }

  /** Drop the learned Program and what it was learned from (a buffer it binds is about to go). */
  forgetProgram(): void {
    this.observations = [];
    this.program = null;
  }

  /** Keep a full recording at `pos`; once the latest three agree (see the file comment), learn a Program. */
  observe(observation: Observation): void {
    this.observations = latestThree(this.observations, observation, (o) => o.key);
    if (this.observations.length === 3) this.program = learnProgram(this.observations as [Observation, Observation, Observation], true);
  }

  /** The Program for `key`: learned here, or from this cache's latest recording and `learner`'s slopes. */
  programFor(key: string, learner: SlopeLearner | null): Program | null {
    if (this.program?.key === key) return this.program;
    const latest = this.observations.at(-1);
    if (!learner || latest?.key !== key) return null;
    const adopted = learner.programFor(latest);
    if (adopted) this.program = adopted;
    return adopted;
  }
}

export interface ReadPart {
  buffer: GPUBuffer;
  bytes: number;
  offset?: number; // where in the buffer they start (bytes, a multiple of 4); 0 when absent
}

/** Where each part lands in a staging buffer: 4-byte aligned sizes, one after another. */
interface StagingLayout {
  offsets: number[];
  sizes: number[];
  total: number;
}

function stagingLayout(parts: readonly ReadPart[]): StagingLayout {
  const sizes = parts.map((p) => Math.ceil(p.bytes / 4) * 4);
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
  }
  return { offsets, sizes, total: Math.max(total, 4) };
}

/** Map the staging buffer once; each part's bytes (copies, so that the buffer can be reused). */
async function readStaging(staging: GPUBuffer, parts: readonly ReadPart[], layout: StagingLayout): Promise<ArrayBuffer[]> {
  await staging.mapAsync(GPUMapMode.READ, 0, layout.total);
  const mapped = staging.getMappedRange(0, layout.total);
  const out = parts.map((p, i) => mapped.slice(layout.offsets[i]!, layout.offsets[i]! + p.bytes));
  staging.unmap();
  return out;
}

export class Recorder {
  /** Where commands go now: a fresh encoder after each submitSoFar(). */
  encoder: GPUCommandEncoder;
  /** performance.now() of the first submitSoFar(), if any. */
  firstSubmitAt: number | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatchIndex = 0;
  private allocationIndex = 0;
  private passIndex = 0;
  /** This recording's commands, in order (for RecordingCache.observe). */
  private readonly commands: Command[] = [];
  /**
   * Dispatches to leave out of the GPU's work, by kernel (`label [x×y×z]`: its shader and grid): the
   * bench's in-place profile times a step without each kernel in turn. The step's commands, passes and
   * Params stay as recorded, so it replays and times as before; what the left-out kernels would write
   * is left stale.
   */
  skip: ((kernel: string) => boolean) | null = null;

  constructor(
    readonly ctx: GpuContext,
    private readonly cache: RecordingCache,
    readonly profiler: Profiler | null = null,
    private readonly label = 'step',
    readonly timer: StepTimer | null = null,
    /** Slopes shared with the caches of sibling slots (see SlopeLearner), if any. */
    private readonly learner: SlopeLearner | null = null,
  ) {
    this.encoder = ctx.device.createCommandEncoder({ label });
  }

  /**
   * Submit what is recorded so far, so that the GPU starts on it while the rest of the step is recorded
   * (a 512-token prefill takes the host 6–9 ms to record, which the GPU otherwise waits out); later
   * commands go to a fresh encoder and finish() returns the rest. Queue order keeps the step's order.
   * Not while profiling: the profiler resolves its timestamps in the step's last encoder and times one
   * step at a time anyway. Returns whether it submitted.
   */
  submitSoFar(): boolean {
    if (this.profiler) return false;
    this.endPass();
    this.ctx.device.queue.submit([this.encoder.finish()]);
    this.firstSubmitAt ??= performance.now();
    this.encoder = this.ctx.device.createCommandEncoder({ label: this.label });
    return true;
  }

  /**
   * Copy `parts` into staging buffer `slot` and submit the copies at once, behind what was submitted so
   * far (submitSoFar): a prefill reads its routing in a few chunks of layers while later layers run, so
   * that the host turns it into trace rows in the GPU's shadow. `read()` maps it once; read it before the
   * slot is used again. Not part of a recording that replays.
   */
  readBackNow(parts: readonly ReadPart[], slot: number): { read(): Promise<ArrayBuffer[]> } {
    const { device } = this.ctx;
    const layout = stagingLayout(parts);
    let staging = this.cache.earlyStaging[slot];
    if (!staging || staging.size < layout.total) {
      staging?.destroy();
      staging = this.cache.earlyStaging[slot] = device.createBuffer({ label: `early readback ${slot}`, size: layout.total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const encoder = device.createCommandEncoder({ label: `${this.label}: early readback` });
    parts.forEach((p, i) => encoder.copyBufferToBuffer(p.buffer, p.offset ?? 0, staging, layout.offsets[i]!, layout.sizes[i]!));
    device.queue.submit([encoder.finish()]);
    return { read: () => readStaging(staging, parts, layout) };
  }

  /** A storage buffer that lives as long as the cache: the same one each time this step is recorded. */
  storage(bytes: number, label: string): GPUBuffer {
    const i = this.allocationIndex++;
    const size = storageSize(bytes);
    const cached = this.cache.allocations[i];
    if (cached && cached.size === size) return cached;
    if (cached) this.cache.forgetProgram(); // it may bind the buffer destroyed here
    cached?.destroy();
    const fresh = storageBuffer(this.ctx.device, size, label);
    this.cache.allocations[i] = fresh;
    return fresh;
  }

  /**
   * Scratch of `bytes` that every call with the same `purpose` and size in this step gets, unlike
   * storage(): for a value that lives from one dispatch to the next only (a split multiply's partial sums,
   * once per layer), so that a prefill does not hold one copy per layer.
   */
  shared(purpose: string, bytes: number): GPUBuffer {
    const size = storageSize(bytes);
    const key = `${purpose}:${size}`;
    let buffer = this.cache.shared.get(key);
    if (!buffer) this.cache.shared.set(key, (buffer = storageBuffer(this.ctx.device, size, purpose)));
    return buffer;
  }

  /** Record one dispatch; the params `bytes` are read during the call only (the slot keeps its own copy). */
  dispatch(pipeline: GPUComputePipeline, bytes: Uint8Array, buffers: readonly Binding[], grid: readonly [number, number, number], label: string): void {
    const { device } = this.ctx;
    const i = this.dispatchIndex++;
    if (bytes.byteLength > PARAMS_STRIDE) throw new RangeError(`${label}: ${bytes.byteLength} bytes of params exceed ${PARAMS_STRIDE}`);
    const params = this.cache.paramsFor(device, i + 1);
    let slot = this.cache.dispatches[i];
    if (!slot || slot.bytes.byteLength !== bytes.byteLength) {
      if (slot) this.cache.forgetProgram();
      slot = { bytes: new Uint8Array(bytes.byteLength), written: false, pipeline: null, buffers: [], group: null, paramsBuffer: null };
      this.cache.dispatches[i] = slot;
    }
    if (slot.paramsBuffer !== params) slot.written = false;
    if (!slot.written || !sameBytes(slot.bytes, bytes)) {
      slot.bytes.set(bytes);
      this.cache.paramsMirror.set(slot.bytes, i * PARAMS_STRIDE);
      device.queue.writeBuffer(params, i * PARAMS_STRIDE, slot.bytes);
      slot.written = true;
    }
    if (!slot.group || slot.paramsBuffer !== params || slot.pipeline !== pipeline || !sameBuffers(slot.buffers, buffers)) {
      const paramsRange = { buffer: params, offset: i * PARAMS_STRIDE, size: bytes.byteLength };
      slot.group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: paramsRange }, ...buffers.map((buffer, b) => ({ binding: b + 1, resource: bindingResource(buffer) }))],
      });
      slot.pipeline = pipeline;
      slot.buffers = [...buffers];
      slot.paramsBuffer = params;
    }
    this.commands.push({ kind: 'dispatch', slot: i, pipeline, group: slot.group, grid: [grid[0], grid[1], grid[2]], label });
    this.issueDispatch(slot.pipeline, slot.group, grid, label);
  }

  private issueDispatch(pipeline: GPUComputePipeline, group: GPUBindGroup, grid: readonly [number, number, number], label: string): void {
    const pass = this.computePass(this.profiler?.byGrid ? kernelName(label, grid) : label);
    if (this.skip?.(kernelName(label, grid))) {
      // its pass is still opened (and a profiler's closed): the step keeps its passes
      if (this.profiler) this.endPass();
      return;
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (this.profiler) this.endPass();
  }

  copyBufferToBuffer(source: GPUBuffer, sourceOffset: number, destination: GPUBuffer, destinationOffset: number, size: number): void {
    this.commands.push({ kind: 'copy', source, sourceOffset, destination, destinationOffset, size });
    this.endPass();
    this.encoder.copyBufferToBuffer(source, sourceOffset, destination, destinationOffset, size);
  }

  clearBuffer(buffer: GPUBuffer): void {
    this.commands.push({ kind: 'clear', buffer });
    this.endPass();
    this.encoder.clearBuffer(buffer);
  }

  /**
   * Keep this recording, made for position `pos` with the caller's options summed up in `key`, so that
   * later steps of its shape and key can replay (see top); `memo` is what replay() then returns.
   * `family`: the part of `key` that the sibling caches' recordings share (see SlopeLearner).
   */
  keepForReplay(pos: number, key: string, memo: unknown, family = key): void {
    if (this.profiler) return;
    const words = this.cache.dispatches.slice(0, this.dispatchIndex).map((slot) => new Uint32Array(slot.bytes.buffer.slice(0)));
    const observation = { pos, key: this.timedKey(key), family: this.timedKey(family), commands: this.commands, words, memo };
    this.cache.observe(observation);
    this.learner?.observe(observation);
  }

  /**
   * Re-issue the learned program of this step's shape for position `pos` (see top) and return what was
   * kept with it; null (nothing recorded) when there is none yet.
   */
  replay(pos: number, key: string): unknown {
    if (this.profiler || this.commands.length > 0) return null;
    const program = this.cache.programFor(this.timedKey(key), this.learner);
    if (!program) return null;
    const { device } = this.ctx;
    const delta = pos - program.pos;
    const { params, paramsMirror } = this.cache;
    let [first, end] = [Infinity, 0]; // the span of the params buffer whose words moved
    for (const c of program.commands) {
      if (c.kind === 'dispatch') {
        const slot = this.cache.dispatches[c.slot]!;
        const { at, slope } = program.words[c.slot]!;
        const words = new Uint32Array(slot.bytes.buffer);
        let changed = false;
        for (let j = 0; j < at.length; j++) {
          const v = (at[j]! + slope[j]! * delta) >>> 0;
          if (words[j] !== v) {
            words[j] = v;
            changed = true;
          }
        }
        if (changed) {
          const offset = c.slot * PARAMS_STRIDE;
          paramsMirror.set(slot.bytes, offset);
          first = Math.min(first, offset);
          end = Math.max(end, offset + slot.bytes.byteLength);
        }
        this.issueDispatch(c.pipeline, c.group, c.grid, c.label);
      } else if (c.kind === 'copy') {
        this.endPass();
        this.encoder.copyBufferToBuffer(c.source, c.sourceOffset + c.sourceSlope * delta, c.destination, c.destinationOffset + c.destinationSlope * delta, c.size);
      } else if (c.kind === 'resolve') {
        this.endPass();
        this.encoder.resolveQuerySet(c.timer.querySet, 0, 2 * c.passes, c.timer.resolve, 0);
      } else {
        this.endPass();
        this.encoder.clearBuffer(c.buffer);
      }
    }
    // one write for the whole span (the words between moved slots are the mirror's, already there)
    if (params && end > first) device.queue.writeBuffer(params, first, paramsMirror, first, end - first);
    return program.memo;
  }

  /**
   * The caller's replay key and this step's StepTimer: a recording resolves its timer's queries, so a
   * step timed by another timer (or by none) must not replay it (the bench destroys a timer per run).
   */
  private timedKey(key: string): string {
    return this.timer && !this.profiler ? `${key}:timer ${replayId(this.timer)}` : key;
  }

  /**
   * With a StepTimer: resolve this step's pass timestamps; the part to read back (the timer's record()
   * takes it with `passes`). Call after the step's last pass.
   */
  resolveTimer(): { part: ReadPart; passes: number } | null {
    const timer = this.timer;
    if (!timer || this.profiler) return null;
    this.endPass();
    const timed = Math.min(this.passIndex, StepTimer.MAX_PASSES); // passes with timestamps
    if (timed === 0) return null;
    this.commands.push({ kind: 'resolve', timer, passes: timed });
    this.encoder.resolveQuerySet(timer.querySet, 0, 2 * timed, timer.resolve, 0);
    return { part: { buffer: timer.resolve, bytes: 16 * timed }, passes: this.passIndex };
  }

  /**
   * Copy `parts` into the step's staging buffer; after the step is submitted, `read()` maps it once and
   * returns each part's bytes (copies: the staging buffer is reused by the next step).
   */
  readBack(parts: readonly ReadPart[]): { read(): Promise<ArrayBuffer[]> } {
    this.endPass();
    const layout = stagingLayout(parts);
    if (!this.cache.staging || this.cache.staging.size < layout.total) {
      this.cache.forgetProgram();
      this.cache.staging?.destroy();
      this.cache.staging = this.ctx.device.createBuffer({ label: 'step readback', size: layout.total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const staging = this.cache.staging;
    parts.forEach((p, i) => {
      const size = layout.sizes[i]!;
      const from = p.offset ?? 0;
      this.commands.push({ kind: 'copy', source: p.buffer, sourceOffset: from, destination: staging, destinationOffset: layout.offsets[i]!, size });
      this.encoder.copyBufferToBuffer(p.buffer, from, staging, layout.offsets[i]!, size);
    });
    return { read: () => readStaging(staging, parts, layout) };
  }

  finish(): GPUCommandBuffer {
    this.endPass();
    return this.encoder.finish();
  }

  private computePass(label: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const timestampWrites = this.profiler ? this.profiler.timestampWrites(label) : this.timer?.writes(this.passIndex++);
    this.pass = this.encoder.beginComputePass(timestampWrites ? { label, timestampWrites } : { label: 'step kernels' });
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}

const replayIds = new WeakMap<object, number>();
let nextReplayId = 0;

/** A number per object (a GPU buffer, a StepTimer), to say in a replay key which one a step used. */
export function replayId(object: object): number {
  let id = replayIds.get(object);
  if (id === undefined) replayIds.set(object, (id = nextReplayId++));
  return id;
}

/** A dispatch as the per-kernel profiles name it: the kernel and its grid of workgroups. */
export function kernelName(label: string, grid: readonly number[]): string {
  return `${label} [${grid.join('×')}]`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameBuffers(a: readonly Binding[], b: readonly Binding[]): boolean {
  return a.length === b.length && a.every((x, i) => sameBinding(x, b[i]!));
}

function sameBinding(a: Binding, b: Binding): boolean {
  if (a === b) return true;
  const [x, y] = [bindingResource(a), bindingResource(b)];
  return x.buffer === y.buffer && (x.offset ?? 0) === (y.offset ?? 0) && x.size === y.size;
}

/** Where kernels record: a plain command encoder (tests, one-off work) or a step Recorder. */
export type Encoder = GPUCommandEncoder | Recorder;

/** A kernel's output buffer: from the recorder's cache when recording a step, else a fresh one (caller frees). */
export function allocate(ctx: GpuContext, enc: Encoder, bytes: number, label: string): GPUBuffer {
  return enc instanceof Recorder ? enc.storage(bytes, label) : storageBuffer(ctx.device, bytes, label);
}

/** Scratch shared by the step's calls with the same purpose and size (Recorder.shared), else a fresh buffer (caller frees). */
export function allocateShared(ctx: GpuContext, enc: Encoder, bytes: number, purpose: string): GPUBuffer {
  return enc instanceof Recorder ? enc.shared(purpose, bytes) : storageBuffer(ctx.device, bytes, purpose);
}
