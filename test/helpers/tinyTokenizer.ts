// A tiny BPE tokenizer.json in the format HF tokenizers writes. Expected ids are worked out by hand:
// "ab c abc" → pre-tokenized on whitespace → ["ab", "c", "abc"]; merges a+b → ab, ab+c → abc → [3, 2, 4],
// and the template post-processor puts <s> (5) in front.
export const TOKENIZER_JSON = JSON.stringify({
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

export const TOKENIZER_CONFIG = JSON.stringify({
  bos_token: '<s>',
  eos_token: '</s>',
  chat_template: "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}",
});

