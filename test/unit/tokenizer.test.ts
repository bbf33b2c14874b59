import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/checkpoint/errors.ts';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.ts';

import { hfFixtures } from '../helpers/hfFixtures.ts';
import { TOKENIZER_CONFIG, TOKENIZER_JSON } from '../helpers/tinyTokenizer.ts';

describe('tokenizer from a checkpoint', () => {
  it('encodes and decodes with tokenizer.json', () => {
    const tok = loadTokenizer({ 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG })!;
    expect(tok.encode('ab c abc')).toEqual([5, 3, 2, 4]);
    expect(tok.encode('ab c abc', false)).toEqual([3, 2, 4]);
    expect(tok.tokenText(4)).toBe('abc');
    expect(tok.decode([3, 2], true).replace(/\s/g, '')).toBe('abc');
    // ids past the tokenizer's vocabulary (padded embedding rows) read as <id> and decode to nothing
    expect(tok.tokenText(20)).toBe('<20>');
    expect(tok.decode([3, 20, 2]).replace(/\s/g, '')).toBe('abc');
  });

  it('renders the chat template from tokenizer_config.json, or chat_template.jinja when present', () => {
    const tok = loadTokenizer({ 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG })!;
    expect(tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('<s>[user] hi</s>[assistant] ');
    const jinja = loadTokenizer({ 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG, 'chat_template.jinja': '{{ messages[0].content | upper }}' })!;
    expect(jinja.applyChatTemplate([{ role: 'user', content: 'hi' }])).toBe('HI');
  });

  it('a checkpoint without tokenizer.json has none; broken files get typed errors', () => {
    expect(loadTokenizer({})).toBeNull();
    expect(() => loadTokenizer({ 'tokenizer.json': '{' })).toThrow(ConfigError);
    expect(() => loadTokenizer({ 'tokenizer.json': TOKENIZER_JSON })!.applyChatTemplate([])).toThrow(/has no chat template/);
  });
});

describe.each(hfFixtures())('$name: token ids equal HF tokenizers', ({ dir, reference }) => {
  it.each(Object.entries(reference.tokenizer))('%j', (text, ids) => {
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const tok = loadTokenizer({ 'tokenizer.json': read('tokenizer.json'), 'tokenizer_config.json': read('tokenizer_config.json') })!;
    expect(tok.encode(text)).toEqual(ids);
    expect(tok.decode(ids, true)).toBe(text);
  });
});
