import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Agent, buildConnector, Client, errors, fetch, Pool } from './undici.ts';

const require = createRequire(import.meta.url);

describe("undici's parts, each from its own file", () => {
  it('give working dispatchers with request() before the index is loaded, and a fetch', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const pool = new Pool(`http://127.0.0.1:${port}`);
    const res = await pool.request({ method: 'GET', path: '/' });
    expect(await res.body.text()).toBe('ok');
    await pool.close();
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    server.close();
  });

  it("are the classes undici's index exports", () => {
    const full = require('undici') as typeof import('undici');
    expect(Pool).toBe(full.Pool);
    expect(Client).toBe(full.Client);
    expect(Agent).toBe(full.Agent);
    expect(buildConnector).toBe(full.buildConnector);
    expect(errors.SocketError).toBe(full.errors.SocketError);
  });
});
