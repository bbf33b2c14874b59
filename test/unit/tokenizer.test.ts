import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/checkpoint/errors.ts';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.ts';

// A tiny BPE tokenizer.json in the format HF tokenizers writes. Expected ids are worked out by hand:
// "ab c abc" → pre-tokenized on whitespace → ["ab", "c", "abc"]; merges a+b → ab, ab+c → abc → [3, 2, 4],
// and the template post-processor puts <s> (5) in front.
const TOKENIZER_JSON = JSON.stringify({
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    { id: 5, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 6, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [5], tokens: ['<s>'] } },
  },
  decoder: { type: 'BPEDecoder', suffix: '' },
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
    vocab: { a: 0, b: 1, c: 2, ab: 3, abc: 4, '<s>': 5, '</s>': 6 },
    merges: ['a b', 'ab c'],
  },
});

const TOKENIZER_CONFIG = JSON.stringify({
  bos_token: '<s>',
  eos_token: '</s>',
  chat_template: "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}",
});

describe('tokenizer from a checkpoint', () => {
  it('encodes and decodes with tokenizer.json', () => {
    const tok = loadTokenizer({ 'tokenizer.json': TOKENIZER_JSON, 'tokenizer_config.json': TOKENIZER_CONFIG })!;
    expect(tok.encode('ab c abc')).toEqual([5, 3, 2, 4]);
    expect(tok.encode('ab c abc', false)).toEqual([3, 2, 4]);
    expect(tok.tokenText(4)).toBe('abc');
    expect(tok.decode([3, 2], true).replace(/\s/g, '')).toBe('abc');
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
