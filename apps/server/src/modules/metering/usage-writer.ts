import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { recordUsage, type UsageRecord } from './record-usage.ts';
import type { UsageJournal } from './usage-journal.ts';
import type { UsageSpool } from './usage-spool.ts';

export type UsageEvent = UsageRecord;

export interface UsageWriterDeps {
  db: Db;
  log: Logger;
  spool: UsageSpool;
  /** write-ahead journal: each event on disk before its answer completes (absent: memory only) */
  journal?: UsageJournal | undefined;
  /** flush at least this often (ms) */
  flushIntervalMs?: number;
  /**
   * flush as soon as this many rows wait, and write at most this many per statement: a statement's
   * fixed cost on the embedded database is ~100 events' worth (measured: CPU per event 2000 rows
   * ~70 µs, 500 rows ~90 µs, 100 rows ~190 µs), so under load the half-second flush writes what
   * gathered meanwhile in one statement
   */
  batchSize?: number;
  /** rows kept in memory while the database is unreachable; beyond that they go to the spool file */
  maxBuffered?: number;
}

/**
 * Buffers usage events and writes them with their rollups in batches, idempotent by request id.
 * While the database is unreachable rows stay in memory up to a bound, then spill to an
 * append-only file that is replayed when the database answers again; stop() flushes or spools
 * what is left, so nothing is lost.
 */
export function createUsageWriter({
  db,
  log,
  spool,
  journal,
  flushIntervalMs = 500,
  batchSize = 2000,
  maxBuffered = 20_000,
}: UsageWriterDeps) {
  let buffer: UsageRecord[] = [];
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let databaseDown = false;
  /** rows this process spooled and has not replayed yet */
  let spooled = 0;
  /** a spool may hold rows (a previous process's at start, or ours): look at the next flush */
  let spoolToReplay = false;
  /** journal files whose events are all in the buffer or the database: removed once written */
  let journaled: string[] = [];
  let journalBroken = false;

  /** The events journaled so far are stored (written or spooled): their journal files go. */
  function forgetJournal(upTo: string[]): void {
    for (const f of upTo) journal?.remove(f);
    journaled = journaled.filter((f) => !upTo.includes(f));
  }

  /** Closes the journal file the buffered events went to; what it holds is in `buffer` now. */
  function cutJournal(): string[] {
    if (!journal) return [];
    try {
      const file = journal.cut();
      if (file) journaled.push(file);
    } catch (err) {
      log.error({ err }, 'usage journal could not be cut');
    }
    return [...journaled];
  }

  // one statement is atomic on its own: no BEGIN/COMMIT round trips per batch
  const write = (rows: UsageRecord[]) => recordUsage(db, rows);

  async function spill(): Promise<void> {
    const files = cutJournal();
    const rows = buffer;
    buffer = [];
    try {
      await spool.append(rows);
      spooled += rows.length;
      spoolToReplay = true;
      forgetJournal(files);
    } catch (err) {
      buffer = rows.concat(buffer);
      log.error({ err, rows: rows.length }, 'usage spool write failed; keeping events in memory');
    }
  }

  async function replaySpool(): Promise<void> {
    if (!spoolToReplay) return;
    for (const file of await spool.seal()) {
      const rows = await spool.read(file);
      for (let i = 0; i < rows.length; i += batchSize) await write(rows.slice(i, i + batchSize));
      await spool.remove(file);
      log.info({ rows: rows.length, file }, 'replayed spooled usage events');
    }
    spooled = 0;
    spoolToReplay = false;
  }

  /**
   * Writes the rows waiting when it starts, in batches; those that arrive meanwhile wait for the
   * next flush. `fullOnly` (a flush the hot path started): full batches only. Chasing every new row
   * would, under steady load, turn into back-to-back small batches (what arrives during one write),
   * and on the embedded database a batch's fixed cost is ~100 events' worth.
   */
  async function writeAll(fullOnly = false): Promise<void> {
    try {
      await replaySpool();
      // a full flush takes every buffered event: the journal files behind them go once it is written
      const files = fullOnly ? [] : cutJournal();
      let rows = fullOnly ? buffer.length - (buffer.length % batchSize) : buffer.length;
      while (rows > 0) {
        const batch = buffer.slice(0, Math.min(batchSize, rows));
        await write(batch);
        buffer.splice(0, batch.length);
        rows -= batch.length;
      }
      forgetJournal(files);
      if (databaseDown) log.info('database reachable again: usage events flowing');
      databaseDown = false;
    } catch (err) {
      if (!databaseDown) log.warn({ err }, 'usage events could not be written; buffering');
      databaseDown = true;
      if (buffer.length >= maxBuffered) await spill();
    }
  }

  function flush(fullOnly = false): Promise<void> {
    if (flushing) return flushing;
    flushing = writeAll(fullOnly).finally(() => {
      flushing = null;
    });
    return flushing;
  }

  return {
    /** hot path: one journal append and one array push */
    write(event: UsageRecord): void {
      if (journal && !journalBroken) {
        try {
          journal.append(event);
        } catch (err) {
          journalBroken = true; // memory only from now on: a kill -9 may lose the last events
          log.error({ err }, 'usage journal write failed; usage events kept in memory only');
        }
      }
      buffer.push(event);
      if (buffer.length >= batchSize && !flushing) void flush(true);
    },

    /** writes everything that waits (after a flush in progress, which may leave a partial batch) */
    async flush(): Promise<void> {
      while (flushing) await flushing;
      await flush();
    },

    get pending(): number {
      return buffer.length + spooled;
    },

    /** Replays a spool (and journals) left by an earlier run, then flushes on a timer. */
    async start(): Promise<void> {
      // what a killed process journaled and never wrote: replayed with the spool
      for (const file of journal?.leftovers() ?? []) {
        await spool.adopt(file).catch((err) => log.error({ err, file }, 'usage journal not taken over'));
        log.warn({ file }, 'usage events of a process that did not stop cleanly: replaying them');
      }
      spoolToReplay = true;
      timer = setInterval(() => void flush(), flushIntervalMs);
      timer.unref();
    },

    async stop(): Promise<void> {
      clearInterval(timer);
      await flushing;
      await flush();
      if (buffer.length > 0) {
        await spill();
        log.warn(
          { rows: spooled, dir: spool.dir },
          'database unreachable at shutdown: usage events spooled to disk for the next start',
        );
      }
    },
  };
}

export type UsageWriter = ReturnType<typeof createUsageWriter>;
