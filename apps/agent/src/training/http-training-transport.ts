import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type RunData, type TrainingTransport, trainingDesired } from '@maas/contracts/agent';

/**
 * The training channel of `maas agent` over HTTP, with the node credential the agent's own
 * transport keeps in `<dataDir>/node.json` (read at each call: it exists once the agent connected).
 */
export function createHttpTrainingTransport(opts: { server: string; dataDir: string }): TrainingTransport {
  const base = opts.server.replace(/\/+$/, '');
  const token = async () => {
    const cred = JSON.parse(await readFile(join(opts.dataDir, 'node.json'), 'utf8')) as {
      node_token?: string;
    };
    if (!cred.node_token) throw new Error('no node credential yet');
    return cred.node_token;
  };
  const call = async (method: string, path: string, body?: unknown, file?: string): Promise<unknown> => {
    const size = file ? (await stat(file)).size : 0;
    const res = await fetch(`${base}/api/v1/agent/training${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token()}`,
        ...(file ? { 'content-type': 'application/octet-stream', 'content-length': String(size) } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: file
        ? (Readable.toWeb(createReadStream(file)) as ReadableStream)
        : body === undefined
          ? null
          : JSON.stringify(body),
      signal: AbortSignal.timeout(file ? 600_000 : 60_000),
      ...(file ? { duplex: 'half' } : {}),
    } as RequestInit);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} training${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
  return {
    poll: async (body) => trainingDesired.parse(await call('POST', '/poll', body)),
    data: async (runId) => (await call('GET', `/runs/${encodeURIComponent(runId)}/data`)) as RunData,
    async upload(runId, a, path) {
      const q = new URLSearchParams({ attempt: String(a.attempt), kind: a.kind, step: String(a.step) });
      await call('PUT', `/runs/${encodeURIComponent(runId)}/artifacts?${q}`, undefined, path);
    },
  };
}
