import { describe, expect, it } from 'vitest';
import { createStreamUsage } from './stream-usage.ts';

const delta = (content: string, extra = '') =>
  `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]${extra}}\n\n`;
const usage = (prompt: number, completion: number) =>
  `data: {"choices":[],"usage":{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion}}}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** Feeds `text` in pieces of `size` bytes (cutting events and even UTF-8 characters apart). */
function watch(text: string, size = 7) {
  const w = createStreamUsage('chat.completions');
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) w.feed(bytes.subarray(i, i + size));
  return w;
}

describe('stream usage watcher', () => {
  it('reads the usage and the end of a stream fed in pieces', () => {
    const w = watch(delta('héllo ') + delta('wörld') + usage(3, 2) + DONE);
    expect(w.usage).toMatchObject({ promptTokens: 3, completionTokens: 2 });
    expect(w.done).toBe(true);
    expect(w.text()).toBe('héllo wörld');
  });

  it('takes the last usage object that is not null, past `"usage": null` in every chunk', () => {
    const chunks = Array.from({ length: 2000 }, (_, i) => delta(`t${i}`, ',"usage":null')).join('');
    const w = watch(usage(1, 1) + chunks + usage(9, 4) + delta('after', ',"usage":null') + DONE, 4096);
    expect(w.usage).toMatchObject({ promptTokens: 9, completionTokens: 4 });
    expect(watch(chunks + DONE, 4096).usage).toBeNull();
  });

  it('is not fooled by the words in the generated text', () => {
    const w = watch(delta('say "usage": {"prompt_tokens": 99} and [DONE]') + usage(2, 5));
    expect(w.usage).toMatchObject({ promptTokens: 2, completionTokens: 5 });
    expect(w.done).toBe(false);
  });

  it('skips a malformed usage event for an earlier good one, and reads CRLF streams', () => {
    const crlf = (usage(4, 6) + delta('x') + DONE).replaceAll('\n', '\r\n');
    expect(watch(`${crlf}data: {"choices":[],"usage":{"prompt_tokens":\r\n\r\n`).usage).toMatchObject({
      promptTokens: 4,
      completionTokens: 6,
    });
    expect(watch(crlf).done).toBe(true);
  });

  it('answers for the bytes so far, and again after more arrive', () => {
    const w = createStreamUsage('chat.completions');
    w.feed(Buffer.from(delta('a')));
    expect(w.usage).toBeNull();
    expect(w.done).toBe(false);
    w.feed(Buffer.from(usage(1, 2) + DONE));
    expect(w.usage?.completionTokens).toBe(2);
    expect(w.done).toBe(true);
  });
});
