import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { healthy, listenError, probeHost } from './probes.ts';

describe('probes', () => {
  it('tells a port in use from an address that is not this node’s', async () => {
    const srv = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const { port } = srv.address() as { port: number };
    expect(await listenError(port, '127.0.0.1')).toBe('EADDRINUSE');
    srv.close();
    // 192.0.2.0/24 is TEST-NET-1: never an address of this machine
    expect(await listenError(port, '192.0.2.1')).toBe('EADDRNOTAVAIL');
  });

  it('checks health where the runtime listens, with the replica credential', async () => {
    const seen: (string | undefined)[] = [];
    const srv = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.statusCode = req.headers.authorization === 'Bearer k-123' ? 200 : 401;
      res.end();
    }).listen(0, '127.0.0.2');
    await new Promise((r) => srv.once('listening', r));
    const { port } = srv.address() as { port: number };
    expect(await healthy(port, '/health', { host: '127.0.0.2', apiKey: 'k-123' })).toBe(true);
    expect(await healthy(port, '/health', { host: '127.0.0.2' })).toBe(false);
    expect(await healthy(port, '/health', { host: '0.0.0.0', apiKey: 'k-123' })).toBe(false);
    expect(seen).toEqual(['Bearer k-123', undefined]);
    srv.close();
    expect(probeHost('::')).toBe('127.0.0.1');
    expect(probeHost('fd00::7')).toBe('[fd00::7]');
  });
});
