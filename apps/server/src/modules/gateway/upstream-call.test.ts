import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortSwitch } from './abort-switch.ts';
import { BodyTooLargeError, callUpstream } from './upstream-call.ts';

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'a' });
    res.write('{"a":');
    setTimeout(() => res.end('1}'), 5);
  },
  '/big': (_req, res) => {
    res.writeHead(200);
    res.end('x'.repeat(10_000));
  },
  '/error': (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"boom"}}');
  },
  '/cut': (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 5);
  },
  '/events': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: ${n}\n\n`);
      if (++n === 5) {
        clearInterval(timer);
        res.end();
      }
    }, 5);
  },
  '/hang': (_req, res) => {
    res.writeHead(200);
    res.write('first');
  },
  // 4 MiB in 64 KiB chunks, written as fast as the socket takes them
  '/flood': (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 'f');
    let left = 64;
    const more = () => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  },
};

let server: Server;
let pool: Pool;
const call = (path: string, signal = new AbortSwitch()) =>
  callUpstream(
    pool,
    { method: 'POST', path, body: '{}', headers: { 'content-type': 'application/json' } },
    signal,
  );

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    routes[req.url ?? '']?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // one connection: a call that does not free it blocks the next one
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 1 });
});

afterAll(async () => {
  await pool.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('an upstream call through undici dispatch', () => {
  it('gives the head, then the whole body joined from its chunks', async () => {
    const answer = await call('/json');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-upstream']).toBe('a');
    expect((await answer.whole(1_000)).toString()).toBe('{"a":1}');
  });

  it('refuses a body over the limit and frees the connection', async () => {
    const answer = await call('/big');
    await expect(answer.whole(1_000)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect((await (await call('/json')).whole(1_000)).toString()).toBe('{"a":1}');
  });

  it('reads an error answer like any other', async () => {
    const answer = await call('/error');
    expect(answer.statusCode).toBe(500);
    expect(JSON.parse((await answer.whole(1_000)).toString())).toEqual({ error: { message: 'boom' } });
  });

  it('fails, rather than hanging, when the upstream cuts the body short', async () => {
    const answer = await call('/cut');
    await expect(answer.whole(1_000)).rejects.toThrow();
  });

  it('stops at once when its switch is thrown, before or during the body', async () => {
    const early = new AbortSwitch();
    early.abort();
    await expect(call('/json', early)).rejects.toThrow(/aborted/i);

    const signal = new AbortSwitch();
    const answer = await call('/hang', signal);
    const chunks = answer.chunks();
    expect((await chunks.next()).value?.toString()).toBe('first');
    const waiting = chunks.next();
    signal.abort();
    await expect(waiting).rejects.toThrow(/aborted/i);
    expect((await (await call('/json')).whole(1_000)).toString()).toBe('{"a":1}');
  });

  it('streams chunk by chunk, holding back the upstream while the reader is behind', async () => {
    const answer = await call('/flood');
    const chunks = answer.chunks();
    const first = await chunks.next();
    expect(first.done).toBe(false);
    // the reader sleeps: the upstream is paused instead of the whole 4 MiB gathering in memory
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((answer as unknown as { queued: number }).queued).toBeLessThanOrEqual(256 * 1024);
    let total = first.value?.length ?? 0;
    for await (const chunk of chunks) total += chunk.length;
    expect(total).toBe(4 * 1024 * 1024);
  });

  it('hands over the chunks that arrived while the reader was away as one', async () => {
    const answer = await call('/events');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const got: string[] = [];
    for await (const chunk of answer.chunks()) got.push(chunk.toString());
    expect(got).toEqual(['data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n']);
  });

  it('frees the connection of an answer left unread when disposed', async () => {
    const answer = await call('/hang');
    answer.dispose();
    expect((await (await call('/json')).whole(1_000)).toString()).toBe('{"a":1}');
  });
});
