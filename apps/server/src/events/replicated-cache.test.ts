import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Bus, createMemoryBus, createRedisBus } from './bus.ts';
import { changeTopic } from './change-topic.ts';
import { createReplicatedCache, type ReplicatedCacheOptions } from './replicated-cache.ts';

const redisUrl = process.env.MAAS_TEST_REDIS_URL || undefined;

/** Waits until `check` passes. */
async function eventually(check: () => void, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The shared "database" the replicas read, with counters of the reads. */
function fakeTable() {
  const rows = new Map<string, string>();
  const reads = { all: 0, one: 0 };
  return {
    rows,
    reads,
    loadAll: async () => {
      reads.all++;
      return [...rows];
    },
    loadOne: async (id: string) => {
      reads.one++;
      return rows.get(id) ?? null;
    },
  };
}

let topicSeq = 0;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function replica(
  bus: Bus,
  topic: ReturnType<typeof changeTopic>,
  opts: Partial<ReplicatedCacheOptions<string, { id?: string; origin?: string }>> &
    Pick<ReplicatedCacheOptions<string, { id?: string; origin?: string }>, 'loadAll'>,
) {
  const log = pino({ level: 'silent' });
  const cache = createReplicatedCache<string>({
    name: 'test',
    bus,
    topic,
    log,
    resyncIntervalMs: 0,
    ...opts,
  });
  closers.push(() => cache.close());
  return cache;
}

const buses: [string, () => Promise<Bus>][] = [['memory', async () => createMemoryBus()]];
if (redisUrl) buses.push(['redis', () => createRedisBus(redisUrl, pino({ level: 'silent' }))]);

describe.each(buses)('replicated cache on the %s bus', (kind, openBus) => {
  const open = async () => {
    const bus = await openBus();
    closers.push(() => bus.close());
    return bus;
  };
  /** Two replicas: on one memory bus, or each on its own Redis connections. */
  const twoBuses = async (): Promise<[Bus, Bus]> => {
    const a = await open();
    return [a, kind === 'memory' ? a : await open()];
  };
  /** A Redis SUBSCRIBE is asynchronous: let it land before publishing. */
  const subscribed = () => (kind === 'redis' ? settle() : Promise.resolve());

  it('a change committed on replica A reaches replica B, one entry re-read', async () => {
    const table = fakeTable();
    table.rows.set('p1', 'v1');
    const topic = changeTopic(`test.cache.${++topicSeq}`);
    const [busA, busB] = await twoBuses();
    const a = replica(busA, topic, table);
    const b = replica(busB, topic, table);
    await a.start();
    await b.start();
    await subscribed();
    expect(b.get('p1')).toBe('v1');

    table.rows.set('p1', 'v2');
    table.rows.set('p2', 'w1');
    await a.changed('p1', 'v2');
    await a.changed('p2');
    expect(a.get('p1')).toBe('v2');
    expect(a.get('p2')).toBe('w1');
    await eventually(() => expect([b.get('p1'), b.get('p2')]).toEqual(['v2', 'w1']));

    table.rows.delete('p1');
    await a.changed('p1', null);
    await eventually(() => expect(b.entries.has('p1')).toBe(false));
    // A applied its own changes without reading them back; it read p2 once, B read all three
    await settle();
    expect(table.reads.one).toBe(1 + 3);
  });

  it('reads everything again when the message names no entry or there is no loadOne', async () => {
    const table = fakeTable();
    const topic = changeTopic(`test.cache.${++topicSeq}`);
    const [busA, busB] = await twoBuses();
    const a = replica(busA, topic, { loadAll: table.loadAll });
    const onChange = vi.fn();
    const b = replica(busB, topic, { loadAll: table.loadAll, onChange });
    await a.start();
    await b.start();
    await subscribed();
    table.rows.set('g1', 'rule');
    await a.changed();
    await eventually(() => expect(b.get('g1')).toBe('rule'));
    expect(onChange).toHaveBeenLastCalledWith(new Map([['g1', 'rule']]));
    table.rows.set('g2', 'rule 2');
    await a.changed('g2');
    await eventually(() => expect(b.get('g2')).toBe('rule 2'));
  });

  it('catches a lost message on the periodic resync', async () => {
    const table = fakeTable();
    table.rows.set('k1', 'old');
    const topic = changeTopic(`test.cache.${++topicSeq}`);
    const b = replica(await open(), topic, { ...table, resyncIntervalMs: 20 });
    await b.start();
    // committed by a replica whose message never arrived
    table.rows.set('k1', 'new');
    table.rows.set('k2', 'added');
    await eventually(() => expect([b.get('k1'), b.get('k2')]).toEqual(['new', 'added']));
    table.rows.delete('k1');
    await eventually(() => expect(b.entries.has('k1')).toBe(false));
  });

  it('drops a malformed message and keeps serving the valid ones', async () => {
    const table = fakeTable();
    table.rows.set('p1', 'v1');
    const topic = changeTopic(`test.cache.${++topicSeq}`);
    const [busA, busB] = await twoBuses();
    const b = replica(busB, topic, table);
    await b.start();
    await subscribed();
    const readsBefore = { ...table.reads };
    table.rows.set('p1', 'v2');
    await busA.publish(topic, { id: 42 } as never);
    await busA.publish(topic, { id: 'x'.repeat(500) });
    await busA.publish(topic, 'p1' as never);
    if (kind === 'redis') {
      const raw = new Redis(redisUrl!);
      closers.push(async () => raw.disconnect());
      await raw.publish(`maas:${topic.name}`, '{"id": "p1"');
    }
    await settle();
    expect(table.reads).toEqual(readsBefore);
    expect(b.get('p1')).toBe('v1');
    await busA.publish(topic, { id: 'p1' });
    await eventually(() => expect(b.get('p1')).toBe('v2'));
  });
});

describe('replicated cache stamps', () => {
  it('an older read of an entry finishing after a newer one does not win', async () => {
    const bus = createMemoryBus();
    const topic = changeTopic('test.cache.stamps.one');
    const reads: ReturnType<typeof deferred<string | null>>[] = [];
    const cache = replica(bus, topic, {
      loadAll: async () => [['p1', 'v0']],
      loadOne: () => {
        const read = deferred<string | null>();
        reads.push(read);
        return read.promise;
      },
    });
    await cache.start();
    await bus.publish(topic, { id: 'p1' }); // read 1 starts: it will see v1
    await bus.publish(topic, { id: 'p1' }); // read 2 starts later: it will see v2
    expect(reads).toHaveLength(2);
    reads[1]!.resolve('v2');
    await settle();
    expect(cache.get('p1')).toBe('v2');
    reads[0]!.resolve('v1');
    await settle();
    expect(cache.get('p1')).toBe('v2');
  });

  it('a full read that started before a change does not undo it, nor does an older full read', async () => {
    const bus = createMemoryBus();
    const topic = changeTopic('test.cache.stamps.all');
    const fulls: ReturnType<typeof deferred<[string, string][]>>[] = [];
    let first = true;
    const cache = replica(bus, topic, {
      loadAll: () => {
        if (first) {
          first = false;
          return Promise.resolve([['p1', 'v0']]);
        }
        const read = deferred<[string, string][]>();
        fulls.push(read);
        return read.promise;
      },
    });
    await cache.start();
    const slowResync = cache.resync(); // full read A starts: it will see p1 = v0 and no p2
    cache.put('p1', 'v1'); // committed here meanwhile
    cache.put('p2', 'w1');
    fulls[0]!.resolve([['p1', 'v0']]);
    await slowResync;
    expect([cache.get('p1'), cache.get('p2')]).toEqual(['v1', 'w1']);

    const older = cache.resync();
    const newer = cache.changed(); // a later full read
    expect(fulls).toHaveLength(3);
    fulls[2]!.resolve([
      ['p1', 'v3'],
      ['p2', 'w3'],
    ]);
    await newer;
    fulls[1]!.resolve([['p1', 'v2']]);
    await older;
    expect([cache.get('p1'), cache.get('p2')]).toEqual(['v3', 'w3']);
  });

  it('a read made outside the cache that started before a full read cannot bring back what it no longer saw', async () => {
    const bus = createMemoryBus();
    const table = fakeTable();
    table.rows.set('k1', 'active');
    const cache = replica(bus, changeTopic('test.cache.stamps.outside'), table);
    await cache.start();
    const lookup = cache.beginRead(); // e.g. a lookup by another column: it sees k3 active
    table.rows.clear(); // everything revoked meanwhile
    await cache.resync();
    cache.apply('k3', 'active', lookup);
    expect(cache.entries.size).toBe(0);
    cache.apply('k4', 'active', cache.beginRead());
    expect(cache.get('k4')).toBe('active');
  });

  it('keeps indexes in step through onEntry, and stops listening on close', async () => {
    const bus = createMemoryBus();
    const topic = changeTopic('test.cache.close');
    const table = fakeTable();
    table.rows.set('a', '1');
    const index = new Map<string, string>();
    const cache = replica(bus, topic, {
      ...table,
      resyncIntervalMs: 10,
      onEntry(id, value, previous) {
        if (previous !== undefined) index.delete(`${previous}:${id}`);
        if (value !== undefined) index.set(`${value}:${id}`, id);
      },
    });
    await cache.start();
    table.rows.set('a', '2');
    await bus.publish(topic, { id: 'a' });
    await settle();
    expect([...index.keys()]).toEqual(['2:a']);
    await cache.close();
    const reads = { ...table.reads };
    await bus.publish(topic, { id: 'a' });
    await settle();
    expect(table.reads).toEqual(reads);
  });
});
