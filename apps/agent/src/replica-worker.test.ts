import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredReplica, ReplicaState } from '@maas/contracts/agent';
import { createOutboundPolicy } from '@maas/outbound';
import { startModelFileServer } from '@maas/testkit/src/gguf/index.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplicaWorker } from './replica-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'maas-worker-'));
const weights = join(dir, 'weights.bin');
writeFileSync(weights, Buffer.alloc(200_000, 7));
// A stand-in runtime: an HTTP server whose /health answers once it listens.
const script = join(dir, 'runtime.mjs');
writeFileSync(
  script,
  "import { createServer } from 'node:http';\nconst [port, model] = process.argv.slice(2);\nconsole.log('serving', model);\ncreateServer((req, res) => res.end('ok')).listen(Number(port), '127.0.0.1');\n",
);
const files = await startModelFileServer({ '/org/repo/resolve/main/weights.bin': weights });
afterAll(() => files.close());
/** the model file server listens on loopback, as a node's admin would allow a local mirror */
const loopbackAllowed = createOutboundPolicy({ allow: '127.0.0.0/8' });

/** A port the kernel just handed out (fixed numbers collide with other suites' ephemeral ports). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
const ports = await Promise.all(Array.from({ length: 8 }, freePort));
let next = 0;
function worker(over: Partial<DesiredReplica> = {}) {
  const states: ReplicaState[] = [];
  const port = over.port ?? ports[next++]!;
  const id = `rep_test${port}`;
  const spec: DesiredReplica = {
    id,
    deployment_id: 'dep_test',
    model_name: 'm',
    runtime: 'custom',
    source: 'hf://org/repo/weights.bin',
    checksum: null,
    port,
    gpu_indexes: [],
    memory_bytes: 0,
    context_length: null,
    runtime_args: [],
    env: {},
    command: `${process.execPath} ${script} {port} {model_path}`,
    health_path: '/health',
    api_key: 'test-replica-credential',
    ...over,
  };
  const w = new ReplicaWorker(spec, {
    dir: join(dir, 'replicas', id),
    cacheDir: join(dir, 'models'),
    bindHost: '127.0.0.1',
    hfEndpoint: files.url,
    outbound: loopbackAllowed,
    gpus: () => [],
    onChange: () => {
      if (states.at(-1) !== w.state) states.push(w.state);
    },
    log: () => {},
    timing: { healthIntervalMs: 100, startTimeoutMs: 10_000, maxBackoffMs: 1_000, stopGraceMs: 2_000 },
  });
  return { w, states };
}

const until = async (check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('replica worker', () => {
  it('downloads, starts, health-checks, restarts a crashed runtime with backoff, and stops it', async () => {
    const { w, states } = worker();
    w.start();
    await until(() => w.state === 'running');
    expect(states).toEqual(['downloading', 'starting', 'running']);
    const first = w.report();
    expect(first.pid).toBeGreaterThan(0);
    await w.pollLogs();
    expect(w.report().logs?.join('\n') ?? '').toContain('serving');
    process.kill(first.pid!, 'SIGKILL');
    await until(() => w.restarts === 1 && w.state === 'running');
    expect(states).toContain('failed');
    expect(w.report().pid).not.toBe(first.pid);
    const pid = w.report().pid!;
    await w.stop();
    expect(w.state).toBe('stopped');
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('fails for good when the model file is not on the node, or the port is taken', async () => {
    const missing = worker({ source: '/nowhere/model.gguf' });
    missing.w.start();
    await until(() => missing.w.state === 'failed');
    expect(missing.w.report()).toMatchObject({
      fatal: true,
      reason: 'model file not found on this node: /nowhere/model.gguf',
    });

    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const taken = worker({ source: weights, port: (blocker.address() as { port: number }).port });
    taken.w.start();
    await until(() => taken.w.state === 'failed');
    expect(taken.w.report()).toMatchObject({
      fatal: true,
      reason: `port ${taken.w.spec.port} is in use on this node`,
    });
    blocker.close();
  });

  it('refuses a download whose checksum does not match', async () => {
    const { w } = worker({
      source: `${files.url}/org/repo/resolve/main/weights.bin`,
      checksum: `sha256:${'a'.repeat(64)}`,
    });
    w.start();
    await until(() => w.state === 'failed');
    expect(w.report()).toMatchObject({ fatal: true });
    expect(w.reason).toMatch(/checksum mismatch/);
  });
});
