// Text ↔ token ids from a checkpoint's tokenizer.json (@huggingface/tokenizers), and its chat template
// (@huggingface/jinja). A checkpoint without tokenizer.json has no tokenizer: the UI and CLI take ids.

import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { parseJsonObject, type Checkpoint } from '../checkpoint/checkpoint.ts';
import { ConfigError } from '../checkpoint/errors.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class TextTokenizer {
  private readonly template: Template | null;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly config: Record<string, unknown>,
    readonly chatTemplate: string | null,
  ) {
    try {
      this.template = chatTemplate ? new Template(chatTemplate) : null;
    } catch (error) {
      throw new ConfigError('chat template', `does not parse (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  /** Token ids for `text`; special tokens (BOS, …) are added as the tokenizer's post-processor says. */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Models often have more embedding rows than the tokenizer has tokens (padded vocabularies). */
  private known(id: number): boolean {
    return this.tokenizer.id_to_token(id) !== undefined;
  }

  /** Text of the ids; ids the tokenizer does not know (padding rows of the vocabulary) are skipped. */
  decode(ids: readonly number[], skipSpecialTokens = false): string {
    return this.tokenizer.decode(ids.filter((id) => this.known(id)), { skip_special_tokens: skipSpecialTokens });
  }

  /** One token as it reads on its own (for labels in views): decoded, else the raw piece, else <id>. */
  tokenText(id: number): string {
    if (!this.known(id)) return `<${id}>`;
    const text = this.tokenizer.decode([id]);
    return text !== '' ? text : (this.tokenizer.id_to_token(id) ?? `<${id}>`);
  }

  /** The prompt text for a conversation, as transformers' apply_chat_template renders it. */
  applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (!this.template) throw new ConfigError('tokenizer_config.json', 'this checkpoint has no chat template');
    const special = (key: string) => {
      const v = this.config[key];
      return typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'content' in v ? String(v.content) : '';
    };
    return this.template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
      bos_token: special('bos_token'),
      eos_token: special('eos_token'),
      pad_token: special('pad_token'),
      unk_token: special('unk_token'),
    });
  }
}

/** The chat template: chat_template.jinja (transformers 5) or tokenizer_config.json's chat_template. */
function chatTemplateOf(text: Checkpoint['text'], config: Record<string, unknown>): string | null {
  if (text['chat_template.jinja']) return text['chat_template.jinja'];
  const t = config['chat_template'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x: unknown) => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'default') ?? t[0];
    const template = (named as { template?: unknown } | undefined)?.template;
    return typeof template === 'string' ? template : null;
  }
  return null;
}

export function loadTokenizer(text: Checkpoint['text']): TextTokenizer | null {
  const json = text['tokenizer.json'];
  if (!json) return null;
  const tokenizerJson = parseJsonObject('tokenizer.json', json);
  const config = text['tokenizer_config.json'] ? parseJsonObject('tokenizer_config.json', text['tokenizer_config.json']) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (error) {
    throw new ConfigError('tokenizer.json', `cannot be used (${error instanceof Error ? error.message : String(error)})`);
  }
  return new TextTokenizer(tokenizer, config, chatTemplateOf(text, config));
}
