// Typed reads from config.json with errors that name the key, and the spellings different transformers
// versions use for the same value.

import { ConfigError } from '../checkpoint/errors.ts';

export class ConfigReader {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly file = 'config.json',
  ) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** The first of `keys` present (spellings of one value), or undefined. */
  private first(keys: readonly string[]): [string, unknown] | undefined {
    for (const k of keys) if (this.has(k)) return [k, this.raw[k]];
    return undefined;
  }

  /** The value of the first spelling present, validated; the fallback when none is, else an error. */
  private number(keys: string | readonly string[], fallback: number | undefined, integer: boolean): number {
    const names = typeof keys === 'string' ? [keys] : keys;
    const what = integer ? 'a non-negative integer' : 'a number';
    const found = this.first(names);
    if (!found) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(this.file, `needs "${names.join('" or "')}" (${integer ? 'an integer' : 'a number'})`);
    }
    const [key, value] = found;
    const ok = typeof value === 'number' && (integer ? Number.isInteger(value) && value >= 0 : Number.isFinite(value));
    if (!ok) throw new ConfigError(this.file, `"${key}" must be ${what}, found ${JSON.stringify(value)}`);
    return value as number;
  }

  int(keys: string | readonly string[], fallback?: number): number {
    return this.number(keys, fallback, true);
  }

  num(keys: string | readonly string[], fallback?: number): number {
    return this.number(keys, fallback, false);
  }

  optNum(key: string): number | null {
    return this.has(key) ? this.num(key) : null;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'boolean') throw new ConfigError(this.file, `"${key}" must be true or false, found ${JSON.stringify(value)}`);
    return value;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== 'string') throw new ConfigError(this.file, `"${key}" must be a string, found ${JSON.stringify(value)}`);
    return value;
  }

  intList(key: string): number[] {
    if (!this.has(key)) return [];
    const value = this.raw[key];
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) throw new ConfigError(this.file, `"${key}" must be a list of integers`);
    return value as number[];
  }

  /** An integer or a list of them (eos_token_id comes both ways). */
  intOrList(key: string): number[] {
    if (!this.has(key)) return [];
    const value = this.raw[key];
    return typeof value === 'number' ? [this.int(key)] : this.intList(key);
  }

  object(key: string): Record<string, unknown> | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(this.file, `"${key}" must be an object`);
    return value as Record<string, unknown>;
  }
}
