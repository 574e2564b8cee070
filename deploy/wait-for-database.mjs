// Waits until PostgreSQL at $DATABASE_URL answers `SELECT 1` (the migration Job's init container:
// a Job that starts before its database would otherwise fail and back off). Gives up after
// $MAAS_MIGRATE_TIMEOUT_S seconds (default 300) with exit 1. Never prints the URL (it holds a password).
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('wait-for-database: DATABASE_URL is not set\n');
  process.exit(2);
}
const deadline = Date.now() + Number(process.env.MAAS_MIGRATE_TIMEOUT_S || 300) * 1000;
let last = '';
for (let attempt = 1; ; attempt++) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
    process.stdout.write(`wait-for-database: the database answers (attempt ${attempt})\n`);
    process.exit(0);
  } catch (err) {
    await client.end().catch(() => {});
    const why = err instanceof Error ? (err.code ?? err.message) : String(err);
    if (why !== last) process.stderr.write(`wait-for-database: not yet (${why})\n`);
    last = why;
  }
  if (Date.now() > deadline) {
    process.stderr.write('wait-for-database: gave up waiting\n');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 2_000));
}
