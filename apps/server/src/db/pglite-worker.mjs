// The embedded database on a thread of its own: PGlite runs PostgreSQL (WASM) synchronously, so on
// the main thread every statement would stall the gateway's event loop. Plain JavaScript, so that
// the worker needs no TypeScript loader. Protocol: see pglite-thread.ts.
// Run as a process of its own (`node pglite-worker.mjs <dir>`), it only creates the directory
// (initdb) and exits: see PgliteThread.createDirectory.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

/** Temporal values stay text, as drizzle's PGlite driver asks with the same parsers. */
const RAW_TEMPORAL = {
  [types.TIMESTAMP]: (v) => v,
  [types.TIMESTAMPTZ]: (v) => v,
  [types.INTERVAL]: (v) => v,
  [types.DATE]: (v) => v,
  1231: (v) => v,
  1115: (v) => v,
  1185: (v) => v,
  1187: (v) => v,
  1182: (v) => v,
};

/**
 * PostgreSQL's memory settings, sized for an embedded database. PGlite keeps PostgreSQL's default
 * of 160 MB of shared buffers, all of it resident once touched: 16 MB holds the hot part of the
 * gateway's tables (the usage writes append, the policy and key caches live in the main thread),
 * and cuts the thread's resident memory by ~120 MB.
 */
const MEMORY_SETTINGS = ['shared_buffers=16MB', 'temp_buffers=2MB', 'wal_buffers=1MB'];

// pgvector for knowledge bases (the migration creates the extension)
const initOnly = !parentPort;
const db = new PGlite({
  dataDir: initOnly ? process.argv[2] : (workerData.dir ?? undefined),
  extensions: { vector },
  startParams: [...PGlite.defaultStartParams, ...MEMORY_SETTINGS.flatMap((s) => ['-c', s])],
});
/** open transactions by id: the transaction's own connection, and how to end it */
const open = new Map();

const send = (id, result) => {
  try {
    parentPort.postMessage({ id, result });
  } catch (err) {
    fail(id, err);
  }
};
const fail = (id, err) => {
  // the caller tells errors apart by their fields (code, constraint …), which a clone would drop
  // (only plain values: the error also holds the query's options, parsers included, which cannot travel)
  const fields = {};
  if (err && typeof err === 'object') {
    for (const [k, v] of Object.entries(err)) {
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
    }
  }
  parentPort.postMessage({ id, error: { ...fields, name: err?.name, message: String(err?.message ?? err) } });
};

async function query(m) {
  const target = m.tx ? open.get(m.tx)?.tx : db;
  if (!target) throw new Error(`transaction ${m.tx} is not open`);
  const options = { rowMode: m.rowMode ?? 'object', ...(m.rawTemporal ? { parsers: RAW_TEMPORAL } : {}) };
  const r = await target.query(m.sql, m.params ?? [], options);
  return { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
}

const ROLLBACK = new Error('rolled back by the caller');

function begin(m) {
  return new Promise((started, failedToStart) => {
    const entry = {};
    entry.done = db.transaction(
      (tx) =>
        new Promise((commit, rollback) => {
          Object.assign(entry, { tx, commit, rollback });
          open.set(m.tx, entry);
          started(null);
        }),
    );
    entry.done.catch((err) => {
      if (!entry.tx) failedToStart(err);
    });
  });
}

/** Ends a transaction: resolves once PGlite committed (or threw if COMMIT failed) or rolled back. */
async function end(m) {
  const t = open.get(m.tx);
  if (!t) return null;
  open.delete(m.tx);
  if (m.commit) {
    t.commit(null);
    await t.done;
  } else {
    t.rollback(ROLLBACK);
    await t.done.catch((err) => {
      if (err !== ROLLBACK) throw err;
    });
  }
  return null;
}

const ops = { query, begin, end, close: () => db.close() };

parentPort?.on('message', (m) => {
  const op = ops[m.op];
  Promise.resolve()
    .then(() => op(m))
    .then(
      (result) => send(m.id, result ?? null),
      (err) => fail(m.id, err),
    );
});

if (initOnly) {
  db.waitReady
    .then(() => db.close())
    .then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(String(err?.message ?? err));
        process.exit(1);
      },
    );
} else {
  db.waitReady.then(
    () => parentPort.postMessage({ ready: true }),
    (err) => parentPort.postMessage({ ready: false, error: { message: String(err?.message ?? err) } }),
  );
}
