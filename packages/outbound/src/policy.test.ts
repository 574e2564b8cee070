import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAgent, outboundClient } from './connector.ts';
import { describeNetworkError, OUTBOUND_REFUSED_MESSAGE } from './describe-error.ts';
import { createOutboundPolicy, OutboundRefused, type Resolve } from './policy.ts';

/** A real listener on loopback that counts the requests that reach it. */
let server: Server;
let port: number;
let hits = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end();
      return;
    }
    res.end('secret');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const get = async (policy: ReturnType<typeof createOutboundPolicy>, origin: string, path = '/') => {
  const client = outboundClient(policy, origin);
  try {
    const res = await client.request({ method: 'GET', path });
    return await res.body.text();
  } finally {
    await client.destroy();
  }
};

describe('outbound policy at connect time', () => {
  it('refuses loopback literals, v4 and v6 and mapped, with no request arriving', async () => {
    const policy = createOutboundPolicy();
    const before = hits;
    for (const origin of [
      `http://127.0.0.1:${port}`,
      `http://[::1]:${port}`,
      `http://[::ffff:127.0.0.1]:${port}`,
    ]) {
      const err = await get(policy, origin).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboundRefused);
      expect(describeNetworkError(err)).toBe(OUTBOUND_REFUSED_MESSAGE);
    }
    expect(hits).toBe(before);
  });

  it('refuses a name that resolves to loopback (localhost), and a metadata name before any lookup', async () => {
    let lookups = 0;
    const policy = createOutboundPolicy({
      resolve: async (name) => {
        lookups++;
        return name === 'localhost' ? [{ address: '127.0.0.1', family: 4 }] : [];
      },
    });
    await expect(get(policy, `http://localhost:${port}`)).rejects.toMatchObject({ reason: 'loopback' });
    await expect(get(policy, 'http://metadata.google.internal')).rejects.toMatchObject({
      reason: 'metadata',
    });
    expect(lookups).toBe(1);
  });

  it('survives DNS rebinding: a name public when checked is refused when it turns private at connect', async () => {
    let answers = 0;
    const rebinding: Resolve = async () =>
      answers++ === 0 ? [{ address: '8.8.8.8', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    const policy = createOutboundPolicy({ resolve: rebinding });
    expect(await policy.checkUrl(`http://rebind.test:${port}/v1`)).toBeNull();
    const before = hits;
    await expect(get(policy, `http://rebind.test:${port}`)).rejects.toMatchObject({ reason: 'loopback' });
    expect(hits).toBe(before);
  });

  it('drops the refused answers of a name and dials a permitted one', async () => {
    const policy = createOutboundPolicy({
      allow: `127.0.0.1:${port}`,
      resolve: async () => [
        { address: '169.254.169.254', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    expect(await get(policy, `http://mixed.test:${port}`)).toBe('secret');
  });

  it('lets an allowed range through, per port when the entry names one', async () => {
    expect(await get(createOutboundPolicy({ allow: '127.0.0.0/8' }), `http://127.0.0.1:${port}`)).toBe(
      'secret',
    );
    expect(await get(createOutboundPolicy({ allow: `127.0.0.1:${port}` }), `http://127.0.0.1:${port}`)).toBe(
      'secret',
    );
    await expect(
      get(createOutboundPolicy({ allow: `127.0.0.1:${port + 1}` }), `http://127.0.0.1:${port}`),
    ).rejects.toBeInstanceOf(OutboundRefused);
    const byName = createOutboundPolicy({
      allow: 'vllm.internal',
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(await get(byName, `http://vllm.internal:${port}`)).toBe('secret');
  });

  it('never dials its own listen address, even when loopback is allowed', async () => {
    const policy = createOutboundPolicy({ allow: '127.0.0.0/8,::1' });
    policy.addSelf('127.0.0.1', port);
    await expect(get(policy, `http://127.0.0.1:${port}`)).rejects.toMatchObject({ reason: 'self' });
    const wildcard = createOutboundPolicy({ allow: '127.0.0.0/8' });
    wildcard.addSelf('0.0.0.0', port);
    await expect(get(wildcard, `http://127.0.0.1:${port}`)).rejects.toMatchObject({ reason: 'self' });
    expect(await policy.checkUrl(`http://127.0.0.1:${port}/v1`)).toMatchObject({
      message: 'points at maas itself',
    });
  });

  it('never dials a metadata address, even inside an allowed range', async () => {
    const policy = createOutboundPolicy({ allow: '169.254.0.0/16' });
    expect(await policy.checkUrl('http://169.254.169.254/latest/meta-data')).toMatchObject({
      reason: 'metadata',
    });
    expect(await policy.checkUrl('http://169.254.1.1/')).toBeNull();
  });

  it('checks redirects too: fetch through the agent refuses a hop to loopback', async () => {
    const origin = `http://redirector.test:${port}`;
    // the first name is allowed, the redirect target (a loopback literal) is not
    const policy = createOutboundPolicy({
      allow: 'redirector.test',
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const agent = outboundAgent(policy);
    const before = hits;
    const err = await fetch(`${origin}/redirect`, { dispatcher: agent }).catch((e: unknown) => e);
    expect(describeNetworkError(err)).toBe(OUTBOUND_REFUSED_MESSAGE);
    expect(hits).toBe(before + 1); // the redirect itself, never /secret
    await agent.close();
  });

  it('explains refusals at check time with the setting that allows them', async () => {
    const policy = createOutboundPolicy();
    expect((await policy.checkUrl('http://10.1.2.3:8000/v1'))?.message).toBe(
      'is a private address; a platform admin can allow it with MAAS_OUTBOUND_ALLOW',
    );
    const named = createOutboundPolicy({ resolve: async () => [{ address: '10.0.0.7', family: 4 }] });
    expect((await named.checkUrl('https://gpu.internal/v1'))?.message).toBe(
      'resolves to a private address; a platform admin can allow it with MAAS_OUTBOUND_ALLOW',
    );
    expect(await policy.checkUrl('https://203.0.113.9/v1')).toMatchObject({ reason: 'reserved' });
    expect(await named.checkUrl('https://api.example.com/v1')).toMatchObject({ reason: 'private' });
    const unresolvable = createOutboundPolicy({
      resolve: async () => Promise.reject(new Error('ENOTFOUND')),
    });
    expect(await unresolvable.checkUrl('https://not-yet.example/v1')).toBeNull();
  });

  it('describes network errors by class only', () => {
    expect(
      describeNetworkError(
        Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:80'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('connection refused');
    expect(describeNetworkError(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))).toBe(
      'host not found',
    );
    expect(describeNetworkError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })).toBe('TLS error');
    expect(describeNetworkError(new Error('something at 10.0.0.1'))).toBe('connection failed');
  });
});
