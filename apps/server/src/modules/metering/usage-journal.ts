import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { UsageRecord } from './record-usage.ts';

const NAME = /^usage-journal-(\d+)-(\d+)(?:-\d+)?\.jsonl$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A write-ahead journal of usage events: each event is appended (one write, no fsync) before its
 * request's answer completes, so a `kill -9` of the process loses none of the events still waiting
 * in memory for their batch write; they are replayed at the next start (idempotent by request id).
 * A power cut can still lose the last ones (no fsync: the hot path would pay a disk flush each).
 * Files are per process (`usage-journal-<pid>-<start>…`), so replicas sharing a directory never
 * touch each other's journal.
 */
export function createUsageJournal(dir: string) {
  const start = Date.now();
  const prefix = `usage-journal-${process.pid}-${start}`;
  const active = join(dir, `${prefix}.jsonl`);
  let fd: number | null = null;
  let cuts = 0;

  const open = () => {
    if (fd === null) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      fd = openSync(active, 'a', 0o600);
    }
    return fd;
  };

  return {
    /** Appends one event; throws when the disk refuses (the caller keeps the event in memory). */
    append(event: UsageRecord): void {
      writeSync(open(), `${JSON.stringify(event)}\n`);
    },

    /** Closes the file the events so far went to and returns it (null: none since the last cut). */
    cut(): string | null {
      if (fd === null) return null;
      closeSync(fd);
      fd = null;
      const file = join(dir, `${prefix}-${++cuts}.jsonl`);
      renameSync(active, file);
      return file;
    },

    remove(file: string): void {
      try {
        unlinkSync(file);
      } catch {
        // gone already
      }
    },

    /** Journals of processes that are gone (killed, or this container's earlier life), oldest first. */
    leftovers(): string[] {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return [];
      }
      return names
        .filter((f) => {
          const m = NAME.exec(f);
          if (!m) return false;
          const pid = Number(m[1]);
          if (pid === process.pid) return Number(m[2]) !== start;
          return !alive(pid);
        })
        .map((f) => join(dir, f))
        .filter((f) => {
          try {
            return statSync(f).isFile();
          } catch {
            return false; // gone meanwhile
          }
        })
        .sort();
    },
  };
}

export type UsageJournal = ReturnType<typeof createUsageJournal>;
