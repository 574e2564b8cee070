import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { lazyChildLogger } from './lazy-child-logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger(level, out), lines };
}

describe('the lazy request logger', () => {
  it('writes with the request binding, redacted, at enabled levels only', async () => {
    const { logger, lines } = capture('warn');
    const child = lazyChildLogger(logger, { reqId: 'req_1' }, {}) as unknown as Logger;
    child.info('not written');
    child.debug({ x: 1 }, 'not written either');
    child.warn({ req: { headers: { authorization: 'Bearer sk-secret' } } }, 'written');
    child.error(new Error('boom'));
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req_1', 'written'],
      ['req_1', 'boom'],
    ]);
    expect(JSON.stringify(lines[0])).not.toContain('sk-secret');
    expect(child.isLevelEnabled('info')).toBe(false);
    expect(child.level).toBe('warn');
  });

  it('makes no pino child until a line is written', () => {
    const logger = pino({ level: 'warn' });
    let children = 0;
    const counting = Object.create(logger, {
      child: {
        value: (...args: Parameters<typeof logger.child>) => {
          children++;
          return logger.child(...args);
        },
      },
    });
    const child = lazyChildLogger(counting, { reqId: 'req_2' }, {}) as unknown as Logger;
    child.info('below the level');
    expect(children).toBe(0);
    expect(child.child({ a: 1 }).bindings()).toEqual({ reqId: 'req_2', a: 1 });
    expect(children).toBe(1);
  });

  it('follows a level set on it', async () => {
    const { logger, lines } = capture('warn');
    const child = lazyChildLogger(logger, { reqId: 'req_3' }, {});
    child.level = 'debug';
    child.debug('now written');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['now written']);
    expect(logger.level).toBe('warn');
  });
});
