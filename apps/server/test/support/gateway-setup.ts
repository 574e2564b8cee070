import type { TestServer } from '@maas/testkit';
import { eq, inArray } from 'drizzle-orm';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { usageEvents } from '../../src/modules/metering/schema.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns something truthy; returns it. */
export async function until<T>(
  check: () => Promise<T> | T,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export async function defaultProject(ts: TestServer): Promise<string> {
  const res = await ts.admin.get('/api/v1/projects');
  return res.body.data.find((p: { name: string }) => p.name === 'default').id;
}

/** An API key (scope inference unless told): its id and secret. */
export async function issueKey(
  ts: TestServer,
  body: Record<string, unknown> = {},
  as = ts.admin,
): Promise<{ id: string; key: string }> {
  const projectId = (body.project_id as string | undefined) ?? (await defaultProject(ts));
  const res = await as.post('/api/v1/keys', {
    name: 'gateway-test',
    project_id: projectId,
    scopes: ['inference'],
    ...body,
  });
  if (res.status !== 201) throw new Error(`key: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, key: res.body.key };
}

/** An API key's secret (scope inference unless told). */
export async function createKey(
  ts: TestServer,
  body: Record<string, unknown> = {},
  as = ts.admin,
): Promise<string> {
  return (await issueKey(ts, body, as)).key;
}

export async function createProvider(
  ts: TestServer,
  body: Record<string, unknown>,
  as = ts.admin,
): Promise<string> {
  const res = await as.post('/api/v1/providers', { type: 'openai-compatible', ...body });
  if (res.status !== 201) throw new Error(`provider: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export async function createModel(
  ts: TestServer,
  body: Record<string, unknown>,
  as = ts.admin,
): Promise<string> {
  const res = await as.post('/api/v1/models', { type: 'chat', ...body });
  if (res.status !== 201) throw new Error(`model: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export function openai(
  ts: TestServer,
  apiKey: string,
  options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {},
): OpenAI {
  return new OpenAI({ baseURL: `${ts.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000, ...options });
}

/**
 * An SDK client on a connection pool of its own, destroyed by `close()`: after an abort, the
 * client's pool may open a spare connection that would otherwise hold the server's shutdown.
 */
export function openaiOwnPool(ts: TestServer, apiKey: string): { client: OpenAI; close(): Promise<void> } {
  const agent = new Agent();
  const client = openai(ts, apiKey, {
    fetch: ((url: string, init: RequestInit) =>
      undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch,
  });
  return { client, close: () => agent.destroy() };
}

export type UsageRow = typeof usageEvents.$inferSelect;

/** The usage events of these requests, once every one of them is written. */
export async function usageOf(ts: TestServer, requestIds: string[], timeoutMs = 5_000): Promise<UsageRow[]> {
  const db = ts.server.services.database.db;
  return until(
    async () => {
      await ts.server.services.gateway.stop(); // waits for estimates still running
      await ts.server.services.metering.writer.flush();
      const rows = await db.select().from(usageEvents).where(inArray(usageEvents.requestId, requestIds));
      return rows.length === requestIds.length ? rows : null;
    },
    timeoutMs,
    `usage events for ${requestIds.join(', ')}`,
  );
}

export async function usageFor(ts: TestServer, requestId: string): Promise<UsageRow> {
  return (await usageOf(ts, [requestId]))[0]!;
}

/** The usage events of one key, once there are `count` of them. */
export async function usageOfKey(
  ts: TestServer,
  keyId: string,
  count = 1,
  timeoutMs = 5_000,
): Promise<UsageRow[]> {
  const db = ts.server.services.database.db;
  return until(
    async () => {
      await ts.server.services.gateway.stop();
      await ts.server.services.metering.writer.flush();
      const rows = await db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));
      return rows.length >= count ? rows : null;
    },
    timeoutMs,
    `${count} usage events of ${keyId}`,
  );
}

/** How many usage events a request id has (to check for exactly one). */
export async function usageCount(ts: TestServer, requestId: string): Promise<number> {
  await ts.server.services.metering.writer.flush();
  const rows = await ts.server.services.database.db
    .select()
    .from(usageEvents)
    .where(eq(usageEvents.requestId, requestId));
  return rows.length;
}

/** A raw /v1 call (for headers, odd bodies and error shapes). */
export async function v1(
  ts: TestServer,
  key: string | null,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${ts.url}/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, body: json };
}
