import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type AgentTransport,
  type DesiredState,
  desiredState,
  registerResponse,
  type StatusReport,
} from '@maas/contracts/agent';
import { EventSourceParserStream } from 'eventsource-parser/stream';

export interface HttpTransportOptions {
  server: string;
  /** needed the first time only; the node credential is kept in `<dataDir>/node.json` */
  joinToken?: string | undefined;
  dataDir: string;
  name: string;
  hostname: string;
  labels?: Record<string, string> | undefined;
}

interface Credential {
  server: string;
  node_id: string;
  node_token: string;
  heartbeat_interval_ms: number;
}

export class AgentHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The agent protocol over HTTP: JSON requests and a server-sent-events watch. */
export function createHttpTransport(opts: HttpTransportOptions): AgentTransport {
  const base = opts.server.replace(/\/+$/, '');
  const file = join(opts.dataDir, 'node.json');
  let cred: Credential | null = null;

  const call = async (method: string, path: string, body?: unknown, auth = true): Promise<unknown> => {
    const res = await fetch(`${base}/api/v1/agent${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(auth && cred ? { authorization: `Bearer ${cred.node_token}` } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {}
      throw new AgentHttpError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return text ? JSON.parse(text) : null;
  };

  /** A node the server knows already is re-registered only with its own credential (`previous`). */
  const register = async (previous?: Credential | null): Promise<Credential> => {
    if (!opts.joinToken)
      throw new Error(`no node credential for ${base} in ${file}: pass --token JOIN_TOKEN`);
    const res = registerResponse.parse(
      await call(
        'POST',
        '/register',
        {
          join_token: opts.joinToken,
          ...(previous ? { node_token: previous.node_token } : {}),
          name: opts.name,
          hostname: opts.hostname,
          ...(opts.labels ? { labels: opts.labels } : {}),
        },
        false,
      ),
    );
    const saved: Credential = {
      server: base,
      node_id: res.node_id,
      node_token: res.node_token,
      heartbeat_interval_ms: res.heartbeat_interval_ms,
    };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(saved), { mode: 0o600 });
    return saved;
  };

  return {
    async connect() {
      const stored = await readFile(file, 'utf8').then(
        (t) => JSON.parse(t) as Credential,
        () => null,
      );
      cred = stored && stored.server === base ? stored : await register();
      return { nodeId: cred.node_id, heartbeatMs: cred.heartbeat_interval_ms };
    },

    async report(body: StatusReport) {
      try {
        return (await call('POST', '/status', body)) as { desired_version: string };
      } catch (err) {
        // The node was deleted or its credential replaced: register again when we can.
        if (err instanceof AgentHttpError && err.status === 401 && opts.joinToken) {
          cred = await register(cred);
          return (await call('POST', '/status', body)) as { desired_version: string };
        }
        throw err;
      }
    },

    async desired(): Promise<DesiredState> {
      return desiredState.parse(await call('GET', '/desired'));
    },

    async watch(onDesired, signal) {
      const res = await fetch(`${base}/api/v1/agent/watch`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${cred?.node_token ?? ''}` },
        signal,
      });
      if (!res.ok || !res.body) throw new AgentHttpError(res.status, `watch: ${res.status}`);
      const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const event of events) {
        if (event.event === 'desired') onDesired(desiredState.parse(JSON.parse(event.data)));
      }
    },
  };
}
