import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunData, type TrainingTransport, trainingDesired } from './protocol.ts';

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
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}/api/v1/agent/training${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} training${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
  return {
    poll: async (body) => trainingDesired.parse(await call('POST', '/poll', body)),
    data: async (runId) => (await call('GET', `/runs/${encodeURIComponent(runId)}/data`)) as RunData,
  };
}
