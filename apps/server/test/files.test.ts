import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '@maas/testkit';
import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { FILES_TEST_ENV, filesSuite } from './support/files-suite.ts';
import { createKey, openai } from './support/gateway-setup.ts';

filesSuite('/v1/files on local disk', {
  env: () => ({}),
  async after(ts) {
    // every file in the directory belongs to a file row: nothing deleted, expired or refused is left
    const dir = (ts.server.services.files.storage as unknown as { dir: string }).dir;
    const rows = await ts.server.services.database.db.query.files.findMany();
    expect(readdirSync(dir).sort()).toEqual(rows.map((r) => r.id).sort());
  },
});

describe('/v1/files local storage on disk', () => {
  it('keeps files 0600 in a 0700 directory, named by id only', async () => {
    const ts = await startTestServer(FILES_TEST_ENV);
    try {
      const client = openai(ts, await createKey(ts));
      const file = await client.files.create({
        file: await toFile(Buffer.from('x'), '../../escape.txt'),
        purpose: 'user_data',
      });
      const dir = (ts.server.services.files.storage as unknown as { dir: string }).dir;
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(readdirSync(dir)).toEqual([file.id]);
      expect(statSync(join(dir, file.id)).mode & 0o777).toBe(0o600);
      expect(readdirSync(join(dir, '..')).filter((n) => n.includes('escape'))).toEqual([]);
    } finally {
      await ts.close();
    }
  }, 60_000);
});
