import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOutboundPolicy, outboundAgent } from '@maas/outbound';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOnce } from './deliver.ts';
import { eventBody } from './deliveries.ts';
import { newSigningSecret } from './signing.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler = (_req, _body, res) => res.end('ok');
let hits = 0;
let server: Server;
let url: string;
const allowed = outboundAgent(createOutboundPolicy({ allow: '127.0.0.0/8' }), { timeout: 2_000 });
const refused = outboundAgent(createOutboundPolicy({ allow: '' }), { timeout: 2_000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await allowed.close();
  await refused.close();
});

const secret = newSigningSecret();
const payload = eventBody('evt_x', 'batch.completed', new Date(), { id: 'batch_x' });
const target = () => ({ url, messageId: 'whd_x', payload, secrets: [secret] });

describe('deliverOnce', () => {
  it('POSTs the exact body with headers the openai SDK verifies; a 2xx is success', async () => {
    let seen: { body: string; headers: IncomingMessage['headers'] } | undefined;
    handler = (req, body, res) => {
      seen = { body, headers: req.headers };
      res.writeHead(204).end();
    };
    const out = await deliverOnce(target(), { dispatcher: allowed });
    expect(out).toEqual({ ok: true, gone: false, status: 204, error: null, snippet: null });
    expect(seen!.body).toBe(payload);
    expect(seen!.headers['content-type']).toBe('application/json');
    const client = new OpenAI({ apiKey: 'x', webhookSecret: secret });
    const event = await client.webhooks.unwrap(seen!.body, seen!.headers as Record<string, string>);
    expect(event).toMatchObject({ id: 'evt_x', type: 'batch.completed', data: { id: 'batch_x' } });
  });

  it('reports a 500 with a short, secret-free snippet; a 410 as gone; a 3xx is not followed', async () => {
    handler = (_req, _body, res) => res.writeHead(500).end(`boom ${secret} ${'x'.repeat(10_000)}`);
    const failed = await deliverOnce(target(), { dispatcher: allowed });
    expect(failed).toMatchObject({ ok: false, gone: false, status: 500, error: 'the receiver answered 500' });
    expect(failed.snippet!.length).toBeLessThanOrEqual(200);
    expect(failed.snippet).not.toContain(secret.slice(6, 20));
    handler = (_req, _body, res) => res.writeHead(410).end();
    expect(await deliverOnce(target(), { dispatcher: allowed })).toMatchObject({
      ok: false,
      gone: true,
      status: 410,
    });
    handler = (_req, _body, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    expect(await deliverOnce(target(), { dispatcher: allowed })).toMatchObject({ ok: false, status: 302 });
  });

  it('times out a receiver that never answers', async () => {
    handler = () => {};
    const started = Date.now();
    const out = await deliverOnce(target(), { dispatcher: allowed, timeoutMs: 300 });
    expect(out).toMatchObject({ ok: false, status: null, error: 'timed out' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('never connects where the outbound policy refuses', async () => {
    const before = hits;
    const out = await deliverOnce(target(), { dispatcher: refused });
    expect(out).toMatchObject({
      ok: false,
      status: null,
      error: 'address not allowed by the outbound policy',
    });
    expect(hits).toBe(before);
  });
});
