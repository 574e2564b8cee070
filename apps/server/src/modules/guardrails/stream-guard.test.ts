import { describe, expect, it } from 'vitest';
import type { StreamTranslator } from '../gateway/adapters/types.ts';
import type { Violation } from './check.ts';
import { compileGuardrail, pipelineOf } from './compile.ts';
import { guardStream } from './stream-guard.ts';

/** The identity translator: OpenAI chunks pass through as they come. */
function passThrough(): StreamTranslator {
  let done = false;
  return {
    push(chunk) {
      if (chunk.toString().includes('[DONE]')) done = true;
      return chunk;
    },
    end: () => null,
    usage: null,
    get complete() {
      return done;
    },
    completionText: () => '',
  };
}

const guardrail = (kind: 'pii' | 'deny_list', action: 'mask' | 'block', config: Record<string, unknown>) =>
  compileGuardrail({
    id: `grd_${kind}`,
    orgId: 'org_1',
    name: kind,
    kind,
    action,
    stages: ['output'],
    config,
    failOpen: false,
    enabled: true,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  });

const chunk = (content: string) =>
  Buffer.from(`data: ${JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content } }] })}\n\n`);

function run(parts: string[], guards: ReturnType<typeof guardrail>[]) {
  const blocks: Violation[] = [];
  const t = guardStream(
    passThrough(),
    pipelineOf(guards),
    () => {},
    (v) => blocks.push(v),
  );
  let out = '';
  for (const p of parts) out += t.push(chunk(p)) ?? '';
  out += t.push(Buffer.from('data: [DONE]\n\n')) ?? '';
  out += t.end() ?? '';
  const text = out
    .split('\n\n')
    .filter((f) => f.startsWith('data: {') && !f.includes('"error"'))
    .map((f) => JSON.parse(f.slice(6)).choices[0].delta.content)
    .join('');
  return { out, text, blocks, complete: t.complete };
}

describe('guardStream', () => {
  it('masks an email split across many chunks; the rest of the text arrives intact', () => {
    const words = `${'lorem ipsum '.repeat(20)}reach me at jane.doe@example.com today ${'dolor '.repeat(30)}`;
    const parts = words.match(/.{1,3}/gs)!;
    const { text, out } = run(parts, [guardrail('pii', 'mask', {})]);
    expect(out).not.toContain('jane.doe');
    expect(text).toBe(words.replace('jane.doe@example.com', '[EMAIL]'));
  });

  it('blocks a denied word split across chunks before any part of it leaves, and ends with an error event', () => {
    const parts = ['x'.repeat(300), ' the code is SEC', 'RET', '-42 and more', ' text'.repeat(50)];
    const { out, blocks, complete } = run(parts, [
      guardrail('deny_list', 'block', { keywords: ['SECRET-42'] }),
    ]);
    expect(out).not.toMatch(/SEC|RET-42/);
    expect(out).toContain('"code":"content_policy_violation"');
    expect(out).not.toContain('[DONE]');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.rule).toBe('keyword:0');
    expect(complete).toBe(true);
    // what came before the hold-back window was streamed
    expect(out).toContain('x'.repeat(100));
  });
});
