import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type InputLine, MAX_LINES, validateInput } from './validate-input.ts';

const line = (customId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/embeddings',
    body: { model: 'emb', input: customId },
    ...extra,
  });

async function run(text: string | string[], chunk = 500) {
  const accepted: InputLine[][] = [];
  const body = Readable.from(typeof text === 'string' ? [text] : text);
  const result = await validateInput(
    body,
    '/v1/embeddings',
    async (lines) => void accepted.push(lines),
    chunk,
  );
  return { ...result, accepted };
}

describe('validateInput', () => {
  it('hands valid lines on in chunks, in file order, skipping blank lines (CRLF too)', async () => {
    const r = await run(`${line('a')}\r\n\r\n${line('b')}\n${line('c')}`, 2);
    expect(r.errors).toEqual([]);
    expect(r.total).toBe(3);
    expect(r.model).toBe('emb');
    expect(r.accepted.map((c) => c.map((l) => [l.line, l.customId]))).toEqual([
      [
        [1, 'a'],
        [3, 'b'],
      ],
      [[4, 'c']],
    ]);
  });

  it('reads a line split across chunks of the stream', async () => {
    const text = `${line('a')}\n${line('b')}\n`;
    const r = await run([text.slice(0, 17), text.slice(17, 60), text.slice(60)]);
    expect(r.accepted.flat().map((l) => l.customId)).toEqual(['a', 'b']);
  });

  it('reports every bad line with its code, param and number, and stores none', async () => {
    const r = await run(
      [
        line('a'),
        '[1,2]',
        line('a'),
        line('u', { url: '/v1/chat/completions' }),
        line('m', { method: 'PUT' }),
        JSON.stringify({ custom_id: 'n', method: 'POST', url: '/v1/embeddings', body: { input: 'x' } }),
        line('o', { body: { model: 'other', input: 'x' } }),
        JSON.stringify({ method: 'POST', url: '/v1/embeddings', body: { model: 'emb' } }),
      ].join('\n'),
    );
    expect(r.errors.map((e) => [e.code, e.line, e.param])).toEqual([
      ['invalid_json_line', 2, null],
      ['duplicate_custom_id', 3, 'custom_id'],
      ['mismatched_endpoint', 4, 'url'],
      ['invalid_method', 5, 'method'],
      ['missing_required_parameter', 6, 'body.model'],
      ['mismatched_model', 7, 'body.model'],
      ['missing_required_parameter', 8, 'custom_id'],
    ]);
    expect(r.accepted.flat()).toEqual([]);
  });

  it('refuses an empty file and more than 50,000 lines', async () => {
    expect((await run('\n\n')).errors.map((e) => e.code)).toEqual(['empty_file']);
    const many = Array.from({ length: MAX_LINES + 1 }, (_, i) => line(`l${i}`)).join('\n');
    const r = await run(many);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'too_many_tasks', line: MAX_LINES + 1 })]);
  });
});
