import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool } from 'undici';

/**
 * A round-robin HTTP load balancer on loopback, on undici pools (as a Kubernetes Service or nginx
 * would sit in front of the replicas). A backend that refuses the connection (stopped, restarting)
 * is skipped for `downMs` and the request goes to the next one: it never reached a replica, so
 * that retry is safe, as nginx's `proxy_next_upstream error` does for refused connections. Any
 * other failure (a connection cut mid-request by a killed replica) answers 502 and is left to the
 * client's retries, because the replica may have served it.
 */
export interface Balancer {
  url: string;
  stats: {
    proxied: number;
    skippedRefused: number;
    badGateway: number;
    badGatewayCauses: Record<string, number>;
  };
  /** takes a backend out of the rotation (as endpoints drop a terminating pod) or puts it back */
  setInRotation(index: number, inRotation: boolean): void;
  close(): Promise<void>;
}

const REFUSED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);

export async function startBalancer(backends: string[], { downMs = 500 } = {}): Promise<Balancer> {
  const pools = backends.map((url) => ({
    url,
    pool: new Pool(url, { connections: 64 }),
    downUntil: 0,
    inRotation: true,
  }));
  const stats = {
    proxied: 0,
    skippedRefused: 0,
    badGateway: 0,
    badGatewayCauses: {} as Record<string, number>,
  };
  let next = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    for (let attempt = 0; attempt < pools.length * 2; attempt++) {
      const now = Date.now();
      const candidates = pools.filter((p) => p.inRotation && p.downUntil <= now);
      const target = (candidates.length ? candidates : pools)[next++ % (candidates.length || pools.length)]!;
      try {
        const answer = await target.pool.request({
          path: req.url ?? '/',
          method: (req.method ?? 'GET') as 'GET',
          headers,
          body: body.length ? body : undefined,
        });
        stats.proxied += 1;
        res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
        for await (const chunk of answer.body) res.write(chunk);
        res.end();
        return;
      } catch (err) {
        const code = String(
          (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code,
        );
        if (REFUSED.has(code) && !res.headersSent) {
          stats.skippedRefused += 1;
          target.downUntil = Date.now() + downMs;
          continue;
        }
        stats.badGateway += 1;
        stats.badGatewayCauses[code] = (stats.badGatewayCauses[code] ?? 0) + 1;
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: { message: `bad gateway: ${code}`, type: 'bad_gateway', code: 'bad_gateway' },
            }),
          );
        } else res.destroy();
        return;
      }
    }
    stats.badGateway += 1;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: { message: 'no replica answered', type: 'unavailable', code: 'unavailable' } }),
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setInRotation(index, inRotation) {
      pools[index]!.inRotation = inRotation;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all(pools.map((p) => p.pool.destroy()));
    },
  };
}
