// One GPUDevice with what every kernel needs beside it: the adapter report, the shader sources and a cache
// of compiled pipelines. Runtime-agnostic: Node and the browser build one of these their own way.

import type { AdapterReport } from './adapter.ts';
import type { ShaderLibrary } from './shaderLibrary.ts';

export type PipelineConstants = Record<string, number>;

/** A shader that does not compile, or GPU work that fails validation; the message is Dawn's/the browser's. */
export class GpuValidationError extends Error {
  constructor(what: string, detail: string) {
    super(`${what}: ${detail}`);
    this.name = 'GpuValidationError';
  }
}

export interface GpuContextOptions {
  /**
   * Kernels reduce with subgroup operations (shaders/*.subgroups.wgsl includes). Only where
   * `subgroupsUsable` said yes for this device; false gives the plain workgroup-memory kernels.
   */
  subgroups?: boolean;
}

/**
 * Compiled pipelines by program (expanded source text and constants), shared by the contexts of one device:
 * a shader that includes nothing with a subgroup variant is the same program in both kernel variants, and
 * is compiled once (on SwiftShader a tiled kernel takes seconds to compile).
 */
type CompiledPrograms = Map<string, Promise<GPUComputePipeline>>;

export class GpuContext {
  /** By shader name and constants: what the kernels ask for, once per dispatch recorded. */
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly placeholderBuffers: GPUBuffer[] = [];
  private plain: GpuContext | undefined;
  /** Whether kernels use subgroup operations (see GpuContextOptions). */
  readonly subgroups: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterReport,
    readonly shaders: ShaderLibrary,
    options: GpuContextOptions = {},
    private readonly programs: CompiledPrograms = new Map(),
  ) {
    this.subgroups = options.subgroups === true && device.features.has('subgroups');
  }

  /** The same device with the plain (workgroup-memory) kernels: to compare or test both variants. One per
   * context, so its compiled pipelines are kept too. */
  withoutSubgroups(): GpuContext {
    if (!this.subgroups) return this;
    return (this.plain ??= new GpuContext(this.device, this.adapter, this.shaders, { subgroups: false }, this.programs));
  }

  /** The compute pipeline for shaders/<shader>.wgsl with these override constants, compiled once. */
  pipeline(shader: string, constants: PipelineConstants = {}): Promise<GPUComputePipeline> {
    const key = `${shader}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const code = this.shaders.source(shader, { subgroups: this.subgroups });
      const program = `${JSON.stringify(constants)}\n${code}`;
      pipeline = this.programs.get(program);
      if (!pipeline) {
        pipeline = this.compile(shader, code, key, constants);
        this.programs.set(program, pipeline);
      }
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  private async compile(shader: string, code: string, key: string, constants: PipelineConstants): Promise<GPUComputePipeline> {
    const module = this.device.createShaderModule({ label: shader, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const detail = errors.map((m) => `line ${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
      throw new GpuValidationError(`shaders/${shader}.wgsl does not compile`, detail);
    }
    // createComputePipelineAsync aborts the process in dawn.node 0.6 (std::system_error), so compile
    // synchronously inside an error scope instead.
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
    const error = await this.device.popErrorScope();
    if (error) throw new GpuValidationError(`pipeline ${key}`, error.message);
    return pipeline;
  }

  /** A 16-byte storage buffer for bindings a variant does not use (a buffer may not alias a writable one: use
   * `which` to get distinct ones for several unused writable bindings of one dispatch). */
  placeholder(which = 0): GPUBuffer {
    return (this.placeholderBuffers[which] ??= this.device.createBuffer({ label: `placeholder ${which}`, size: 16, usage: GPUBufferUsage.STORAGE }));
  }

  /** Run `work` and fail with the first validation or out-of-memory error it caused on the device. */
  async checked<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T;
    try {
      result = await work();
    } finally {
      const validation = await this.device.popErrorScope();
      const memory = await this.device.popErrorScope();
      const error = validation ?? memory;
      if (error) throw new GpuValidationError(what, error.message);
    }
    return result;
  }

  destroy(): void {
    this.pipelines.clear();
    this.programs.clear();
    this.device.destroy();
  }
}
