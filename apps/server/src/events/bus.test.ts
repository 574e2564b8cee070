import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type Bus, createMemoryBus, createRedisBus, topic } from './bus.ts';

const redisUrl = process.env.MAAS_TEST_REDIS_URL || undefined;

const PINGED = topic('test.pinged', z.object({ n: z.number().int() }));

/** Waits until `check` passes (Redis delivers asynchronously). */
async function eventually(check: () => void, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const kinds: [string, (log: pino.Logger) => Promise<Bus>][] = [
  ['memory', async (log) => createMemoryBus(log)],
];
if (redisUrl) kinds.push(['redis', (log) => createRedisBus(redisUrl, log)]);

describe.each(kinds)('%s bus', (kind, open) => {
  const opened: Bus[] = [];
  const raw: Redis[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
    for (const r of raw.splice(0)) r.disconnect();
  });

  const setup = async () => {
    const log = pino({ level: 'silent' });
    const warn = vi.spyOn(log, 'warn');
    const bus = await open(log);
    opened.push(bus);
    return { bus, warn };
  };

  it('hands each subscriber the typed payload, and nothing after it unsubscribes', async () => {
    const { bus } = await setup();
    const seen: number[] = [];
    const unsubscribe = bus.subscribe(PINGED, ({ n }) => seen.push(n));
    if (kind === 'redis') await new Promise((r) => setTimeout(r, 50)); // SUBSCRIBE reaches Redis
    await bus.publish(PINGED, { n: 1 });
    await eventually(() => expect(seen).toEqual([1]));
    unsubscribe();
    await bus.publish(PINGED, { n: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([1]);
  });

  it('drops a payload that does not match the topic, with a warning, and keeps delivering', async () => {
    const { bus, warn } = await setup();
    const seen: unknown[] = [];
    bus.subscribe(PINGED, (payload) => seen.push(payload));
    if (kind === 'redis') await new Promise((r) => setTimeout(r, 50));
    // what an older or foreign publisher could send
    await bus.publish(PINGED, { n: 'one' } as never);
    await bus.publish(PINGED, null as never);
    await bus.publish(PINGED, { n: 3, extra: true } as never);
    await eventually(() => expect(seen).toEqual([{ n: 3 }]));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]?.[1]).toMatch(/malformed payload dropped/);
  });

  it.skipIf(kind !== 'redis')(
    'keeps the Redis channel maas:<name> (replicas of other versions)',
    async () => {
      const { bus, warn } = await setup();
      const seen: unknown[] = [];
      bus.subscribe(PINGED, (payload) => seen.push(payload));
      await new Promise((r) => setTimeout(r, 50));
      const other = new Redis(redisUrl!);
      raw.push(other);
      await other.publish('maas:test.pinged', 'not json');
      await other.publish('maas:test.pinged', JSON.stringify({ n: 7 }));
      await eventually(() => expect(seen).toEqual([{ n: 7 }]));
      expect(warn).toHaveBeenCalledTimes(1);
    },
  );
});
