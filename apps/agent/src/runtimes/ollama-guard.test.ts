import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthy } from '../supervisor/probes.ts';

/**
 * The ollama guard in front of a stand-in `ollama` (a node script that serves /api/version and
 * /v1/models on OLLAMA_HOST and records `create`): the model is imported before the guard opens its
 * port, and only requests with the replica credential get through.
 */
const dir = mkdtempSync(join(tmpdir(), 'maas-ollama-guard-'));
const fakeOllama = join(dir, 'ollama');
writeFileSync(
  fakeOllama,
  `#!${process.execPath}
const { createServer } = require('node:http');
const { writeFileSync } = require('node:fs');
const [cmd, ...rest] = process.argv.slice(2);
const [host, port] = process.env.OLLAMA_HOST.split(':');
if (cmd === 'create') {
  writeFileSync(${JSON.stringify(join(dir, 'created'))}, JSON.stringify({ rest, host, key: process.env.MAAS_REPLICA_API_KEY ?? null }));
  process.exit(0);
}
createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null, bound: host }));
}).listen(Number(port), host);
`,
);
chmodSync(fakeOllama, 0o700);
const guard = fileURLToPath(new URL('./ollama-guard.mjs', import.meta.url));
const KEY = 'maas-replica-test-credential-0123456789';

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

let child: ChildProcess;
let port: number;
const output: string[] = [];

beforeAll(async () => {
  port = await freePort();
  child = spawn(
    process.execPath,
    [
      guard,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--name',
      'tiny',
      '--modelfile',
      join(dir, 'Modelfile'),
      '--ollama',
      fakeOllama,
    ],
    { env: { PATH: process.env.PATH, MAAS_REPLICA_API_KEY: KEY }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (c: Buffer) => output.push(c.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await healthy(port, '/api/version', { host: '127.0.0.1', apiKey: KEY }))) {
    if (Date.now() > deadline) throw new Error(`guard did not come up: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(() => {
  child?.kill('SIGTERM');
});

describe('ollama guard', () => {
  it('imports the model (on the loopback ollama, without the credential) before it listens', () => {
    expect(existsSync(join(dir, 'created'))).toBe(true);
    const created = JSON.parse(readFileSync(join(dir, 'created'), 'utf8'));
    expect(created).toMatchObject({
      rest: ['tiny', '-f', join(dir, 'Modelfile')],
      host: '127.0.0.1',
      key: null,
    });
  });

  it('answers 401 without the replica credential or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: KEY }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers });
      expect(res.status).toBe(401);
      expect((await res.json()).error.type).toBe('authentication_error');
    }
  });

  it('passes authorised requests on to ollama, without the credential', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/models?x=1`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/v1/models?x=1', auth: null, bound: '127.0.0.1' });
  });
});
