import { z } from 'zod';
import { tokenizer } from '../../tokenizer.ts';

export type Method = 'supervised' | 'dpo';

/** One bad line, as OpenAI's file validation reports it (1-based). */
export interface LineError {
  line: number;
  message: string;
}

export interface DatasetSummary {
  examples: number;
  tokens: number;
  /** the tokens the loss is computed on (assistant turns) */
  trained_tokens_per_epoch: number;
  max_example_tokens: number;
  errors: LineError[];
}

const MAX_ERRORS = 20;
const MAX_EXAMPLES = 50_000;
/** An example longer than this would be cut by the trainer; refused instead. */
export const MAX_EXAMPLE_TOKENS = 4096;

const text = z.string().max(200_000);
const message = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: text,
  name: z.string().max(64).optional(),
  weight: z.union([z.literal(0), z.literal(1)]).optional(),
});
const chatLine = z.object({ messages: z.array(message).min(1).max(500) });
const assistantOnly = z.array(z.strictObject({ role: z.literal('assistant'), content: text })).length(1);
const dpoLine = z.object({
  input: z.object({ messages: z.array(message).min(1).max(500) }),
  preferred_output: assistantOnly,
  non_preferred_output: assistantOnly,
});

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid example';
  const path = issue.path.length ? issue.path.join('.') : 'line';
  return `${path}: ${issue.message}`;
}

/** `<|im_start|>`, `<|im_end|>` and the newline after it */
const FRAME_TOKENS = 3;

/** The template the trainer applies (ChatML): counts what it will see, close enough for estimates. */
function chatTokens(messages: { role: string; content: string; weight?: 0 | 1 | undefined }[]) {
  let all = 0;
  let trained = 0;
  for (const m of messages) {
    // tenant text is counted as text: a special token's spelling in it is no special token
    const n =
      FRAME_TOKENS +
      tokenizer().countTokens(`${m.role}\n${m.content}`, { disallowedSpecial: new Set<string>() });
    all += n;
    if (m.role === 'assistant' && m.weight !== 0) trained += n;
  }
  return { all, trained };
}

function checkChat(row: unknown): { tokens: number; trained: number } | string {
  const parsed = chatLine.safeParse(row);
  if (!parsed.success) return firstIssue(parsed.error);
  const msgs = parsed.data.messages;
  if (!msgs.some((m) => m.role === 'assistant' && m.weight !== 0))
    return 'messages: an example needs at least one assistant message to learn from';
  const { all, trained } = chatTokens(msgs);
  return { tokens: all, trained };
}

function checkPreference(row: unknown): { tokens: number; trained: number } | string {
  const parsed = dpoLine.safeParse(row);
  if (!parsed.success) return firstIssue(parsed.error);
  const { input, preferred_output: good, non_preferred_output: bad } = parsed.data;
  if (input.messages.at(-1)?.role !== 'user')
    return 'input.messages: the last input message must be from the user';
  const prompt = chatTokens(input.messages).all;
  const a = chatTokens(good);
  const b = chatTokens(bad);
  return { tokens: prompt * 2 + a.all + b.all, trained: a.trained + b.trained };
}

/**
 * Validates a fine-tuning JSONL file line by line (chat format for `supervised`, preference pairs
 * for `dpo`), counting tokens with the o200k tokenizer. Blank lines are skipped like OpenAI does.
 */
export function validateDataset(content: string, method: Method): DatasetSummary {
  const out: DatasetSummary = {
    examples: 0,
    tokens: 0,
    trained_tokens_per_epoch: 0,
    max_example_tokens: 0,
    errors: [],
  };
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    if (out.examples >= MAX_EXAMPLES) {
      out.errors.push({ line: i + 1, message: `a file holds at most ${MAX_EXAMPLES} examples` });
      break;
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      if (out.errors.length < MAX_ERRORS) out.errors.push({ line: i + 1, message: 'not valid JSON' });
      continue;
    }
    const checked = method === 'dpo' ? checkPreference(row) : checkChat(row);
    if (typeof checked === 'string') {
      if (out.errors.length < MAX_ERRORS) out.errors.push({ line: i + 1, message: checked });
      continue;
    }
    if (checked.tokens > MAX_EXAMPLE_TOKENS) {
      if (out.errors.length < MAX_ERRORS)
        out.errors.push({
          line: i + 1,
          message: `the example has ${checked.tokens} tokens, over the limit of ${MAX_EXAMPLE_TOKENS}`,
        });
      continue;
    }
    out.examples++;
    out.tokens += checked.tokens;
    out.trained_tokens_per_epoch += checked.trained;
    out.max_example_tokens = Math.max(out.max_example_tokens, checked.tokens);
  }
  if (out.examples === 0 && out.errors.length === 0)
    out.errors.push({ line: 1, message: 'the file has no examples' });
  return out;
}

/**
 * Without a validation file, a held-out share of the training file (every tenth example, at most
 * 10%, none under 10 examples): returns the two JSONL bodies.
 */
export function splitDataset(content: string): { train: string; validation: string | null } {
  const rows = content.split('\n').filter((l) => l.trim());
  if (rows.length < 10) return { train: `${rows.join('\n')}\n`, validation: null };
  const train: string[] = [];
  const validation: string[] = [];
  rows.forEach((row, i) => {
    (i % 10 === 9 ? validation : train).push(row);
  });
  return { train: `${train.join('\n')}\n`, validation: `${validation.join('\n')}\n` };
}
