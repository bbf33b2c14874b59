// Typed errors for everything a dropped checkpoint can get wrong. Each names the file or tensor, what was
// expected and what was found, so the page and the CLI can show the message as it is.

// Names are string literals: class names do not survive minification, and the page shows them.
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A .safetensors file that breaks the format. */
export class SafetensorsFormatError extends CheckpointError {
  override name = 'SafetensorsFormatError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: not a valid safetensors file: ${reason}`);
  }
}

/** A tensor whose dtype MoEScope cannot compute with. */
export class UnsupportedDtypeError extends CheckpointError {
  override name = 'UnsupportedDtypeError';
  constructor(
    readonly tensor: string,
    readonly dtype: string,
  ) {
    super(`tensor ${tensor} has dtype ${dtype}; MoEScope supports BF16, F16, F32`);
  }
}

/** A required file is absent (config.json, a shard named by the index, …). */
export class MissingFileError extends CheckpointError {
  override name = 'MissingFileError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} is missing: ${detail}`);
  }
}

/** config.json (or another JSON file) is unreadable or lacks a value the model needs. */
export class ConfigError extends CheckpointError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export class UnsupportedArchitectureError extends CheckpointError {
  override name = 'UnsupportedArchitectureError';
  constructor(
    readonly architecture: string,
    supported: readonly string[],
  ) {
    super(`architecture ${architecture} is not supported; MoEScope supports ${supported.join(', ')}`);
  }
}

/** Tensors the model spec needs that are missing or have the wrong shape, all listed at once. */
export class TensorMismatchError extends CheckpointError {
  override name = 'TensorMismatchError';
  constructor(
    readonly problems: readonly string[],
  ) {
    const shown = problems.slice(0, 20).join('\n  ');
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    super(`the checkpoint's tensors do not match its config.json (${problems.length} problems):\n  ${shown}${more}`);
  }
}
