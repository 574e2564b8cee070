import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackupRefusedError,
  backupTargetFromEnv,
  createBackup,
  DataDirLockedError,
  restoreBackup,
} from '@maas/server';
import {
  createScratchDatabase,
  type FakeUpstream,
  startFakeUpstream,
  startTestServer,
  type TestServer,
  testDatabaseUrl,
} from '@maas/testkit';
import { toFile } from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, createProvider, issueKey, openai, usageOfKey } from './support/gateway-setup.ts';

/**
 * `maas backup` / `maas restore` end to end, as an operator runs them: real CLI processes on the
 * data directory (and the PostgreSQL database when MAAS_TEST_DATABASE_URL is set), a wipe in
 * between, and a server started on the restored state that accepts the same key and serves the
 * same file. The secret key lives in the data directory (no MAAS_SECRET_KEY), so it must travel
 * in the backup for the provider's stored credential to decrypt.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let upstream: FakeUpstream;
let work: string;
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
let env: Record<string, string>;
const servers: TestServer[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream({ chunks: 2 });
  work = await mkdtemp(join(tmpdir(), 'maas-backup-test-'));
  dataDir = join(work, 'data');
  const base = testDatabaseUrl();
  scratch = base ? await createScratchDatabase(base) : undefined;
  env = { MAAS_DATA_DIR: dataDir, MAAS_SECRET_KEY: '', ...(scratch ? { DATABASE_URL: scratch.url } : {}) };
});
afterAll(async () => {
  for (const s of servers) await s.server.close().catch(() => {});
  await upstream?.close();
  await scratch?.drop();
  await rm(work, { recursive: true, force: true });
});

const start = async () => {
  const ts = await startTestServer(env);
  servers.push(ts);
  return ts;
};

/** `maas <args>` as a child process with the test's environment; never throws. */
function maas(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'apps/cli/src/bin.ts', ...args],
      { cwd: repoRoot, env: { ...process.env, ...env, ...extra }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

async function wipe(): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  if (!scratch) return;
  const c = new pg.Client({ connectionString: scratch.url });
  await c.connect();
  await c.query('drop schema drizzle cascade; drop schema public cascade; create schema public');
  await c.end();
}

describe(`maas backup and restore (${testDatabaseUrl() ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  it('restores org, key, file, usage and secret key after a wipe; refuses a wrong key and a damaged archive', async () => {
    const first = await start();
    const provider = await createProvider(first, {
      name: 'fake',
      base_url: upstream.url,
      api_key: 'sk-upstream-secret',
    });
    await createModel(first, {
      name: 'backup-chat',
      targets: [{ provider_id: provider, upstream_model: 'fake-chat' }],
    });
    const org = await first.admin.post('/api/v1/orgs', {
      name: `backup-org-${randomBytes(3).toString('hex')}`,
    });
    expect(org.status).toBe(201);
    const key = await issueKey(first, { name: 'survives' });
    const client = openai(first, key.key);
    for (let i = 0; i < 3; i++) {
      const res = await client.chat.completions.create({
        model: 'backup-chat',
        messages: [{ role: 'user', content: `hello ${i}` }],
      });
      expect(res.choices[0]?.message.content).toBeTruthy();
    }
    const content = `line one\n${randomBytes(2048).toString('base64')}\n`;
    const uploaded = await client.files.create({
      file: await toFile(Buffer.from(content), 'notes.jsonl'),
      purpose: 'user_data',
    });
    expect(await usageOfKey(first, key.id, 3)).toHaveLength(3);
    if (!scratch) {
      // an embedded database in use is refused, not copied while it is written
      await expect(
        createBackup(backupTargetFromEnv({ ...process.env, ...env }), join(work, 'live.tar.gz')),
      ).rejects.toThrow(DataDirLockedError);
      expect(existsSync(join(work, 'live.tar.gz'))).toBe(false);
    }
    await first.server.close();

    const archive = join(work, 'maas.tar.gz');
    const backup = await maas(['backup', '--out', archive]);
    expect(backup.code, backup.out).toBe(0);
    expect(backup.out).toMatch(/backup written to .*, 1 files, secret key/);
    expect(statSync(archive).mode & 0o777).toBe(0o600);

    await wipe();
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false);

    // verifying changes nothing; a key other than the backup's is refused before anything is written
    const verify = await maas(['restore', archive, '--verify']);
    expect(verify.code, verify.out).toBe(0);
    expect(verify.out).toMatch(/verified .*row counts match, 1 files/);
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false);
    // (refusals in process: they stop before any database is opened)
    const target = backupTargetFromEnv({ ...process.env, ...env });
    await expect(
      restoreBackup({ ...target, envSecretKey: randomBytes(32).toString('hex') }, archive),
    ).rejects.toThrow(/MAAS_SECRET_KEY differs from the key in the backup/);
    expect(existsSync(join(dataDir, 'files'))).toBe(false);

    const restore = await maas(['restore', archive]);
    expect(restore.code, restore.out).toBe(0);
    expect(restore.out).toMatch(/restored .*row counts match, 1 files/);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    await expect(restoreBackup(target, archive)).rejects.toThrow(/pass --force/);

    const second = await start();
    const after = openai(second, key.key);
    const res = await after.chat.completions.create({
      model: 'backup-chat',
      messages: [{ role: 'user', content: 'back' }],
    });
    expect(res.choices[0]?.message.content).toBeTruthy();
    // the provider's credential decrypted with the restored key reached the upstream
    expect(upstream.requests.at(-1)?.headers.authorization).toBe('Bearer sk-upstream-secret');
    const download = await after.files.content(uploaded.id);
    expect(await download.text()).toBe(content);
    expect((await second.admin.get('/api/v1/orgs')).body.data.map((o: { id: string }) => o.id)).toContain(
      org.body.id,
    );
    expect(await usageOfKey(second, key.id, 4)).toHaveLength(4);
    await second.server.close();

    // one changed byte in the archive: refused, nothing written
    const bytes = await readFile(archive);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const damaged = join(work, 'damaged.tar.gz');
    await writeFile(damaged, bytes);
    await expect(restoreBackup(target, damaged, { verify: true })).rejects.toThrow(BackupRefusedError);
  }, 600_000);
});
