import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type ApiClient, startTestServer, type TestServer } from '@maas/testkit';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { APIError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStorageUsage, files } from '../../src/modules/files/index.ts';
import { createKey, openai } from './gateway-setup.ts';

export const MiB = 1024 * 1024;
/** small limits, so that the size and quota tests move megabytes, not gigabytes */
export const FILES_TEST_ENV = {
  MAAS_FILES_MAX_BYTES: String(8 * MiB),
  MAAS_FILES_ORG_QUOTA_BYTES: String(24 * MiB),
  MAAS_FILES_SWEEP_INTERVAL_MS: '0',
  // uploads stream past the JSON body limit
  MAAS_BODY_LIMIT_BYTES: String(1 * MiB),
};

export interface FilesSuiteOptions {
  /** environment of the test server (storage selection) on top of FILES_TEST_ENV */
  env: () => Promise<Record<string, string>> | Record<string, string>;
  /** checks the storage backend against the rows once the other tests ran */
  after?: (ts: TestServer) => Promise<void>;
}

const sha256 = async (stream: AsyncIterable<Uint8Array>) => {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
};

/** A multipart body built by hand (for filenames and shapes FormData will not send). */
export function rawMultipart(parts: { name: string; filename?: string; value: string | Buffer }[]) {
  const boundary = `----maas${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n`));
    if (p.filename !== undefined) chunks.push(Buffer.from('Content-Type: application/octet-stream\r\n'));
    chunks.push(Buffer.from('\r\n'), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function postRaw(ts: TestServer, key: string, body: Buffer | string, contentType: string) {
  const res = await fetch(`${ts.url}/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: bodies of every shape are read loosely here
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json, text };
}

async function expectApiError(p: Promise<unknown>, status: number): Promise<APIError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  const apiErr = err as APIError;
  expect(apiErr.status).toBe(status);
  expect(apiErr.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  return apiErr;
}

/** /v1/files end to end with the stock `openai` SDK; run once per storage backend. */
export function filesSuite(name: string, opts: FilesSuiteOptions) {
  describe(name, () => {
    let ts: TestServer;
    let client: OpenAI;
    let key: string;
    let otherProject: OpenAI;
    let otherOrg: OpenAI;
    let otherOrgId: string;
    let scratch: string;
    let bigPath: string;
    let bigHash: string;

    beforeAll(async () => {
      ts = await startTestServer({ ...FILES_TEST_ENV, ...(await opts.env()) });
      key = await createKey(ts);
      client = openai(ts, key);
      const project = await ts.admin.post('/api/v1/projects', { name: 'other-project' });
      otherProject = openai(ts, await createKey(ts, { project_id: project.body.id }));
      const org = await ts.admin.post('/api/v1/orgs', { name: 'Other org' });
      otherOrgId = org.body.id;
      const b: ApiClient = ts.client();
      await b.login(ADMIN_EMAIL, ADMIN_PASSWORD, otherOrgId);
      const bProject = await b.post('/api/v1/projects', { name: 'b-project' });
      otherOrg = openai(ts, await createKey(ts, { project_id: bProject.body.id }, b));
      scratch = mkdtempSync(join(tmpdir(), 'maas-files-test-'));
      bigPath = join(scratch, 'big.bin');
      const big = randomBytes(6 * MiB + 12345);
      writeFileSync(bigPath, big);
      bigHash = createHash('sha256').update(big).digest('hex');
    }, 60_000);

    afterAll(async () => {
      await ts?.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it('uploads with the SDK and returns an OpenAI FileObject', async () => {
      const before = Math.floor(Date.now() / 1000);
      const file = await client.files.create({
        file: await toFile(Buffer.from('{"custom_id":"a"}\n'), 'input.jsonl'),
        purpose: 'batch',
      });
      expect(file).toEqual({
        id: expect.stringMatching(/^file-[0-9a-z]{26}$/),
        object: 'file',
        bytes: 18,
        created_at: expect.any(Number),
        expires_at: file.created_at + 30 * 86_400,
        filename: 'input.jsonl',
        purpose: 'batch',
        status: 'processed',
        status_details: null,
      });
      expect(file.created_at).toBeGreaterThanOrEqual(before);
      expect(await client.files.retrieve(file.id)).toEqual(file);
      const other = await client.files.create({
        file: await toFile(Buffer.from('hello'), 'notes.txt'),
        purpose: 'user_data',
      });
      expect(other.expires_at).toBeNull();
    });

    it('streams a multi-MB upload and download byte for byte (a single Range too)', async () => {
      const file = await client.files.create({ file: createReadStream(bigPath), purpose: 'fine-tune' });
      expect(file.bytes).toBe(6 * MiB + 12345);
      expect(file.filename).toBe('big.bin');
      const res = await client.files.content(file.id);
      expect(res.headers.get('content-length')).toBe(String(file.bytes));
      expect(await sha256(res.body as unknown as AsyncIterable<Uint8Array>)).toBe(bigHash);
      const ranged = await fetch(`${ts.url}/v1/files/${file.id}/content`, {
        headers: { authorization: `Bearer ${key}`, range: 'bytes=10-19' },
      });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 10-19/${file.bytes}`);
      const want = Buffer.alloc(10);
      const fd = await import('node:fs/promises').then((m) => m.open(bigPath));
      await fd.read(want, 0, 10, 10);
      await fd.close();
      expect(Buffer.from(await ranged.arrayBuffer())).toEqual(want);
      const head = await fetch(`${ts.url}/v1/files/${file.id}/content`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(file.bytes));
      await client.files.delete(file.id);
    });

    it('lists by purpose, in either order, page by page with after and limit', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const f = await client.files.create({
          file: await toFile(Buffer.from(`line ${i}\n`), `eval-${i}.jsonl`),
          purpose: 'evals',
        });
        ids.push(f.id);
      }
      const desc = await client.files.list({ purpose: 'evals' });
      expect(desc.data.map((f) => f.id)).toEqual([...ids].reverse());
      const asc = await client.files.list({ purpose: 'evals', order: 'asc' });
      expect(asc.data.map((f) => f.id)).toEqual(ids);
      const first = await client.files.list({ purpose: 'evals', order: 'asc', limit: 2 });
      expect(first.data.map((f) => f.id)).toEqual(ids.slice(0, 2));
      expect(first.has_more).toBe(true);
      const second = await client.files.list({ purpose: 'evals', order: 'asc', limit: 2, after: ids[1] });
      expect(second.data.map((f) => f.id)).toEqual(ids.slice(2, 4));
      const seen: string[] = [];
      for await (const f of client.files.list({ purpose: 'evals', limit: 2 })) seen.push(f.id);
      expect(seen).toEqual([...ids].reverse());
      const all = await client.files.list();
      expect(all.data.every((f) => f.status === 'processed')).toBe(true);
      expect(new Set(all.data.map((f) => f.purpose))).toContain('evals');
      const bad = await fetch(`${ts.url}/v1/files?limit=0&order=sideways`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.type).toBe('invalid_request_error');
    });

    it('deletes: the file answers 404 everywhere afterwards and its bytes are gone', async () => {
      const file = await client.files.create({
        file: await toFile(Buffer.from('bye'), 'bye.txt'),
        purpose: 'assistants',
      });
      expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
      const err = await expectApiError(client.files.retrieve(file.id), 404);
      expect(err.error).toMatchObject({ param: 'id' });
      await expectApiError(client.files.content(file.id), 404);
      await expectApiError(client.files.delete(file.id), 404);
      expect((await client.files.list()).data.map((f) => f.id)).not.toContain(file.id);
      await expect(ts.server.services.files.storage.get(file.id)).rejects.toThrow(/no stored object/);
    });

    it('honours expires_after; expired files vanish and the sweeper removes their bytes', async () => {
      const file = await client.files.create({
        file: await toFile(Buffer.from('short-lived'), 'short.txt'),
        purpose: 'user_data',
        expires_after: { anchor: 'created_at', seconds: 3600 },
      });
      expect(file.expires_at).toBe(file.created_at + 3600);
      await expectApiError(
        client.files.create({
          file: await toFile(Buffer.from('x'), 'x.txt'),
          purpose: 'user_data',
          expires_after: { anchor: 'created_at', seconds: 60 },
        }),
        400,
      );
      const db = ts.server.services.database.db;
      await db
        .update(files)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(files.id, file.id));
      await expectApiError(client.files.retrieve(file.id), 404);
      await expectApiError(client.files.content(file.id), 404);
      expect((await client.files.list()).data.map((f) => f.id)).not.toContain(file.id);
      const { deleted } = await ts.server.services.files.sweep();
      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(await db.select().from(files).where(eq(files.id, file.id))).toEqual([]);
      await expect(ts.server.services.files.storage.get(file.id)).rejects.toThrow(/no stored object/);
    });

    it('refuses a file over the size limit (413) and keeps nothing of it', async () => {
      const { orgId } = await scopeOf(ts, client);
      const usedBefore = await usage(ts, orgId);
      const err = await expectApiError(
        client.files.create({ file: await toFile(randomBytes(8 * MiB + 1), 'huge.bin'), purpose: 'batch' }),
        413,
      );
      expect(err.error).toMatchObject({ type: 'invalid_request_error' });
      expect(await usage(ts, orgId)).toBe(usedBefore);
      expect(await uploading(ts)).toBe(0);
    });

    it('keeps each org within its storage quota, concurrent uploads included', async () => {
      const org = await ts.admin.post('/api/v1/orgs', { name: 'Quota org' });
      const q: ApiClient = ts.client();
      await q.login(ADMIN_EMAIL, ADMIN_PASSWORD, org.body.id);
      const project = await q.post('/api/v1/projects', { name: 'q' });
      const quotaClient = openai(ts, await createKey(ts, { project_id: project.body.id }, q));
      const chunk = randomBytes(7 * MiB);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, async (_, i) =>
          quotaClient.files.create({ file: await toFile(chunk, `part-${i}.bin`), purpose: 'fine-tune' }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(ok.length).toBeLessThanOrEqual(3);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(APIError);
          expect((r.reason as APIError).status).toBe(413);
          expect((r.reason as APIError).code).toBe('storage_quota_exceeded');
        }
      }
      expect(await usage(ts, org.body.id)).toBe(ok.length * 7 * MiB);
      expect(await usage(ts, org.body.id)).toBeLessThanOrEqual(24 * MiB);
      // what is deleted is given back
      const listed = await quotaClient.files.list();
      for (const f of listed.data) await quotaClient.files.delete(f.id);
      expect(await usage(ts, org.body.id)).toBe(0);
    });

    it("hides a project's files from other projects and other orgs (404, never listed)", async () => {
      const file = await client.files.create({
        file: await toFile(Buffer.from('secret'), 'secret.txt'),
        purpose: 'assistants',
      });
      for (const stranger of [otherProject, otherOrg]) {
        await expectApiError(stranger.files.retrieve(file.id), 404);
        await expectApiError(stranger.files.content(file.id), 404);
        await expectApiError(stranger.files.delete(file.id), 404);
        expect((await stranger.files.list()).data.map((f) => f.id)).not.toContain(file.id);
        const page = await stranger.files.list({ order: 'asc', after: 'file-00000000000000000000000000' });
        expect(page.data.map((f) => f.id)).not.toContain(file.id);
      }
      expect((await client.files.retrieve(file.id)).id).toBe(file.id);
      expect(await (await client.files.content(file.id)).text()).toBe('secret');
    });

    it('keeps filenames as data only (paths, NUL), never as a path', async () => {
      // the SDK sends a path's last segment; a raw body sends the path itself, and it is kept as sent
      const viaSdk = await client.files.create({
        file: await toFile(Buffer.from('root:x:0:0'), '../../etc/passwd'),
        purpose: 'user_data',
      });
      expect(viaSdk.filename).toBe('passwd');
      const traversal = rawMultipart([
        { name: 'purpose', value: 'user_data' },
        { name: 'file', filename: '../../etc/passwd', value: 'root:x:0:0' },
      ]);
      const file = (await postRaw(ts, key, traversal.body, traversal.contentType)).body;
      expect(file.filename).toBe('../../etc/passwd');
      expect((await client.files.retrieve(file.id)).filename).toBe('../../etc/passwd');
      expect(await (await client.files.content(file.id)).text()).toBe('root:x:0:0');
      const nul = rawMultipart([
        { name: 'purpose', value: 'user_data' },
        { name: 'file', filename: 'a\u0000b/../c.txt', value: 'nul' },
      ]);
      const res = await postRaw(ts, key, nul.body, nul.contentType);
      expect(res.status).toBe(200);
      expect(res.body.filename).not.toContain('\u0000');
      expect(res.body.filename).toMatch(/^a.b\/\.\.\/c\.txt$/);
      const content = await fetch(`${ts.url}/v1/files/${res.body.id}/content`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(content.headers.get('content-disposition')).toContain(
        "filename*=UTF-8''a%EF%BF%BDb%2F..%2Fc.txt",
      );
      expect(await content.text()).toBe('nul');
    });

    it('answers bad uploads with OpenAI-style 400s, never a 500, and keeps nothing', async () => {
      const { orgId } = await scopeOf(ts, client);
      const usedBefore = await usage(ts, orgId);
      const cases: [string, Buffer | string, string][] = [];
      cases.push(['json body', JSON.stringify({ purpose: 'batch' }), 'application/json']);
      const unknown = rawMultipart([
        { name: 'purpose', value: 'world-domination' },
        { name: 'file', filename: 'a.txt', value: 'x' },
      ]);
      cases.push(['unknown purpose', unknown.body, unknown.contentType]);
      const late = rawMultipart([
        { name: 'file', filename: 'a.txt', value: 'x'.repeat(100_000) },
        { name: 'purpose', value: 'nope' },
      ]);
      cases.push(['purpose after the file, unknown', late.body, late.contentType]);
      const noFile = rawMultipart([{ name: 'purpose', value: 'batch' }]);
      cases.push(['no file', noFile.body, noFile.contentType]);
      const noPurpose = rawMultipart([{ name: 'file', filename: 'a.txt', value: 'x' }]);
      cases.push(['no purpose', noPurpose.body, noPurpose.contentType]);
      const textFile = rawMultipart([
        { name: 'purpose', value: 'batch' },
        { name: 'file', value: 'not a file part' },
      ]);
      cases.push(['file as a text field', textFile.body, textFile.contentType]);
      const badExpiry = rawMultipart([
        { name: 'purpose', value: 'batch' },
        { name: 'expires_after[anchor]', value: 'last_used' },
        { name: 'expires_after[seconds]', value: '3600' },
        { name: 'file', filename: 'a.txt', value: 'x' },
      ]);
      cases.push(['bad expires_after anchor', badExpiry.body, badExpiry.contentType]);
      const ok = rawMultipart([
        { name: 'purpose', value: 'batch' },
        { name: 'file', filename: 'a.txt', value: 'x'.repeat(1000) },
      ]);
      cases.push(['truncated body', ok.body.subarray(0, 400), ok.contentType]);
      cases.push(['no boundary', 'garbage', 'multipart/form-data']);
      for (const [what, body, type] of cases) {
        const res = await postRaw(ts, key, body, type);
        expect.soft(res.status, `${what}: ${res.text}`).toBe(400);
        expect.soft(res.body?.error, what).toMatchObject({
          message: expect.any(String),
          type: 'invalid_request_error',
          code: expect.any(String),
        });
        expect.soft(res.body?.error, what).toHaveProperty('param');
      }
      await expectApiError(
        client.files.create({
          file: await toFile(Buffer.from('x'), 'x.txt'),
          purpose: 'batch_output' as 'batch',
        }),
        400,
      );
      expect(await usage(ts, orgId)).toBe(usedBefore);
      expect(await uploading(ts)).toBe(0);
      const noKey = await fetch(`${ts.url}/v1/files`);
      expect(noKey.status).toBe(401);
      expect((await noKey.json()).error.type).toBe('authentication_error');
    });

    it("serves a batch's output file (created through the service) to its project only", async () => {
      const scope = await scopeOf(ts, client);
      const row = await ts.server.services.files.create({
        ...scope,
        purpose: 'batch_output',
        filename: 'batch_output.jsonl',
        body: Readable.from([Buffer.from('{"custom_id":"a"}\n')]),
      });
      const file = await client.files.retrieve(row.id);
      expect(file).toMatchObject({ purpose: 'batch_output', bytes: 18, filename: 'batch_output.jsonl' });
      expect(await (await client.files.content(row.id)).text()).toBe('{"custom_id":"a"}\n');
      await expectApiError(otherProject.files.content(row.id), 404);
      await expectApiError(otherOrg.files.content(row.id), 404);
      const opened = await ts.server.services.files.open(scope, row.id);
      expect(await sha256(opened.body)).toBe(
        createHash('sha256').update('{"custom_id":"a"}\n').digest('hex'),
      );
      await expect(
        ts.server.services.files.get({ ...scope, projectId: 'prj_x' }, row.id),
      ).rejects.toMatchObject({
        status: 404,
      });
    });

    if (opts.after)
      it('leaves the storage backend holding exactly the files that exist', () => opts.after!(ts));
  });
}

async function scopeOf(ts: TestServer, client: OpenAI) {
  const file = await client.files.create({
    file: await toFile(Buffer.from('s'), 's.txt'),
    purpose: 'user_data',
  });
  const [row] = await ts.server.services.database.db.select().from(files).where(eq(files.id, file.id));
  await client.files.delete(file.id);
  return { orgId: row!.orgId, projectId: row!.projectId };
}

async function usage(ts: TestServer, orgId: string): Promise<number> {
  const [row] = await ts.server.services.database.db
    .select()
    .from(fileStorageUsage)
    .where(eq(fileStorageUsage.orgId, orgId));
  return row?.bytes ?? 0;
}

async function uploading(ts: TestServer): Promise<number> {
  const rows = await ts.server.services.database.db.select().from(files).where(eq(files.status, 'uploading'));
  return rows.length;
}
