import { describe, expect, it } from 'vitest';
import { createPassthroughStream, dropUsageEvents, lastEventEnd } from './passthrough-stream.ts';

const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":"${content}"}}]}\n\n`;
const usage = 'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n';
const opts = { endpoint: 'chat.completions' as const, model: 'm', requestId: 'r' };

const run = (parts: string[], hide: boolean) => {
  const t = createPassthroughStream({ ...opts, clientWantsUsage: !hide, hideUsageChunk: hide });
  let out = '';
  for (const p of parts) {
    const o = t.push(Buffer.from(p));
    if (o !== null) out += o.toString();
  }
  const rest = t.end();
  if (rest !== null) out += rest.toString();
  return { out, t };
};

describe('pass-through stream', () => {
  it('passes bytes unchanged and reads usage when the client asked for it', () => {
    const parts = [chunk('a'), chunk('b') + usage.slice(0, 20), usage.slice(20), 'data: [DONE]\n\n'];
    const { out, t } = run(parts, false);
    expect(out).toBe(parts.join(''));
    expect(t.usage).toMatchObject({ promptTokens: 3, completionTokens: 2 });
    expect(t.complete).toBe(true);
  });

  it('leaves out the usage-only chunk, even split across reads, and still reads it', () => {
    const whole = `${chunk('a') + chunk('b') + usage}data: [DONE]\n\n`;
    const parts = [whole.slice(0, 37), whole.slice(37, 150), whole.slice(150)];
    const { out, t } = run(parts, true);
    expect(out).toBe(`${chunk('a') + chunk('b')}data: [DONE]\n\n`);
    expect(t.usage?.completionTokens).toBe(2);
    expect(t.completionText()).toBe('ab');
  });

  it('keeps chunks that carry usage next to content, and handles CRLF', () => {
    const withContent = 'data: {"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":1}}\r\n\r\n';
    expect(dropUsageEvents(Buffer.from(withContent + usage.replaceAll('\n', '\r\n')))).toBe(withContent);
    expect(lastEventEnd(Buffer.from('data: a\r\n\r\ndata: b'))).toBe(11);
    expect(lastEventEnd(Buffer.from('data: a'))).toBe(-1);
  });
});
