// A checkpoint folder as MoEScope sees it: the files it recognises, every tensor's header entry across
// shards, and the JSON/tokenizer files beside them. Built from ByteSources, so it works the same for a
// dropped folder, picked files and Node paths. Tensor data is not read here.

import { readText, type ByteSource } from './byteSource.ts';
import { ConfigError, MissingFileError, SafetensorsFormatError } from './errors.ts';
import { readSafetensorsHeader, type SafetensorsFile, type TensorInfo } from './safetensors.ts';

export const INDEX_FILE = 'model.safetensors.index.json';
const TEXT_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'generation_config.json',
  'special_tokens_map.json',
] as const;
type TextFile = (typeof TEXT_FILES)[number];

export interface TensorEntry extends TensorInfo {
  file: SafetensorsFile;
}

export interface Checkpoint {
  /** Parsed config.json. */
  config: Record<string, unknown>;
  /** Every tensor in every weight file, by name. */
  tensors: Map<string, TensorEntry>;
  weightFiles: SafetensorsFile[];
  /** The other recognised files' text, by file name, when present. */
  text: Partial<Record<Exclude<TextFile, 'config.json'>, string>>;
  /** Files that were given but are not part of a checkpoint (ignored). */
  ignored: string[];
}

export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The whole text of a small file, releasing it afterwards. */
async function readTextOnce(source: ByteSource): Promise<string> {
  try {
    return await readText(source);
  } finally {
    await source.close?.();
  }
}

/** Parse a JSON file's text, naming the file if it is not a JSON object. */
export function parseJsonObject(file: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(file, 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** Which weight files to read: the shards the index names, or every .safetensors file given. */
async function chooseWeightFiles(byName: Map<string, ByteSource>): Promise<{ files: ByteSource[]; weightMap: Map<string, string> | null }> {
  const index = byName.get(INDEX_FILE);
  if (!index) {
    const files = [...byName.values()].filter((s) => s.name.endsWith('.safetensors'));
    if (files.length === 0) throw new MissingFileError('model.safetensors', 'no .safetensors weight file was given');
    return { files, weightMap: null };
  }
  const json = parseJsonObject(INDEX_FILE, await readTextOnce(index));
  const map = json['weight_map'];
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new ConfigError(INDEX_FILE, 'has no "weight_map" object');
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') throw new ConfigError(INDEX_FILE, `weight_map entry for ${tensor} is not a file name`);
    weightMap.set(tensor, shard);
  }
  const shardNames = [...new Set(weightMap.values())].sort();
  const missing = shardNames.filter((s) => !byName.has(s));
  if (missing.length > 0) {
    throw new MissingFileError(missing.join(', '), `${INDEX_FILE} lists ${shardNames.length} shards; drop the whole checkpoint folder`);
  }
  return { files: shardNames.map((s) => byName.get(s)!), weightMap };
}

/** Assemble a checkpoint from the given files (any order; unrelated files are ignored). */
export async function openCheckpoint(sources: readonly ByteSource[]): Promise<Checkpoint> {
  const byName = new Map<string, ByteSource>();
  const ignored: string[] = [];
  for (const source of sources) {
    const name = baseName(source.name);
    const recognised = (TEXT_FILES as readonly string[]).includes(name) || name === INDEX_FILE || name.endsWith('.safetensors');
    if (!recognised) {
      ignored.push(name);
      continue;
    }
    if (byName.has(name)) throw new ConfigError(name, 'given twice; drop one checkpoint folder at a time');
    byName.set(name, source);
  }

  const configSource = byName.get('config.json');
  if (!configSource) throw new MissingFileError('config.json', 'every Hugging Face checkpoint folder has one; drop the whole folder');
  const config = parseJsonObject('config.json', await readTextOnce(configSource));

  const { files, weightMap } = await chooseWeightFiles(byName);
  const weightFiles = await Promise.all(files.map((f) => readSafetensorsHeader(f)));
  const tensors = new Map<string, TensorEntry>();
  for (const file of weightFiles) {
    for (const info of file.tensors.values()) {
      const other = tensors.get(info.name);
      if (other) throw new SafetensorsFormatError(file.source.name, `tensor ${info.name} is also in ${other.file.source.name}`);
      tensors.set(info.name, { ...info, file });
    }
  }
  if (weightMap) {
    const problems: string[] = [];
    for (const [tensor, shard] of weightMap) {
      const found = tensors.get(tensor);
      if (!found) problems.push(`${tensor} (in ${INDEX_FILE} under ${shard}) is not in that file`);
      else if (found.file.source.name !== shard) problems.push(`${tensor} is in ${found.file.source.name}, but ${INDEX_FILE} says ${shard}`);
    }
    if (problems.length > 0) throw new ConfigError(INDEX_FILE, `does not match the shards: ${problems.slice(0, 5).join('; ')}`);
  }

  const text: Checkpoint['text'] = {};
  for (const name of TEXT_FILES) {
    const source = byName.get(name);
    if (source && name !== 'config.json') text[name] = await readTextOnce(source);
  }
  return { config, tensors, weightFiles, text, ignored };
}

/** Close the weight files (after the weights are on the GPU, or when giving up). */
export async function closeCheckpoint(checkpoint: Checkpoint): Promise<void> {
  await Promise.all(checkpoint.weightFiles.map((f) => f.source.close?.()));
}
