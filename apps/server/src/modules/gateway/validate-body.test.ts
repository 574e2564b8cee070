import { describe, expect, it } from 'vitest';
import { AppError } from '../../http/app-error.ts';
import { chatBody, chatBodyAccepted, validateBody } from './validate-body.ts';

const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const bodies: Record<string, unknown>[] = [
  ok,
  { ...ok, stream: true, stream_options: { include_usage: true } },
  { ...ok, stream: null, stream_options: null, n: null },
  { ...ok, n: 1 },
  { ...ok, n: 128, extra: { anything: [1, 2] } },
  { ...ok, model: 'x'.repeat(256) },
  { ...ok, stream_options: { include_usage: null, other: 1 } },
  // refused by the schema
  { ...ok, model: '' },
  { ...ok, model: 'x'.repeat(257) },
  { ...ok, model: 3 },
  { messages: ok.messages },
  { ...ok, messages: [] },
  { ...ok, messages: {} },
  { ...ok, messages: [null] },
  { ...ok, messages: [[]] },
  { ...ok, messages: [{ content: 'no role' }] },
  { ...ok, messages: [{ role: '' }] },
  { ...ok, messages: [{ role: 1 }] },
  { ...ok, messages: [ok.messages[0], 'text'] },
  { ...ok, n: 0 },
  { ...ok, n: 129 },
  { ...ok, n: 1.5 },
  { ...ok, n: '2' },
  { ...ok, stream: 'true' },
  { ...ok, stream_options: [] },
  { ...ok, stream_options: 'yes' },
  { ...ok, stream_options: { include_usage: 'yes' } },
];

describe('the chat body check', () => {
  it('accepts exactly what the schema accepts', () => {
    for (const body of bodies) {
      expect([JSON.stringify(body), chatBodyAccepted(body)]).toEqual([
        JSON.stringify(body),
        chatBody.safeParse(body).success,
      ]);
    }
  });

  it('still names the bad field of a refused body', () => {
    const refused = () => validateBody('chat.completions', { ...ok, n: 0 });
    expect(refused).toThrow(AppError);
    expect(refused).toThrow(/Invalid 'n'/);
    expect(validateBody('chat.completions', ok)).toBe(ok);
  });
});
