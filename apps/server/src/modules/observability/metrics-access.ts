import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { safeEqual, sha256Hex } from '../../crypto/secret-box.ts';
import type { Metrics } from './metrics.ts';

/**
 * Who may scrape `/metrics`. Its labels name models, providers and routes, so it is never open on
 * the main port: a scraper sends `MAAS_METRICS_TOKEN` as a bearer token, or scrapes a listener of its
 * own (`MAAS_METRICS_HOST`/`MAAS_METRICS_PORT`) that only the monitoring network reaches.
 */
export interface MetricsAccess {
  token: string | undefined;
  /** a separate listener serves /metrics; the main port has none */
  separate: boolean;
}

export type ScrapeVerdict = 'ok' | 'unauthenticated' | 'off';

export function checkScrape(access: MetricsAccess, authorization: string | undefined): ScrapeVerdict {
  if (!access.token) return access.separate ? 'ok' : 'off';
  const [scheme, value] = (authorization ?? '').split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !value) return 'unauthenticated';
  // hashing first makes the comparison constant-time whatever the length sent
  return safeEqual(sha256Hex(value), sha256Hex(access.token)) ? 'ok' : 'unauthenticated';
}

/** The separate metrics listener: GET /metrics (with the token when one is set), nothing else. */
export async function listenForMetrics(
  metrics: Metrics,
  listen: { host: string; port: number },
  token: string | undefined,
): Promise<{ server: Server; url: string }> {
  const access: MetricsAccess = { token, separate: true };
  const server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (checkScrape(access, req.headers.authorization) !== 'ok') {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
        .end('unauthenticated\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { server, url: `http://${host}:${port}/metrics` };
}
